"""`mapping.chip_partition`: whole layers per chip (`layers`) or every linear over every
chip (`columns`, the default), on the tiny fixtures over two chips, hand-computed."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import TWO_CHIPS, variant

from neurosim.errors import ConfigError
from neurosim.mapping.placement import groups_per_chip, partition_layers
from neurosim.results.report import placement_table
from neurosim.simulate.run import prepare, simulate
from neurosim.workload.spikes import TokenSpikes

CHIPS = TWO_CHIPS

# The tiny workload's groups in execution order, weight bytes (2-bit weights: in x out / 4)
# plus the linear attention's state (2 heads x 8 x 8 x 16 bits = 256 B) where it has one:
#   0 b00.attn_in  48 x (48+16+16) / 4 = 960 + 256 = 1216
#   1 b00.attn_ctx 48 x 48 / 4 = 576      2 b00.mlp_in 48 x 64 / 4 = 768
#   3 b00.mlp_act  64 x 48 / 4 = 768      4..7 the same for b01 (4: 1216)
#   8 head         48 x 100 / 4 = 1200                                 total 7816
GROUP_BYTES = [1216, 576, 768, 768, 1216, 576, 768, 768, 1200]


def _on_chip(tiny_arch, partition: str, **extra):
    """The tiny units on a 2x2 mesh per chip (unit u at node u), two chips, no DRAM."""
    return variant(
        tiny_arch,
        {
            "interconnect.topology": {"kind": "mesh", "width": 2, "height": 2},
            "interconnect.core_nodes": [0, 1, 2, 3],
            "dram": None,
            "onchip_memory.capacity_bytes": "64 KiB",
            "chips": CHIPS,
            "mapping.chip_partition": partition,
        }
        | extra,
    )


def _streamed(tiny_arch, partition: str):
    """The tiny fixture as is (part of the weights stream from DRAM), on two chips."""
    return variant(
        tiny_arch,
        {
            "chips": CHIPS,
            "onchip_memory.capacity_bytes": "4 KiB",
            "mapping.stream_buffer_bytes": "2 KiB",
            "mapping.chip_partition": partition,
        },
    )


class _OneSpike:
    """One neuron of one group's site fires once; every other neuron is silent."""

    def __init__(self, graph, group: int) -> None:
        self.graph, self.group = graph, group

    def token(self, position: int = 0) -> TokenSpikes:
        counts = tuple(np.zeros(g.width, dtype=np.int64) for g in self.graph.groups)
        counts[self.group][0] = 1
        return TokenSpikes(position, None, counts)


def test_groups_fill_chips_in_order_balanced_by_bytes(tiny_arch, tiny_workload):
    prep = prepare(_on_chip(tiny_arch, "layers"), tiny_workload)
    p = prep.placement
    # chip 0 takes 0-3 (3328 B), chip 1 4-8 (4528 B); moving group 4 to chip 0 would load
    # it with 4544 B, more than 4528 B: the split with the smaller largest chip
    assert p.group_chips.tolist() == [[0, 1]] * 4 + [[1, 1]] * 5
    assert p.summary(prep.arch)["groups_per_chip"] == ["0-3", "4-8"]
    assert p.summary(prep.arch)["chips_added_for_layers"] == 0
    for g in range(len(GROUP_BYTES)):
        units = set(p.tile_core[p.group_tiles[g] : p.group_tiles[g + 1]].tolist())
        assert units == ({0, 1, 2, 3} if g < 4 else {4, 5, 6, 7})
    # each chip holds its groups' weights, split over its 4 units exactly as one chip would
    per_unit = np.bincount(p.tile_core, weights=p.tile_bytes)
    assert per_unit.sum() == sum(GROUP_BYTES) - 2 * 256
    assert per_unit[:4].sum() == 960 + 576 + 768 + 768
    # spikes go only to the units of the layer they feed
    assert prep.planner.group_dests[3].tolist() == [0, 1, 2, 3]
    assert prep.planner.group_dests[4].tolist() == [4, 5, 6, 7]
    assert "layers: groups 0-3 | 4-8" in placement_table(p.summary(prep.arch))


@pytest.mark.parametrize(("multicast", "copies"), [("none", 4), ("tree", 1)])
def test_only_the_boundary_site_crosses_chips(tiny_arch, tiny_workload, multicast, copies):
    arch = _on_chip(tiny_arch, "layers", **{"interconnect.multicast": multicast})
    prep = prepare(arch, tiny_workload)
    msg = arch.interconnect.spike_message_bits  # 16
    for group in range(len(GROUP_BYTES)):
        work = prep.planner.plan(_OneSpike(prep.graph, group).token())
        # group 4's site is owned by chip 0 (units 0-3 computed group 3) and read by the
        # 4 units of chip 1: 4 chip-link copies unicast, 1 as a tree; no other site leaves
        # its chip
        expected = copies * msg if group == 4 else 0
        assert work.counts[("chip_link", "bit")] == expected, group
    # with columns every site crosses: the same spike in group 2 reaches chip 1's 4 units
    columns = prepare(_on_chip(tiny_arch, "columns", **{"interconnect.multicast": multicast}),
                      tiny_workload)
    work = columns.planner.plan(_OneSpike(columns.graph, 2).token())
    assert work.counts[("chip_link", "bit")] == copies * msg


