"""Whole-simulator invariants on the tiny fixtures (and a quick look at the real preset).

Conservation (energy parts, spikes, bit-hops), agreement of the two fidelities, DES
never beating the analytic lower bound, determinism, pricing and provenance.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from conftest import NSLLM_WORKLOAD, TINY_ARCH, TINY_WORKLOAD, VCK190_ARCH, variant
from hypothesis import given, settings
from hypothesis import strategies as st

from neurosim.architecture import Architecture
from neurosim.components.routing import build_routing
from neurosim.config.loader import load_config
from neurosim.config.provenance import unsourced_numbers
from neurosim.config.workload import Workload
from neurosim.errors import PricingError, SimulationError
from neurosim.mapping.placement import even_split, place
from neurosim.results.pricing import price
from neurosim.simulate.run import prepare, simulate
from neurosim.workload.coding import spikes_per_timestep
from neurosim.workload.model import build_model_graph
from neurosim.workload.spikes import SyntheticSpikeSource

N_TOKENS = 4
RUNS = [("analytic", True), ("des", True), ("des", False)]
RUN_IDS = ["analytic", "des", "des-nocontention"]

# Variants of the tiny fixtures, as dotted-path updates: (arch updates, workload updates).
VARIANTS = {
    "base": ({}, {}),
    "sparse": ({"mapping.sparse_weight_fetch": True}, {}),
    "ring": (
        {
            "interconnect.topology": {"kind": "ring", "size": 6},
            "interconnect.core_nodes": [0, 1, 3, 4],
        },
        {},
    ),
    "crossbar": ({"interconnect.topology": {"kind": "crossbar", "size": 6}}, {}),
    "bitwise": ({}, {"coding.scheme": "bitwise"}),
    # 256 B of on-chip budget: the 512 B of recurrent state lives in DRAM, nothing pinned
    "state_in_dram": ({"onchip_memory.capacity_bytes": 4096 + 256}, {}),
    # 64 KiB: every weight tile is resident, the tied embedding is read on chip
    "all_resident": ({"onchip_memory.capacity_bytes": 65536}, {}),
    "small_tiles": ({"mapping.tile_bytes": 40, "mapping.stream_buffer_bytes": 512}, {}),
    "no_pinning": ({"mapping.pin_weights": False, "mapping.sparse_weight_fetch": True}, {}),
}


def _configs(tiny_arch, tiny_workload, name: str) -> tuple[Architecture, Workload]:
    arch_updates, workload_updates = VARIANTS[name]
    return variant(tiny_arch, arch_updates), variant(tiny_workload, workload_updates)


def _sim(arch, workload, fidelity, contention=True, n_tokens=N_TOKENS, seed=0):
    return simulate(
        arch, workload, n_tokens=n_tokens, seed=seed, fidelity=fidelity, contention=contention
    )


def test_fixtures_exercise_streaming(tiny_arch, tiny_workload):
    """The tiny fixtures are only useful if some tiles stream and some stay resident."""
    placement = prepare(tiny_arch, tiny_workload).placement
    assert 0 < placement.tile_resident.sum() < placement.n_tiles
    assert set(placement.tile_channel[~placement.tile_resident].tolist()) == {0, 1}
    assert placement.state_resident


# --------------------------------------------------------------------------- conservation


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize(("fidelity", "contention"), RUNS, ids=RUN_IDS)
def test_energy_parts_sum_to_total(tiny_arch, tiny_workload, name, fidelity, contention):
    arch, workload = _configs(tiny_arch, tiny_workload, name)
    r = _sim(arch, workload, fidelity, contention)
    parts = r.energy_per_token_j
    assert all(v >= 0 for v in parts.values())
    assert sum(parts.values()) == pytest.approx(r.metrics["energy_per_token_j"], rel=1e-12)
    dynamic = sum(v for k, v in parts.items() if not k.endswith(".static"))
    static = sum(v for k, v in parts.items() if k.endswith(".static"))
    assert dynamic == pytest.approx(r.metrics["dynamic_energy_per_token_j"], rel=1e-12)
    assert static == pytest.approx(r.metrics["static_energy_per_token_j"], rel=1e-12)


def _expected_spikes_and_bit_hops(arch, workload, n_tokens, seed):
    """Spikes and interconnect bit-hops per run, recomputed from the counts and routes.

    Spikes: the coding of each group's counts. Bit-hops: every spike goes from its
    owner's node to every other compute unit's node (one address-event message per
    destination, `hop_counts(src, dst)` links each), plus every streamed weight tile (dense
    fetch, whole DRAM bursts) from its channel's memory controller to its unit.
    """
    graph = build_model_graph(workload)
    placement = place(arch, graph)
    routing = build_routing(arch.interconnect.topology)
    nodes = np.array(arch.core_nodes)
    cores = arch.compute.count
    # (cores,) sum over destinations
    fan_hops = routing.hop_counts(nodes[:, None], nodes[None, :])[0].sum(axis=1)
    scheme = workload.coding.scheme
    msg = arch.interconnect.spike_message_bits
    spikes = 0
    spike_bit_hops = 0
    for token in SyntheticSpikeSource(graph, seed).tokens(n_tokens):
        for group, counts in zip(graph.groups, token.counts, strict=True):
            spikes += int(spikes_per_timestep(counts, group.timesteps, scheme).sum())
            bounds = even_split(group.width, cores)
            for c in range(cores):
                own = counts[bounds[c] : bounds[c + 1]]
                fired = int(spikes_per_timestep(own, group.timesteps, scheme).sum())
                spike_bit_hops += fired * int(fan_hops[c]) * msg
    streamed = np.flatnonzero(~placement.tile_resident)
    attach = np.array([ch.attach_node for ch in arch.dram.channels])
    src = attach[placement.tile_channel[streamed]]
    dst = nodes[placement.tile_core[streamed]]
    bursts = np.array([ch.burst_bytes for ch in arch.dram.channels])
    burst = bursts[placement.tile_channel[streamed]]
    moved = -(-placement.tile_bytes[streamed] // burst) * burst  # DMA moves whole bursts
    weight_bit_hops = int((moved * 8 * routing.hop_counts(src, dst)[0]).sum())
    return spikes, spike_bit_hops + n_tokens * weight_bit_hops


@pytest.mark.parametrize("name", ["base", "ring", "crossbar", "bitwise", "all_resident"])
@pytest.mark.parametrize(("fidelity", "contention"), RUNS, ids=RUN_IDS)
def test_spikes_and_bit_hops_conserved(tiny_arch, tiny_workload, name, fidelity, contention):
    arch, workload = _configs(tiny_arch, tiny_workload, name)
    r = _sim(arch, workload, fidelity, contention, seed=3)
    spikes, bit_hops = _expected_spikes_and_bit_hops(arch, workload, N_TOKENS, seed=3)
    assert spikes > 0
    assert r.metrics["spikes_per_token"] == spikes / N_TOKENS
    assert r.event_counts["interconnect/bit_hop"] == bit_hops


@pytest.mark.parametrize("name", list(VARIANTS))
def test_event_counts_equal_across_fidelities(tiny_arch, tiny_workload, name):
    arch, workload = _configs(tiny_arch, tiny_workload, name)
    reference = _sim(arch, workload, "analytic").event_counts
    assert reference["interconnect/bit_hop"] > 0
    for fidelity, contention in RUNS[1:]:
        r = _sim(arch, workload, fidelity, contention)
        assert r.event_counts == reference, (fidelity, contention)


def test_synops_follow_spikes(tiny_arch, tiny_workload):
    """Every spike of a group meets each nonzero weight of its row in every tile."""
    graph = build_model_graph(tiny_workload)
    placement = place(tiny_arch, graph)
    nnz_per_group = np.bincount(
        placement.tile_group, weights=placement.tile_nnz_per_row, minlength=len(graph.groups)
    )
    expected = 0
    for token in SyntheticSpikeSource(graph, 0).tokens(N_TOKENS):
        for g, (group, counts) in enumerate(zip(graph.groups, token.counts, strict=True)):
            fired = int(spikes_per_timestep(counts, group.timesteps, "binary").sum())
            expected += fired * int(nnz_per_group[g])
    r = _sim(tiny_arch, tiny_workload, "des")
    assert r.event_counts["compute/synop"] == expected
    assert r.metrics["synops_per_token"] == expected / N_TOKENS


# --------------------------------------------------------------------------- fidelities


@pytest.mark.parametrize("name", list(VARIANTS))
def test_des_without_contention_equals_analytic(tiny_arch, tiny_workload, name):
    arch, workload = _configs(tiny_arch, tiny_workload, name)
    analytic = _sim(arch, workload, "analytic", contention=False)
    des = _sim(arch, workload, "des", contention=False)
    assert des.latencies_s == analytic.latencies_s
    assert des.metrics["tokens_per_s"] == analytic.metrics["tokens_per_s"]


@settings(deadline=None, max_examples=20)
@given(
    seed=st.integers(min_value=0, max_value=2**31 - 1),
    stream_buffer=st.sampled_from([512, 1024, 2048, 4096, 8192]),
    tile_bytes=st.sampled_from([16, 40, 100, 256, 2048]),
    sparse=st.booleans(),
    silent=st.floats(min_value=0.0, max_value=0.95),
    mean_active=st.floats(min_value=1.01, max_value=6.0),
    spread=st.floats(min_value=0.0, max_value=1.0),
)
def test_des_never_faster_than_analytic(
    tiny_arch, tiny_workload, seed, stream_buffer, tile_bytes, sparse, silent, mean_active, spread
):
    arch = variant(
        tiny_arch,
        {
            "mapping.stream_buffer_bytes": stream_buffer,
            "mapping.tile_bytes": tile_bytes,
            "mapping.sparse_weight_fetch": sparse,
        },
    )
    firing = {"silent_fraction": silent, "mean_active_count": mean_active, "neuron_spread": spread}
    workload = variant(tiny_workload, {"spikes.synthetic.default": firing})
    analytic = _sim(arch, workload, "analytic", n_tokens=3, seed=seed)
    des = _sim(arch, workload, "des", n_tokens=3, seed=seed)
    for d, a in zip(des.latencies_s, analytic.latencies_s, strict=True):
        assert d >= a
    assert des.event_counts == analytic.event_counts


# --------------------------------------------------------------------------- determinism


def _comparable(result) -> dict:
    record = json.loads(result.to_json())
    del record["wall_s"]
    return record


@pytest.mark.parametrize("fidelity", ["analytic", "des"])
def test_same_seed_same_result(tiny_arch, tiny_workload, fidelity):
    first = _sim(tiny_arch, tiny_workload, fidelity, seed=7)
    second = _sim(tiny_arch, tiny_workload, fidelity, seed=7)
    assert _comparable(first) == _comparable(second)
    assert first.metrics == second.metrics
    assert first.event_counts == second.event_counts
    assert first.latencies_s == second.latencies_s


def test_configs_reload_identically(tiny_arch, tiny_workload):
    again = load_config(Architecture, TINY_ARCH), load_config(Workload, TINY_WORKLOAD)
    assert again == (tiny_arch, tiny_workload)
    first = _sim(tiny_arch, tiny_workload, "des", seed=1)
    second = _sim(*again, "des", seed=1)
    assert _comparable(first) == _comparable(second)


def test_different_seed_changes_spikes(tiny_arch, tiny_workload):
    graph = build_model_graph(tiny_workload)
    a = next(iter(SyntheticSpikeSource(graph, 0).tokens(1)))
    b = next(iter(SyntheticSpikeSource(graph, 1).tokens(1)))
    assert any(not np.array_equal(x, y) for x, y in zip(a.counts, b.counts, strict=True))
    r0 = _sim(tiny_arch, tiny_workload, "des", seed=0)
    r1 = _sim(tiny_arch, tiny_workload, "des", seed=1)
    assert r0.metrics["spikes_per_token"] != r1.metrics["spikes_per_token"]
    assert r0.event_counts["compute/synop"] != r1.event_counts["compute/synop"]
    assert r0.config_hash != r1.config_hash


# --------------------------------------------------------------------------- pricing


def test_unpriced_event_is_an_error(tiny_arch):
    with pytest.raises(PricingError, match="teleport") as info:
        price([(("compute", "teleport"), 1)], tiny_arch, 0.0)
    assert info.value.section == "compute.energy"
    with pytest.raises(PricingError, match="dram.channels"):
        price([(("dram.nope", "read_bit"), 8)], tiny_arch, 0.0)
    with pytest.raises(PricingError):
        price([(("photonics", "bit"), 1)], tiny_arch, 0.0)
    # a zero count of an unknown event is still an error, never silently free
    with pytest.raises(PricingError):
        price([(("compute", "teleport"), 0)], tiny_arch, 0.0)


# --------------------------------------------------------------------------- real preset


@pytest.fixture(scope="module")
def vck190():
    return load_config(Architecture, VCK190_ARCH), load_config(Workload, NSLLM_WORKLOAD)


def test_vck190_preset_conserves_energy_and_spikes(vck190):
    arch, workload = vck190
    r = _sim(arch, workload, "analytic", n_tokens=2, seed=0)
    total = r.metrics["energy_per_token_j"]
    assert total > 0
    assert sum(r.energy_per_token_j.values()) == pytest.approx(total, rel=1e-12)
    graph = build_model_graph(workload)
    spikes = sum(
        int(spikes_per_timestep(counts, group.timesteps, workload.coding.scheme).sum())
        for token in SyntheticSpikeSource(graph, 0).tokens(2)
        for group, counts in zip(graph.groups, token.counts, strict=True)
    )
    assert r.metrics["spikes_per_token"] == spikes / 2


@pytest.mark.parametrize("path", [VCK190_ARCH, NSLLM_WORKLOAD, TINY_ARCH, TINY_WORKLOAD])
def test_presets_have_no_unsourced_numbers(path):
    data = yaml.safe_load(path.read_text())
    assert data["provenance"]
    assert unsourced_numbers(data) == []


def test_unsourced_numbers_are_found():
    data = yaml.safe_load(VCK190_ARCH.read_text())
    del data["provenance"]["compute.lanes"]
    data["provenance"].pop("dram.channels[2].latency_s")
    assert unsourced_numbers(data) == ["compute.lanes", "dram.channels[2].latency_s"]


# --------------------------------------------------------------------------- regressions


def test_dram_bits_are_whole_bursts_in_dense_and_sparse_fetch(tiny_arch, tiny_workload):
    """With every input active, fetching 'only active rows' fetches every row: the DRAM
    bits read (and so DRAM energy) must equal dense streaming's. Dense tiles of 144 B on
    64 B bursts take 3 bursts (192 B) of transfer time but are charged 144 B of energy."""
    everyone_fires = {"silent_fraction": 0.0, "mean_active_count": 3.0, "neuron_spread": 0.0}
    workload = variant(
        tiny_workload,
        {"spikes.synthetic.default": everyone_fires, "spikes.synthetic.sites": {}},
    )
    dense = _sim(tiny_arch, workload, "analytic", n_tokens=1)
    sparse_arch = variant(tiny_arch, {"mapping.sparse_weight_fetch": True})
    sparse = _sim(sparse_arch, workload, "analytic", n_tokens=1)
    dram = [k for k in dense.event_counts if k.startswith("dram.")]
    assert {k: dense.event_counts[k] for k in dram} == {k: sparse.event_counts[k] for k in dram}


@pytest.mark.parametrize("fidelity", ["analytic", "des"])
def test_zero_tokens_is_a_clear_error(tiny_arch, tiny_workload, fidelity):
    with pytest.raises(SimulationError, match="n_tokens must be at least 1"):
        _sim(tiny_arch, tiny_workload, fidelity, n_tokens=0)
