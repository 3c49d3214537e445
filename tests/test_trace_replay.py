"""Replaying the shipped SmolLM2 trace in the simulator: event counts equal spikes x fan-out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurosim.cli.app import load_architecture, load_workload
from neurosim.cli.trace import trace_source_for
from neurosim.errors import TraceError
from neurosim.mapping.placement import place
from neurosim.simulate.run import simulate
from neurosim.trace import open_trace
from neurosim.workload.model import build_model_graph

REPO = Path(__file__).resolve().parent.parent
TRACE = REPO / "workloads" / "traces" / "smollm2-135m_kjv_64tok.nstrace"
SMOLLM2 = REPO / "workloads" / "smollm2-135m.yaml"
VCK190 = REPO / "architectures" / "vck190_nsllm.yaml"
NSLLM = REPO / "workloads" / "nsllm-1.5b.yaml"
N_TOKENS = 12


@pytest.fixture(scope="module")
def reader():
    return open_trace(TRACE)


@pytest.fixture(scope="module")
def workload():
    return load_workload(SMOLLM2)


def test_shipped_trace_matches_the_shipped_workload(reader, workload) -> None:
    assert reader.model_name == "SmolLM2-135M-Instruct"
    assert reader.header["text"]["source"] == "corpus:bible"
    assert reader.n_tokens == 64 and reader.size < 5_000_000
    graph = build_model_graph(workload)
    assert reader.site_names == [g.name for g in graph.groups]
    assert reader.levels == [g.levels for g in graph.groups]
    assert reader.timesteps == [g.timesteps for g in graph.groups]
    assert reader.verify() == 64


def test_replay_event_counts_equal_spikes_times_fan_out(reader, workload) -> None:
    arch = load_architecture(VCK190)
    graph = build_model_graph(workload)
    source = reader.source_for(graph)
    result = simulate(arch, workload, n_tokens=N_TOKENS, fidelity="analytic", source=source)

    placement = place(arch, graph)
    fan_out = np.bincount(
        placement.tile_group, weights=placement.tile_nnz_per_row, minlength=len(graph.groups)
    ).astype(np.int64)  # nonzero weights in the row every input spike of group g drives
    spikes = np.zeros(len(graph.groups), dtype=np.int64)
    for tok in reader.source_for(graph).tokens(N_TOKENS):
        spikes += [int(c.sum()) for c in tok.counts]  # binary coding: a count c is c spikes
    assert result.event_counts["compute/synop"] == int((spikes * fan_out).sum())
    assert result.metrics["spikes_per_token"] * N_TOKENS == pytest.approx(spikes.sum())
    sums = reader.footer["count_sums"]
    assert sum(sums.values()) > spikes.sum()  # the footer totals cover all 64 tokens
    assert result.tokens == N_TOKENS and result.metrics["energy_per_token_j"] > 0


def test_replay_helper_and_mismatched_workload(workload) -> None:
    adopted, source = trace_source_for(TRACE, workload)
    assert adopted == workload
    assert len(list(source.tokens(3))) == 3
    with pytest.raises(TraceError, match="does not match workload 'nsllm-1.5b'"):
        open_trace(TRACE).source_for(build_model_graph(load_workload(NSLLM)))


def test_synthetic_stats_reproduce_the_trace(reader, workload) -> None:
    pytest.importorskip("pandas")
    from neurosim.trace.stats import type_table
    from neurosim.workload.spikes import SyntheticSpikeSource

    graph = build_model_graph(workload)
    measured = type_table(reader).set_index("type")
    tokens = list(SyntheticSpikeSource(graph, seed=0).tokens(16))
    for kind in measured.index:
        idx = [g.index for g in graph.groups if g.site == kind]
        c = np.concatenate([t.counts[i] for t in tokens for i in idx]).astype(np.int64)
        row = measured.loc[kind]
        assert (c == 0).mean() == pytest.approx(row["silent_fraction"], abs=0.01), kind
        assert c[c > 0].mean() == pytest.approx(row["mean_active_count"], rel=0.03), kind
