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
