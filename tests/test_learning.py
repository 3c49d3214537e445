"""Weight updates while decoding: write energy, write time in the schedule, wear-out."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import REPO, variant

from neurosim.errors import ConfigError, UsageError
from neurosim.results.metrics import SECONDS_PER_YEAR, LearningTotals
from neurosim.simulate.run import prepare, simulate
from neurosim.simulate.systems import load_architecture, run_system

CELL_WRITE_J = 1e-12  # tests/fixtures/tiny_crossbar.yaml: write_energy_j
ROW_WRITE_S = 10e-9  # write_time_s
ENDURANCE = 1e9


def learning(rule: str, **params) -> dict:
    return {"learning": {"rule": rule, "where": "off_chip", **params}}


def run(arch, workload, tokens=2, fidelity="analytic", contention=True):
    return simulate(arch, workload, n_tokens=tokens, seed=0, fidelity=fidelity,
                    contention=contention)


def test_local_rule_write_energy_follows_the_hand_computed_cells(tiny_crossbar, tiny_workload):
    """Updates x cells per weight x the cell's write energy; 100x the updates gives 100x the
    write energy and, at the same token rate, 1/100 of the lifetime."""
    fast = variant(tiny_crossbar, {"compute.cell.write_time_s": 0.0})  # same token rate
    frozen = run(fast, tiny_workload, tokens=8)
    cells_per_weight = fast.compute.columns_per_weight(tiny_workload.weights.bits)
    events = frozen.metrics["synops_per_token"] / cells_per_weight  # synaptic events
    tiles = prepare(fast, tiny_workload).placement.n_tiles
    results = {}
    for p in (0.004, 0.4):
        r = run(fast, variant(tiny_workload, learning("local", update_probability=p)), tokens=8)
        updates = r.metrics["weight_updates_per_token"]
        # whole weights per tile, the fractions carried to the next token
        assert abs(updates - p * events) <= tiles / r.tokens
        expected = updates * cells_per_weight * CELL_WRITE_J
        assert r.metrics["write_energy_per_token_j"] == pytest.approx(expected, rel=1e-9)
        assert r.event_counts["array/cell_write"] == updates * cells_per_weight * r.tokens
        assert r.metrics["tokens_per_s"] == pytest.approx(frozen.metrics["tokens_per_s"])
        results[p] = r
    low, high = results[0.004].metrics, results[0.4].metrics
    bound = tiles / 8 / (0.004 * events)  # the carried fractions, relative to the small rate
    assert high["write_energy_per_token_j"] / low["write_energy_per_token_j"] == pytest.approx(
        100, rel=bound)
    assert low["lifetime_years"] / high["lifetime_years"] == pytest.approx(100, rel=1e-9)
    assert "write_energy_per_token_j" not in frozen.metrics  # frozen runs have no such metric


def test_lifetime_is_endurance_over_the_most_written_cells_rate():
    """1e9 cycles; a hottest cell written 10 times in 5 tokens with 2 pulses each, at
    1000 tokens/s for half the time: 4 pulses/token x 500 tokens/s = 2000 pulses/s."""
    t = LearningTotals(updates=50, hottest_cell_writes=10.0, weights=1000, pulses=2,
                       endurance_cycles=ENDURANCE, duty_cycle=0.5)
    assert t.lifetime_years(5, 1000.0) == pytest.approx(1e9 / 2000 / SECONDS_PER_YEAR)
    spread = LearningTotals(updates=50, hottest_cell_writes=10.0, weights=1000, pulses=2,
                            endurance_cycles=ENDURANCE, duty_cycle=0.5, wear_leveling=1000)
    # levelled 1000x, the hottest cell would fall below the mean (0.01 writes/token): the mean
    assert spread.lifetime_years(5, 1000.0) == pytest.approx(1e9 / (0.02 * 500) / SECONDS_PER_YEAR)
    assert LearningTotals(updates=50, hottest_cell_writes=10.0).lifetime_years(5, 1e3) is None


def test_finetune_writes_occupy_the_arrays_in_the_des(tiny_crossbar, tiny_workload):
    """Rewriting every weight each token programs every row of every unit's arrays, one row
    after another: each token lasts that much longer, in both fidelities."""
    arch = variant(tiny_crossbar, {"compute.cell.write_verify_iterations": 3})
    learn = variant(tiny_workload, learning("finetune", weight_fraction=1.0))
    placement = prepare(arch, learn).placement
    arrays = np.bincount(placement.array_slot // arch.compute.arrays_per_tile)
    rows_ps = int(arrays.max()) * arch.compute.rows * round(ROW_WRITE_S * 1e12) * 3
    for fidelity in ("analytic", "des"):
        frozen = run(arch, tiny_workload, fidelity=fidelity, contention=False)
        adaptive = run(arch, learn, fidelity=fidelity, contention=False)
        added = np.array(adaptive.latencies_s) - np.array(frozen.latencies_s)
        assert np.allclose(added, rows_ps * 1e-12, rtol=0, atol=1e-12), fidelity
        assert adaptive.metrics["write_time_per_token_s"] == pytest.approx(rows_ps * 1e-12)
        weights = placement.tile_bytes.sum() * 8 // learn.weights.bits
        assert adaptive.metrics["weight_updates_per_token"] == weights
        cells = arch.compute.columns_per_weight(learn.weights.bits)
        assert adaptive.event_counts["array/cell_write"] == weights * cells * 3 * 2  # x tokens
        assert adaptive.utilization["max compute"] > frozen.utilization["max compute"]
        share = adaptive.metrics["write_time_share"]
        assert share == pytest.approx(rows_ps * 1e-12 / np.mean(adaptive.latencies_s))


def test_streamed_weights_are_written_back_to_their_dram_channel(tiny_arch, tiny_workload):
    """A spiking core writes resident weights into on-chip SRAM and streamed ones back to
    DRAM (one burst per updated weight, at most the tile); SRAM and DRAM do not wear out."""
    learn = variant(tiny_workload, learning("finetune", weight_fraction=1.0, every_tokens=2))
    p = prepare(tiny_arch, learn).placement
    assert p.streamed_weight_bytes > 0 and p.resident_weight_bytes > 0
    frozen = run(tiny_arch, tiny_workload, tokens=4, fidelity="des")
    adaptive = run(tiny_arch, learn, tokens=4, fidelity="des")
    for i, ch in enumerate(tiny_arch.dram_channels):
        streamed = int(p.tile_bytes[~p.tile_resident & (p.tile_channel == i)].sum())
        key = f"dram.{ch.name}/write_bit"
        extra = adaptive.event_counts.get(key, 0) - frozen.event_counts.get(key, 0)
        assert extra == 2 * streamed * 8  # two updates in four tokens, whole tiles
    extra_sram = (adaptive.event_counts["onchip_memory/write_bit"]
                  - frozen.event_counts["onchip_memory/write_bit"])
    assert extra_sram == 2 * p.resident_weight_bytes * 8
    traffic = adaptive.traffic_bytes_per_token["dram_write"] - frozen.traffic_bytes_per_token[
        "dram_write"]
    assert traffic == pytest.approx(2 * p.streamed_weight_bytes / 4)  # per token
    lat = np.array(adaptive.latencies_s) - np.array(frozen.latencies_s)
    assert lat[0] == pytest.approx(0, abs=1e-12) and lat[1] > 0  # updates after tokens 2, 4
    assert "lifetime_years" not in adaptive.metrics


def test_on_chip_rules_do_their_arithmetic_on_the_units(tiny_crossbar, tiny_workload):
    off = run(tiny_crossbar, variant(tiny_workload, learning("local", update_probability=0.5)))
    on_wl = variant(tiny_workload, {"learning": {"rule": "local", "update_probability": 0.5}})
    on = run(tiny_crossbar, on_wl)
    updates = on.metrics["weight_updates_per_token"]
    added = on.metrics["write_energy_per_token_j"] - off.metrics["write_energy_per_token_j"]
    assert added == pytest.approx(updates * 1e-12)  # one state update (1 pJ) per weight


@pytest.mark.parametrize("section, key", [
    ({"rule": "local", "update_probability": 0.1, "weight_fraction": 0.1}, "weight_fraction"),
    ({"rule": "finetune", "update_probability": 0.1}, "update_probability"),
    ({"rule": "finetune", "weight_fraction": 0.1, "adapter_rank": 4}, "adapter_rank"),
    ({"rule": "none", "update_probability": 0.1}, "update_probability"),
    ({"rule": "local", "update_probability": 0.1, "updates_per_token": 5}, "updates_per_token"),
    ({"rule": "finetune", "weight_fraction": 0.1, "updates_per_token": 5}, "updates_per_token"),
    ({"rule": "local", "update_probability": 1.5}, "update_probability"),
])
def test_inconsistent_learning_sections_name_their_key(tiny_workload, section, key):
    with pytest.raises(Exception) as err:
        variant(tiny_workload, {"learning": section})
    assert key in str(err.value)


def test_a_run_shorter_than_the_update_period_is_refused(tiny_crossbar, tiny_workload):
    learn = variant(tiny_workload, learning("finetune", weight_fraction=0.1, every_tokens=10))
    with pytest.raises(UsageError, match="every_tokens"):
        run(tiny_crossbar, learn, tokens=4)


def test_the_gpu_model_refuses_learning(tiny_workload):
    gpu = load_architecture(REPO / "architectures" / "a800.yaml")
    learn = variant(tiny_workload, learning("local", update_probability=0.1))
    with pytest.raises(ConfigError, match="learning"):
        run_system(gpu, learn, n_tokens=1)


def test_frozen_configs_hash_as_before_learning_existed(tiny_workload, tiny_crossbar):
    """No `learning` key (or default verify count) in the JSON dumps config hashes use."""
    assert "learning" not in json.loads(tiny_workload.model_dump_json())
    assert "write_verify_iterations" not in json.dumps(tiny_crossbar.model_dump(mode="json"))
    learn = variant(tiny_workload, learning("local", update_probability=0.1))
    assert learn.model_dump(mode="json")["learning"]["rule"] == "local"
    assert math.isclose(learn.learning.update_probability, 0.1)


def test_set_reaches_the_learning_section_from_the_command_line(tmp_path, capsys):
    from neurosim.cli.app import main

    code = main(["run", str(REPO / "tests/fixtures/tiny_crossbar.yaml"),
                 str(REPO / "tests/fixtures/tiny_workload.yaml"), "--tokens", "2",
                 "--set", "workload.learning.rule=local",
                 "--set", "workload.learning.update_probability=0.01",
                 "--out", str(tmp_path)])
    assert code == 0
    assert "Learning (weight writes)" in capsys.readouterr().out
    metrics = json.loads((tmp_path / "result.json").read_text())["metrics"]
    assert metrics["weight_updates_per_token"] > 0
    code = main(["run", str(REPO / "tests/fixtures/tiny_crossbar.yaml"),
                 str(REPO / "tests/fixtures/tiny_workload.yaml"), "--tokens", "2",
                 "--set", "workload.learning.update_probability=0.01",
                 "--out", str(tmp_path)])
    assert code == 2
    assert "update_probability" in capsys.readouterr().err


@pytest.mark.parametrize("scheme, spikes_of_7", [("binary", 7), ("bitwise", 3)])
def test_the_hottest_weight_sees_one_update_chance_per_spike_of_its_input(
    tiny_crossbar, tiny_workload, scheme, spikes_of_7
):
    """A count of 7 is 7 spikes in binary coding and 3 (0b111) in bitwise coding."""
    from neurosim.simulate.learning import WeightUpdates
    from neurosim.workload.spikes import TokenSpikes

    wl = variant(tiny_workload, {"coding.scheme": scheme, **learning("local",
                                                                   update_probability=0.5)})
    prep = prepare(tiny_crossbar, wl)
    counts = [np.zeros(g.width, dtype=np.int64) for g in prep.graph.groups]
    counts[0][3] = 7
    counts[1][0] = 2
    updates = WeightUpdates(wl.learning, prep.planner, n_tokens=1)
    token = TokenSpikes(position=0, token_id=None, counts=tuple(counts))
    assert updates._hottest(token, 0) == pytest.approx(0.5 * spikes_of_7)


def test_updates_per_token_sets_either_rule_rate_directly(tiny_crossbar, tiny_workload):
    """`--set workload.learning.updates_per_token=N`: 100x N gives 100x the write energy and
    1/100 of the lifetime (same token rate); finetune writes every_tokens x N at a time."""
    fast = variant(tiny_crossbar, {"compute.cell.write_time_s": 0.0})
    tiles = prepare(fast, tiny_workload).placement.n_tiles
    cells = fast.compute.columns_per_weight(tiny_workload.weights.bits)
    local = {}
    for n in (100, 10000):
        r = run(fast, variant(tiny_workload, learning("local", updates_per_token=n)), tokens=8)
        assert abs(r.metrics["weight_updates_per_token"] - n) <= tiles / 8
        assert r.metrics["write_energy_per_token_j"] == pytest.approx(
            r.metrics["weight_updates_per_token"] * cells * CELL_WRITE_J)
        local[n] = r.metrics
    assert local[10000]["write_energy_per_token_j"] / local[100]["write_energy_per_token_j"] == (
        pytest.approx(100, rel=tiles / 8 / 100))
    assert local[100]["lifetime_years"] / local[10000]["lifetime_years"] == pytest.approx(100)
    tune = run(fast, variant(tiny_workload, learning("finetune", updates_per_token=500,
                                                      every_tokens=2)), tokens=4)
    assert tune.metrics["weight_updates_per_token"] == pytest.approx(500, abs=tiles / 4)
    assert tune.event_counts["array/cell_write"] == pytest.approx(4 * 500 * cells, abs=tiles)
