"""Spike sources: per-token integer spike counts for every group of a model.

A source yields `TokenSpikes`, one per decoded token, in order; memory stays bounded
because tokens are produced one at a time. The seeded synthetic generator draws counts
from per-site statistics; trace readers (real model activations) yield the same type.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numba import njit

from neurosim.config.workload import SiteFiringConfig
from neurosim.workload.model import ModelGraph


@dataclass(frozen=True, slots=True)
class TokenSpikes:
    """Integer spike counts of one token: `counts[g]` holds group g's site (one per neuron)."""

    position: int
    token_id: int | None
    counts: tuple[np.ndarray, ...]


class SpikeSource(Protocol):
    """Anything that yields per-token spike counts for a model graph."""

    def tokens(self, n_tokens: int) -> Iterator[TokenSpikes]:
        """Yield `n_tokens` tokens in order."""
        ...


def synthetic_label(seed: int, scale: float = 1.0) -> str:
    """The spike-source label of a synthetic run (part of a result's config hash)."""
    return f"synthetic:seed={seed}:scale={scale}"


def _neuron_factors(rng: np.random.Generator, spreads: list[float], widths: list[int]):
    """Per-neuron log-normal activity factors with mean 1 (fixed for a run), site after
    site (`widths[i]` neurons of log-normal spread `spreads[i]`; 0 draws nothing)."""
    factors = np.ones(sum(widths))
    start = 0
    for spread, width in zip(spreads, widths, strict=True):
        if spread != 0:
            mean = -0.5 * spread * spread
            factors[start : start + width] = rng.lognormal(mean=mean, sigma=spread, size=width)
        start += width
    return factors


@njit(cache=True, nogil=True)
def _log1m(p):  # pragma: no cover - compiled
    """log(1 - p), by the same libm call numpy's geometric inversion makes."""
    return np.log1p(-p)


@njit(cache=True, nogil=True)
def _draw_counts(rng, p_active, p_geom, log_q, cap, counts):  # pragma: no cover - compiled
    """One token's counts, drawn exactly as `rng.random(n) < p_active`, then
    `rng.geometric(p_geom[active])` clipped at `cap`: the same generator calls in the
    same order (numpy's search for p >= 1/3, inversion of an exponential below), with
    log(1 - p) computed once per neuron instead of once per draw."""
    u = rng.random(p_active.size)
    for i in range(p_active.size):
        if u[i] >= p_active[i]:
            continue
        p = p_geom[i]
        if p >= 0.333333333333333333333333:
            x = 1
            total = prod = p
            q = 1.0 - p
            v = rng.random()
            while v > total and x < cap[i]:
                prod *= q
                total += prod
                x += 1
            counts[i] = x
        else:
            z = np.ceil(-rng.standard_exponential() / log_q[i])
            counts[i] = cap[i] if z >= cap[i] else np.int64(z)


class SyntheticSpikeSource:
    """Seeded generator of counts: zero-inflated geometric counts, clipped at L-1.

    For neuron i of a site with silent fraction s, mean active count m and factor f_i:
    the neuron is active with probability min(1, (1-s) f_i), and an active count is
    geometric on {1, 2, ...} with mean max(1, m f_i), clipped to L-1. A quantized
    Laplacian activation gives geometric counts; f_i makes some neurons busier than
    others consistently across tokens, as in real traces.
    """

    def __init__(self, graph: ModelGraph, seed: int, scale: float = 1.0) -> None:
        self.graph = graph
        self.seed = seed
        self.scale = scale
        synthetic = graph.workload.spikes.synthetic
        firing: list[SiteFiringConfig] = [synthetic.for_site(g.site) for g in graph.groups]
        widths = [g.width for g in graph.groups]
        spreads = [s.neuron_spread for s in firing]
        f = _neuron_factors(np.random.default_rng([seed, 1]), spreads, widths)

        def per_neuron(values: list[float]) -> np.ndarray:
            return np.repeat(np.array(values, dtype=np.float64), widths)

        silent = per_neuron([s.silent_fraction for s in firing])
        p_active = np.clip((1.0 - silent) * f * scale, 0.0, 1.0)
        mean = np.maximum(1.0, per_neuron([s.mean_active_count for s in firing]) * f)
        bounds = np.cumsum(widths)[:-1]
        self._p_active: list[np.ndarray] = np.split(p_active, bounds)
        self._p_geom: list[np.ndarray] = np.split(1.0 / mean, bounds)

    @property
    def label(self) -> str:
        """What the spikes are, for the result's config hash."""
        return synthetic_label(self.seed, self.scale)

    def tokens(self, n_tokens: int) -> Iterator[TokenSpikes]:
        """Yield `n_tokens` tokens; the same seed gives the same counts."""
        rng = np.random.default_rng([self.seed, 2])
        p_active = np.concatenate(self._p_active)
        p_geom = np.concatenate(self._p_geom)
        widths = [g.width for g in self.graph.groups]
        cap = np.repeat([g.levels - 1 for g in self.graph.groups], widths)
        bounds = np.cumsum(widths)[:-1]
        log_q = _log1m(p_geom)
        for position in range(n_tokens):
            counts = np.zeros(p_active.size, dtype=np.uint16)
            _draw_counts(rng, p_active, p_geom, log_q, cap, counts)
            yield TokenSpikes(
                position=position, token_id=None, counts=tuple(np.split(counts, bounds))
            )
