"""Levels and timesteps per block range: the model graph, token work and bad ranges."""

from __future__ import annotations

import pytest
from conftest import variant

from neurosim.simulate.run import prepare
from neurosim.simulate.systems import run_system
from neurosim.workload.model import build_model_graph


def with_ranges(workload, overrides):
    return variant(workload, {"blocks.overrides": overrides})


def test_block_range_changes_levels_and_timesteps_of_those_blocks_only(tiny_workload):
    wl = with_ranges(tiny_workload, [{"blocks": "0", "sites": {"attn_in": {"levels": 32}}}])
    groups = {g.name: g for g in build_model_graph(wl).groups}
    assert (groups["b00.attn_in"].levels, groups["b00.attn_in"].timesteps) == (32, 31)
    assert (groups["b01.attn_in"].levels, groups["b01.attn_in"].timesteps) == (8, 7)
    assert groups["b00.mlp_act"].timesteps == 3


def test_later_ranges_win(tiny_workload):
    wl = with_ranges(
        tiny_workload,
        [
            {"blocks": "0-1", "sites": {"mlp_act": {"levels": 16}}},
            {"blocks": 1, "sites": {"mlp_act": {"levels": 2}}},
        ],
    )
    groups = {g.name: g for g in build_model_graph(wl).groups}
    assert groups["b00.mlp_act"].levels == 16 and groups["b01.mlp_act"].levels == 2


def test_neuron_updates_follow_the_timesteps_of_each_block(tiny_arch, tiny_workload):
    # per block: attn_in 48 x 7 + attn_ctx 48 x 3 + mlp_in 48 x 7 + mlp_act 64 x 3 = 1008,
    # head 48 x 7 = 336: 2 x 1008 + 336 = 2352 neuron updates per token
    base = run_system(tiny_arch, tiny_workload, n_tokens=1, fidelity="analytic")
    assert base.event_counts["compute/neuron_update"] == 2352
    # block 0's attn_in at L = 32 runs 31 steps instead of 7: + 48 x 24
    wl = with_ranges(tiny_workload, [{"blocks": "0", "sites": {"attn_in": {"levels": 32}}}])
    for fidelity in ("analytic", "des"):
        r = run_system(tiny_arch, wl, n_tokens=1, fidelity=fidelity)
        assert r.event_counts["compute/neuron_update"] == 2352 + 48 * 24
    # spike phases per token: (7 + 3 + 7 + 3) x 2 + 7 = 47, plus 24 in block 0
    assert int(prepare(tiny_arch, tiny_workload).planner.group_T.sum()) == 47
    assert int(prepare(tiny_arch, wl).planner.group_T.sum()) == 47 + 24


@pytest.mark.parametrize(
    ("override", "text"),
    [
        ({"blocks": "0-2", "sites": {"attn_in": {"levels": 4}}}, "model has blocks 0-1"),
        ({"blocks": "0", "sites": {"attn": {"levels": 4}}}, "not a site of the block"),
        ({"blocks": "x", "sites": {"attn_in": {"levels": 4}}}, "range like '0-3'"),
        ({"blocks": "0", "sites": {"attn_in": {"levels": 1}}}, "levels"),
    ],
)
def test_bad_block_ranges_are_named(tiny_workload, override, text):
    with pytest.raises(ValueError, match=text):
        with_ranges(tiny_workload, [override])