def test_columns_is_the_default_and_unchanged(tiny_arch, tiny_workload):
    arch = _streamed(tiny_arch, "columns")
    assert variant(tiny_arch, {"chips": CHIPS}).mapping.chip_partition == "columns"
    # left out of the JSON dump (what config hashes are taken of) at its default
    assert "chip_partition" not in json.loads(arch.model_dump_json())["mapping"]
    layers = _streamed(tiny_arch, "layers")
    assert json.loads(layers.model_dump_json())["mapping"]["chip_partition"] == "layers"
    # figures of the commit before the option existed (analytic, 2 tokens, seed 0); the
    # token rate re-pinned (121466.0958 -> 121906.6195) when each unit got its own chip's
    # on-chip bandwidth instead of a share of every chip's units
    r = simulate(arch, tiny_workload, n_tokens=2, fidelity="analytic")
    assert r.metrics["tokens_per_s"] == 121906.61952944046
    assert r.event_counts["chip_link/bit"] == 78976
    assert "chip_partition" not in r.placement


@pytest.mark.parametrize("design", ["on_chip", "streamed"])
def test_des_equals_analytic(tiny_arch, tiny_workload, design):
    arch = (_on_chip if design == "on_chip" else _streamed)(tiny_arch, "layers")
    runs = {
        (f, c): simulate(arch, tiny_workload, n_tokens=2, fidelity=f, contention=c)
        for f in ("analytic", "des")
        for c in (False, True)
    }
    assert runs["des", False].latencies_s == runs["analytic", False].latencies_s
    assert runs["des", True].event_counts == runs["analytic", True].event_counts
    columns = simulate(
        (_on_chip if design == "on_chip" else _streamed)(tiny_arch, "columns"),
        tiny_workload, n_tokens=2, fidelity="analytic",
    )
    # whole layers per chip: far fewer chip-link bits than every layer on every chip
    chip_bits = runs["analytic", True].event_counts["chip_link/bit"]
    assert 0 < chip_bits < columns.event_counts["chip_link/bit"] / 4


def test_a_group_larger_than_a_chip_spans_two(tiny_arch, tiny_workload):
    arch = _on_chip(
        tiny_arch,
        "layers",
        **{"onchip_memory.capacity_bytes": "1 KiB", "chips": CHIPS | {"count": "auto"}},
    )
    prep = prepare(arch, tiny_workload)
    p = prep.placement
    # group 0 (1216 B) is larger than a chip (1024 B): it takes chips 0 and 1, its
    # columns split over their 8 units; so does the head (1200 B), on the last two chips
    assert p.group_chips[0].tolist() == [0, 2]
    g0 = p.tile_core[p.group_tiles[0] : p.group_tiles[1]]
    assert set(g0.tolist()) == set(range(8))
    assert p.group_chips[-1, 1] == 2 and p.group_chips[-1, 0] + 2 == p.chips
    # 7816 B need 8 chips of 1 KiB by bytes; whole groups need more, said in the summary
    summary = p.summary(prep.arch)
    assert summary["chips"] == p.chips > 8
    assert summary["chips_added_for_layers"] == p.chips - 8
    # every chip's weights and state fit its 1 KiB, and all stay resident
    chip_of = p.tile_core // arch.compute.count
    weights = np.bincount(chip_of, weights=p.tile_bytes, minlength=p.chips)
    state = np.zeros(p.chips)
    for g, (first, span) in enumerate(p.group_chips):
        state[first : first + span] += (256 if g in (0, 4) else 0) / span
    assert np.all(weights + state <= 1024)
    assert p.tile_resident.all() and p.state_resident
    # a fixed chip count too small for whole groups is a config error naming chips.count
    fixed = variant(arch, {"chips.count": 8})
    with pytest.raises(ConfigError, match="chips.count"):
        prepare(fixed, tiny_workload)


def test_partition_and_ranges_by_hand():
    # sizes 3,3,3,3 on 2 chips: 6 each; a 10 on 2 chips with no limit spans both
    spans, chips = partition_layers(np.array([3, 3, 3, 3]), 2, None)
    assert chips == 2 and groups_per_chip(spans, chips) == ["0-1", "2-3"]
    spans, chips = partition_layers(np.array([10]), 2, None)
    assert spans.tolist() == [[0, 2]] and groups_per_chip(spans, chips) == ["0", "0"]
    # capacity 5: no two of 4, 4, 2 share a chip, so 3 chips where bytes alone need 2
    spans, chips = partition_layers(np.array([4, 4, 2]), 2, 5)
    assert chips == 3 and groups_per_chip(spans, chips) == ["0", "1", "2"]
    # 3 equal groups on 4 chips: one group each, the last chip holds none
    spans, chips = partition_layers(np.array([3, 3, 3]), 4, None)
    assert chips == 4 and groups_per_chip(spans, chips) == ["0", "1", "2", ""]


def test_arrays_keep_groups_off_chip_boundaries(tiny_crossbar, tiny_workload):
    per_chip = tiny_crossbar.compute.count * tiny_crossbar.compute.arrays_per_tile
    for partition, straddles in (("columns", True), ("layers", False)):
        arch = variant(tiny_crossbar, {"mapping.chip_partition": partition})
        p = prepare(arch, tiny_workload).placement
        chip_of_array = p.array_slot // per_chip
        spans = [
            np.unique(chip_of_array[p.tile_group[p.array_tile] == g]).size
            for g in np.unique(p.tile_group)
        ]
        group_arrays = np.bincount(np.searchsorted(np.unique(p.tile_group),
                                                   p.tile_group[p.array_tile]))
        # columns fills arrays tightly, so some group straddles two chips though it would
        # fit one; layers starts such a group on a chip of its own
        fits_one = group_arrays <= per_chip
        assert bool(np.any(np.array(spans)[fits_one] > 1)) == straddles
        for fidelity in ("analytic", "des"):
            r = simulate(arch, tiny_workload, n_tokens=1, fidelity=fidelity, contention=False)
            assert r.metrics["tokens_per_s"] > 0
