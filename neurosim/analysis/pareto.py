"""Pareto fronts over result tables: pure functions, no plotting, no I/O.

Definition used throughout: with every objective turned into "smaller is better", point
``a`` *dominates* ``b`` when ``a`` is no worse than ``b`` in every objective and strictly
better in at least one. The front is the set of points no other point dominates. So
exact duplicates never dominate each other (every copy of a front point is on the front),
a point tied with a front point in one objective but worse in another is off the front,
and a row with a missing (NaN) objective is neither on the front nor dominating.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from neurosim.results.metrics import METRICS

__all__ = ["MAXIMIZED_BY_DEFAULT", "default_sense", "objectives", "pareto_front", "pareto_mask"]

MAXIMIZED_BY_DEFAULT = tuple(m.name for m in METRICS.values() if m.better == "higher")
"""Metrics where more is better unless told otherwise (the registry's "higher"); every other
metric is minimized."""


def default_sense(metric: str) -> str:
    """'max' where the metric registry says higher is better, else 'min'."""
    m = METRICS.get(metric)
    return "max" if m is not None and m.better == "higher" else "min"


def objectives(
    metrics: Sequence[str],
    minimize: Sequence[str] = (),
    maximize: Sequence[str] = (),
) -> dict[str, str]:
    """metric -> 'min' | 'max' for each metric, defaults overridden by the two lists."""
    both = set(minimize) & set(maximize)
    if both:
        raise ValueError(f"both minimized and maximized: {', '.join(sorted(both))}")
    stray = (set(minimize) | set(maximize)) - set(metrics)
    if stray:
        raise ValueError(f"not an objective of this front: {', '.join(sorted(stray))}")
    out = {}
    for m in metrics:
        out[m] = "min" if m in minimize else "max" if m in maximize else default_sense(m)
    return out


def pareto_mask(values: np.ndarray, maximize: Sequence[bool] | None = None) -> np.ndarray:
    """Boolean mask of the non-dominated rows of an (n, k) array of objective values.

    `maximize[j]` says objective j is better when larger (default: all minimized).
    Rows with a NaN are never on the front and dominate nothing.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError(f"values must be a 2-D array (points x objectives); got {v.shape}")
    n, k = v.shape
    if maximize is not None:
        if len(maximize) != k:
            raise ValueError(f"{len(maximize)} senses for {k} objectives")
        v = np.where(np.asarray(maximize, dtype=bool), -v, v)
    valid = ~np.isnan(v).any(axis=1)
    mask = np.zeros(n, dtype=bool)
    idx = np.flatnonzero(valid)
    if idx.size == 0:
        return mask
    w = v[idx]
    mask[idx] = _front_2d(w) if k == 2 else _front_nd(w)
    return mask


def _front_2d(w: np.ndarray) -> np.ndarray:
    """Two objectives in O(n log n): sort by x, then y; a row is on the front when its y is
    its x-group's least and below every y seen at a strictly smaller x."""
    order = np.lexsort((w[:, 1], w[:, 0]))
    x, y = w[order, 0], w[order, 1]
    on = np.zeros(len(w), dtype=bool)
    best = np.inf  # least y over all strictly smaller x
    start = 0
    while start < len(x):
        stop = start + 1
        while stop < len(x) and x[stop] == x[start]:
            stop += 1
        least = y[start]  # the group is sorted by y
        if least < best:
            on[order[start:stop][y[start:stop] == least]] = True
            best = least
        start = stop
    return on


def _front_nd(w: np.ndarray) -> np.ndarray:
    """Any number of objectives: an all-pairs test in blocks, so memory stays bounded."""
    k = w.shape[1]
    on = np.ones(len(w), dtype=bool)
    block = max(1, 2_000_000 // max(1, len(w) * k))
    for s in range(0, len(w), block):
        b = w[s : s + block]  # candidates being tested
        no_worse = (w[None, :, :] <= b[:, None, :]).all(axis=2)  # [cand, other]
        better = (w[None, :, :] < b[:, None, :]).any(axis=2)
        on[s : s + block] = ~(no_worse & better).any(axis=1)
    return on


def pareto_front(frame, senses: Mapping[str, str]):
    """A copy of `frame` with a boolean ``on_front`` column for the objectives in `senses`
    (metric -> 'min' | 'max'), at least two of them."""
    if len(senses) < 2:
        raise ValueError("a Pareto front needs at least two objectives")
    bad = {m: s for m, s in senses.items() if s not in ("min", "max")}
    if bad:
        raise ValueError(f"senses must be 'min' or 'max'; got {bad}")
    missing = [m for m in senses if m not in frame.columns]
    if missing:
        raise KeyError(", ".join(missing))
    cols = list(senses)
    values = frame[cols].apply(_numeric).to_numpy(dtype=np.float64)
    out = frame.copy()
    out["on_front"] = pareto_mask(values, [senses[c] == "max" for c in cols])
    return out


def _numeric(col):
    import pandas as pd

    return pd.to_numeric(col, errors="coerce")
