"""The near-memory engine kind: one module, one registration, one preset; its time and
energy follow words read, checked by hand on the tiny system."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import variant

from neurosim.architecture import Architecture, NearMemoryEngineConfig
from neurosim.components.registry import COMPUTE_KINDS
from neurosim.config.loader import load_config
from neurosim.results.pricing import price_table
from neurosim.simulate.run import prepare, simulate
from neurosim.workload.spikes import TokenSpikes

PRESET = Path(__file__).resolve().parent.parent / "architectures" / "vck190_near_memory.yaml"

ENGINE = {
    "kind": "near_memory_engine",
    "count": 4,
    "clock_hz": "1 GHz",
    "macros": 2,
    "word_bits": 8,
    "neuron_updates_per_cycle": 4,
    "pipeline_depth_cycles": 4,
    "skip_zero_weights": True,
    "energy": {
        "word_read_j": "2 pJ",
        "add_j": "0.5 pJ",
        "neuron_update_j": "1.5 pJ",
        "state_update_j": "1 pJ",
    },
    "static_power_w": "0.1 W",
}


@pytest.fixture(scope="module")
def engine_arch(tiny_arch) -> Architecture:
    return variant(tiny_arch, {"compute": ENGINE})


def test_registered_and_priced(engine_arch):
    assert COMPUTE_KINDS["near_memory_engine"] is NearMemoryEngineConfig
    assert isinstance(engine_arch.compute, NearMemoryEngineConfig)
    table = price_table(engine_arch)
    assert table[("near_memory", "word_read")] == 2e-12
    assert table[("compute", "synop")] == 0.5e-12


def test_item_time_and_words_by_hand(engine_arch, tiny_workload):
    """Group 0, 3 neurons fire at timestep 0. Each tile of c output columns of 2-bit
    weights reads ceil(2c / 8) words per spike: 3 x ceil(c / 4) words, spread over 2
    macros at one word per cycle of 1 ns."""
    prep = prepare(engine_arch, tiny_workload)
    graph, p = prep.graph, prep.placement
    counts = [np.zeros(g.width, dtype=np.uint16) for g in graph.groups]
    counts[0][:3] = 1
    work = prep.planner.plan(TokenSpikes(position=0, token_id=None, counts=tuple(counts)))
    T = graph.groups[0].timesteps
    for k in range(p.group_tiles[0], p.group_tiles[1]):
        c = int(p.tile_cols[k])
        words = 3 * -(-(2 * c) // 8)
        i = int(work.item_offsets[k])
        assert work.item_events[("near_memory", "word_read")][i] == words
        assert work.item_ps[i] == -(-words // 2) * 1_000
        assert work.item_ps[i + 1 : i + T].sum() == 0  # a count of 1 fires once


def test_fidelities_agree_and_energy_adds_up(engine_arch, tiny_workload):
    ra = simulate(engine_arch, tiny_workload, n_tokens=2, fidelity="analytic", contention=False)
    rd = simulate(engine_arch, tiny_workload, n_tokens=2, fidelity="des", contention=False)
    assert ra.latencies_s == rd.latencies_s
    bound = simulate(engine_arch, tiny_workload, n_tokens=2, fidelity="analytic")
    contended = simulate(engine_arch, tiny_workload, n_tokens=2, fidelity="des")
    assert sum(bound.latencies_s) <= sum(contended.latencies_s)
    assert ra.event_counts == rd.event_counts
    words = ra.event_counts["near_memory/word_read"]
    assert ra.energy_per_token_j["near_memory.word_read"] == pytest.approx(
        words * 2e-12 / 2, rel=1e-12
    )


def test_wider_words_are_faster(engine_arch, tiny_workload):
    narrow = simulate(engine_arch, tiny_workload, n_tokens=1, fidelity="analytic")
    wide = simulate(
        variant(engine_arch, {"compute.word_bits": 64}), tiny_workload, 1, fidelity="analytic"
    )
    assert wide.event_counts["near_memory/word_read"] < narrow.event_counts["near_memory/word_read"]
    assert wide.metrics["latency_mean_s"] <= narrow.metrics["latency_mean_s"]


def test_preset_loads_and_runs():
    arch = load_config(Architecture, PRESET)
    assert arch.compute.kind == "near_memory_engine"
