"""Compute-engine efficiency: pipeline fill per tile, lane utilisation, per-layer overhead."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import variant

from neurosim.simulate.run import prepare
from neurosim.simulate.systems import run_system

MEM_FREE = 0.0  # on-chip weight reads take no time in the hand-computed item cases


def core(tiny_arch, **fields):
    return variant(tiny_arch, {f"compute.{k}": v for k, v in fields.items()}).compute


def test_pipeline_fill_per_tile_by_hand(tiny_arch):
    # 16 lanes at 1 GHz, pipeline depth 4: 100 synops = ceil(100 / 16) = 7 cycles = 7 ns,
    # plus 4 cycles of fill and drain per working item; an idle item pays nothing
    synops, spikes, cols = np.array([100, 0]), np.array([10, 0]), np.array([10, 10])
    per_layer = core(tiny_arch).item_ps(synops, spikes, cols, 2.0, MEM_FREE)
    per_tile = core(tiny_arch, pipeline_fill="per_tile").item_ps(
        synops, spikes, cols, 2.0, MEM_FREE
    )
    assert per_layer.tolist() == [7000, 0]
    assert per_tile.tolist() == [11000, 0]


def test_lanes_idle_on_layers_narrower_than_the_lanes(tiny_arch):
    # 10 spikes into a 10-column tile: packed lanes need ceil(100 / 16) = 7 cycles; lanes
    # that span a spike's columns use 10 of 16 lanes for 10 cycles
    synops, spikes, cols = np.array([100, 640]), np.array([10, 10]), np.array([10, 64])
    packed = core(tiny_arch).item_ps(synops, spikes, cols, 2.0, MEM_FREE)
    columns = core(tiny_arch, lane_mapping="columns").item_ps(
        synops, spikes, cols, 2.0, MEM_FREE
    )
    assert packed.tolist() == [7000, 40000]
    assert columns.tolist() == [10000, 40000]  # a 64-column tile fills the lanes: no loss
    half = core(tiny_arch, lane_efficiency=0.5).item_ps(synops, spikes, cols, 2.0, MEM_FREE)
    assert half.tolist() == [14000, 80000]


def test_layer_end_pays_drain_and_fixed_overhead(tiny_arch, tiny_workload):
    base = prepare(tiny_arch, tiny_workload).planner.epilogue
    slow = variant(tiny_arch, {"compute.layer_overhead_s": "50 ns"})
    with_overhead = prepare(slow, tiny_workload).planner.epilogue
    held = base > 0  # every (layer, unit) holding tiles pays the overhead once
    assert np.all((with_overhead - base)[held] == 50_000)
    tiles = variant(tiny_arch, {"compute.pipeline_fill": "per_tile"})
    per_tile = prepare(tiles, tiny_workload).planner.epilogue
    assert np.all((base - per_tile)[held] == 4 * 1000)  # the 4-cycle drain moves to the items


@pytest.mark.parametrize("fidelity", ["analytic", "des"])
def test_per_tile_fill_costs_time_in_a_compute_bound_run(tiny_arch, tiny_workload, fidelity):
    # everything on chip and fast memory: the cores bound the token, so fill shows
    arch = variant(
        tiny_arch,
        {"onchip_memory.capacity_bytes": "1 MiB", "mapping.stream_buffer_bytes": "4 KiB"},
    )
    slow = variant(arch, {"compute.pipeline_fill": "per_tile", "compute.pipeline_depth_cycles": 64})
    fast = run_system(arch, tiny_workload, n_tokens=1, fidelity=fidelity, contention=False)
    filled = run_system(slow, tiny_workload, n_tokens=1, fidelity=fidelity, contention=False)
    assert filled.metrics["latency_mean_s"] > fast.metrics["latency_mean_s"]
