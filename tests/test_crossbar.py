"""Analog crossbar tiles: a hand-computed activation, ADC sharing, fidelity invariants."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurosim.architecture import Architecture
from neurosim.config.overrides import with_overrides
from neurosim.config.workload import Workload
from neurosim.simulate.run import prepare, simulate
from neurosim.workload.spikes import TokenSpikes

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def crossbar(tiny_crossbar) -> Architecture:
    return tiny_crossbar


@pytest.fixture
def workload(tiny_workload) -> Workload:
    return tiny_workload


def test_one_activation_of_a_known_array(crossbar, workload):
    """Group 0 (48-wide site, 16-row arrays): make exactly 5 neurons of row chunk 0 fire
    once. Each array of that chunk reads once: cells = 5 rows x its columns, every one of
    its columns is converted, and the time is one read plus ceil(16 / 2 ADCs) = 8
    conversions of 1 ns."""
    prep = prepare(crossbar, workload)
    graph, p, planner = prep.graph, prep.placement, prep.planner
    counts = [np.zeros(g.width, dtype=np.uint16) for g in graph.groups]
    counts[0][:5] = 1
    work = planner.plan(TokenSpikes(position=0, token_id=None, counts=tuple(counts)))
    t0, t1 = p.group_tiles[0], p.group_tiles[1]
    cols_chunk0 = p.array_cols[0][:, 0]  # physical columns of the row-chunk-0 arrays per tile
    arrays_chunk0 = p.array_counts[0][:, 0]
    i0, i1 = work.item_offsets[t0], work.item_offsets[t1]
    T = graph.groups[0].timesteps
    items = slice(i0, i1)
    cells = work.item_events[("array", "cell_read")][items].reshape(-1, T)
    conv = work.item_events[("adc", "conversion")][items].reshape(-1, T)
    drives = work.item_events[("dac", "row_drive")][items].reshape(-1, T)
    assert cells[:, 0].tolist() == (5 * cols_chunk0).tolist()
    assert conv[:, 0].tolist() == cols_chunk0.tolist()
    assert drives[:, 0].tolist() == (5 * arrays_chunk0).tolist()
    assert cells[:, 1:].sum() == 0  # a count of 1 fires at the first timestep only
    durations = work.item_ps[items].reshape(-1, T)[:, 0]
    expected = np.where(arrays_chunk0 > 0, 100_000 + 8 * 1_000, 0)
    assert durations.tolist() == expected.tolist()
    # energy of those events: 2 fJ per cell, 1 pJ per conversion, 0.4 pJ per row drive
    r = simulate(crossbar, workload, n_tokens=1, fidelity="analytic")
    assert r.metrics["energy_per_token_j"] > 0


def test_fewer_adcs_less_adc_energy_and_area_more_latency(crossbar, workload):
    rows = []
    for per_adc in (2, 4, 8, 16):
        arch = with_overrides(
            crossbar, {"adc.columns_per_adc": per_adc, "adc.count": 16 // per_adc}
        )
        r = simulate(arch, workload, n_tokens=2, fidelity="analytic")
        adc_j = sum(v for k, v in r.energy_per_token_j.items() if k.startswith("adc."))
        rows.append((per_adc, adc_j, r.placement["area_m2"]["adc"], r.metrics["latency_mean_s"]))
    for (_, e1, a1, t1), (_, e2, a2, t2) in zip(rows, rows[1:], strict=False):
        assert e2 < e1 and a2 < a1 and t2 > t1, rows


@pytest.mark.parametrize("sram", [False, True])
def test_fidelities_agree_without_contention(crossbar, workload, sram):
    arch = crossbar
    if sram:
        arch = with_overrides(
            crossbar,
            {
                "compute": {
                    "kind": "sram_cim_tile",
                    "count": 4,
                    "arrays_per_tile": 4,
                    "rows": 16,
                    "cols": 16,
                    "cycle_time_s": 5e-9,
                    "clock_hz": 1e9,
                    "neuron_updates_per_cycle": 4,
                    "pipeline_depth_cycles": 2,
                    "static_power_w": 0.01,
                    "energy": {
                        "mac_j": 1e-15,
                        "column_accumulate_j": 5e-14,
                        "neuron_update_j": 1e-12,
                        "state_update_j": 1e-12,
                    },
                }
            },
        )
    ra = simulate(arch, workload, n_tokens=3, fidelity="analytic")
    rd = simulate(arch, workload, n_tokens=3, fidelity="des", contention=False)
    rc = simulate(arch, workload, n_tokens=3, fidelity="des")
    assert ra.latencies_s == rd.latencies_s
    assert all(c >= a for c, a in zip(rc.latencies_s, ra.latencies_s, strict=True))
    assert ra.event_counts == rd.event_counts == rc.event_counts
    total = sum(ra.energy_per_token_j.values())
    assert total == pytest.approx(ra.metrics["energy_per_token_j"], rel=1e-12)


def test_chip_count_follows_the_arrays(crossbar, workload):
    r = simulate(crossbar, workload, n_tokens=1, fidelity="analytic")
    per_chip = crossbar.compute.count * crossbar.compute.arrays_per_tile
    assert r.placement["chips"] == -(-r.placement["arrays"] // per_chip)
