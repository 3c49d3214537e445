"""The compiled synthetic spike draw gives exactly numpy's draws, token after token."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import NSLLM_WORKLOAD, variant

from neurosim.config.loader import load_config
from neurosim.config.workload import Workload
from neurosim.workload.model import build_model_graph
from neurosim.workload.spikes import SyntheticSpikeSource


def _numpy_reference(source: SyntheticSpikeSource, n_tokens: int) -> list[np.ndarray]:
    """The draw written with numpy's own generator calls (uniforms, then geometrics)."""
    rng = np.random.default_rng([source.seed, 2])
    p_active = np.concatenate(source._p_active)
    p_geom = np.concatenate(source._p_geom)
    groups = source.graph.groups
    cap = np.repeat([g.levels - 1 for g in groups], [g.width for g in groups])
    out = []
    for _ in range(n_tokens):
        active = np.flatnonzero(rng.random(p_active.size) < p_active)
        counts = np.zeros(p_active.size, dtype=np.uint16)
        counts[active] = np.minimum(rng.geometric(p_geom[active]), cap[active])
        out.append(counts)
    return out


@pytest.mark.parametrize("mean_active", [1.5, 5.0, 40.0])  # search, mixed, inversion
@pytest.mark.parametrize("seed", [0, 11])
def test_synthetic_draw_equals_numpy(tiny_workload, mean_active, seed):
    firing = {"silent_fraction": 0.3, "mean_active_count": mean_active, "neuron_spread": 0.8}
    workload = variant(tiny_workload, {"spikes.synthetic.default": firing})
    source = SyntheticSpikeSource(build_model_graph(workload), seed)
    drawn = [np.concatenate(t.counts) for t in source.tokens(5)]
    expected = _numpy_reference(source, 5)
    assert all(np.array_equal(a, b) for a, b in zip(drawn, expected, strict=True))
    assert any(c.max() > 1 for c in drawn)


def test_synthetic_draw_equals_numpy_on_the_1_5b_workload():
    source = SyntheticSpikeSource(build_model_graph(load_config(Workload, NSLLM_WORKLOAD)), 3)
    drawn = [np.concatenate(t.counts) for t in source.tokens(2)]
    expected = _numpy_reference(source, 2)
    assert all(np.array_equal(a, b) for a, b in zip(drawn, expected, strict=True))


def _per_site_statistics(graph, seed: int, scale: float = 1.0):
    """The activity statistics drawn site after site with scalar numpy calls: one
    log-normal call per site of nonzero spread, in execution order."""
    rng = np.random.default_rng([seed, 1])
    p_active, p_geom = [], []
    for group in graph.groups:
        firing = graph.workload.spikes.synthetic.for_site(group.site)
        spread = firing.neuron_spread
        f = np.ones(group.width)
        if spread != 0:
            f = rng.lognormal(mean=-0.5 * spread * spread, sigma=spread, size=group.width)
        p_active.append(np.clip((1.0 - firing.silent_fraction) * f * scale, 0.0, 1.0))
        p_geom.append(1.0 / np.maximum(1.0, firing.mean_active_count * f))
    return p_active, p_geom


@pytest.mark.parametrize("seed", [0, 5])
def test_statistics_drawn_at_once_equal_a_draw_site_by_site(tiny_workload, seed):
    """Sites without spread draw nothing; the others draw in turn, as one call does."""
    sites = {"attn_in": {"silent_fraction": 0.2, "mean_active_count": 2.0, "neuron_spread": 0.0}}
    workload = variant(tiny_workload, {"spikes.synthetic.sites": sites})
    for graph in (build_model_graph(workload), build_model_graph(tiny_workload)):
        source = SyntheticSpikeSource(graph, seed, scale=0.7)
        p_active, p_geom = _per_site_statistics(graph, seed, scale=0.7)
        assert all(np.array_equal(a, b) for a, b in zip(source._p_active, p_active, strict=True))
        assert all(np.array_equal(a, b) for a, b in zip(source._p_geom, p_geom, strict=True))
