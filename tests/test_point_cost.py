"""The fast paths of a sweep point: placement's tile cutting and DRAM channel assignment
give exactly what the rules written out as loops here give; workers keep freed memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neurosim.mapping.placement import even_split, place
from neurosim.workload.model import build_model_graph


def reference_tiles(graph, cores: int, tile_bits: int, bits: int):
    """(cols, core, linear, group) per tile: each linear's columns split evenly over the
    cores, each core's share cut into tiles of at most `tile_bits`, a group's tiles taken
    round by round (every core's r-th tile, core by core)."""
    tiles = []
    linear = 0
    for group in graph.groups:
        per_core = [[] for _ in range(cores)]
        for lin in group.linears:
            bounds = even_split(lin.out_features, cores)
            max_cols = max(1, tile_bits // (lin.in_features * bits))
            for c in range(cores):
                for s in range(int(bounds[c]), int(bounds[c + 1]), max_cols):
                    per_core[c].append((linear, min(max_cols, int(bounds[c + 1]) - s)))
            linear += 1
        for r in range(max(len(t) for t in per_core)):
            for c in range(cores):
                if r < len(per_core[c]):
                    lin_idx, ncols = per_core[c][r]
                    tiles.append((ncols, c, lin_idx, group.index))
    return np.array(tiles, dtype=np.int64).T


def reference_channels(streamed, tile_bytes, bandwidth):
    """Each streamed tile, in order, to the channel that would finish it first."""
    assigned = np.zeros(len(bandwidth))
    out = np.full(tile_bytes.size, -1, dtype=np.int64)
    for i in streamed:
        ch = int(np.argmin((assigned + tile_bytes[i]) / bandwidth))
        out[i] = ch
        assigned[ch] += tile_bytes[i]
    return out


@pytest.mark.parametrize("tile_bytes", [64, 100, 256, 1000, 4096])
@pytest.mark.parametrize("cores", [1, 3, 4])
@pytest.mark.parametrize("bandwidths", [("2 GB/s", "4 GB/s"), ("3 GB/s", "3 GB/s")])
def test_place_matches_the_rules(
    tiny_arch, tiny_workload, make_variant, tile_bytes, cores, bandwidths
):
    arch = make_variant(
        tiny_arch,
        {
            "mapping.tile_bytes": tile_bytes,
            "mapping.stream_buffer_bytes": 4096,
            "compute.count": cores,
            "interconnect.core_nodes": [0, 1, 3, 4][:cores],
            "dram.channels[0].peak_bandwidth_bytes_per_s": bandwidths[0],
            "dram.channels[1].peak_bandwidth_bytes_per_s": bandwidths[1],
        },
    )
    graph = build_model_graph(tiny_workload)
    p = place(arch, graph)
    cols, core, linear, group = reference_tiles(graph, cores, tile_bytes * 8, graph.weight_bits)
    np.testing.assert_array_equal(p.tile_cols, cols)
    np.testing.assert_array_equal(p.tile_core, core)
    np.testing.assert_array_equal(p.tile_linear, linear)
    np.testing.assert_array_equal(p.tile_group, group)
    assert p.tile_cols.dtype == p.tile_core.dtype == np.int64
    bandwidth = np.array([ch.sustained_bandwidth_bytes_per_s for ch in arch.dram_channels])
    expect = reference_channels(np.flatnonzero(~p.tile_resident), p.tile_bytes, bandwidth)
    np.testing.assert_array_equal(p.tile_channel, expect)
    assert (p.tile_channel >= 0).sum() == (~p.tile_resident).sum() > 0


FAULTS = """
import resource, sys
import numpy as np
from neurosim.sweep.worker import keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else None
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):  # what a point does: a few MiB in arrays of mixed sizes, then free
    arrays = [np.ones(n << 15) for n in (1, 12, 2, 16, 4, 8, 3)]  # n x 256 KiB
    del arrays
print(kept, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc allocator tuning")
def test_workers_reuse_freed_memory_instead_of_faulting_it_in_again():
    """A sweep worker keeps freed blocks: allocating and freeing the same arrays again
    and again no longer costs page faults each time."""
    faults = {}
    for mode in ("keep", "default"):
        out = subprocess.run(
            [sys.executable, "-c", FAULTS, mode], capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        ).stdout.split()
        faults[mode] = int(out[-1])
        if mode == "keep":
            assert out[0] == "True"
    assert faults["keep"] * 10 < faults["default"], faults
