"""Trace analytics: per-site firing statistics, entropy, mutual information, variability.

One streaming pass (`tally_trace`) keeps small running tallies: a count histogram per
site instance, per-neuron activity counts, per-token spike totals, the number of
neurons whose count changed since the previous token, and joint count histograms of
neuron-matched site pairs. The table functions turn a tally into pandas DataFrames.

Definitions (c is a neuron's magnitude count in 0..L-1 at one token; T the timesteps):

- spikes of a count: c (binary coding) or popcount(c) (bitwise coding);
  firing rate = spikes / (neurons x tokens x T), Int2Spike's definition;
  spikes per activation = spikes / (neurons x tokens).
- silent fraction: share of (neuron, token) counts that are 0; dead fraction: share of
  neurons that never fire in the trace.
- entropy: Shannon entropy (bits) of the count distribution pooled over the site's
  neurons and tokens (of the signed count, -(L-1)..L-1, too when signs are stored).
- token-to-token variability: the coefficient of variation of the site's per-token
  spike total, and the mean share of neurons whose count changes from one token to
  the next.
- mutual information, two kinds. *Neuron-matched*: for two sites of equal width, the
  pairs (c_a[i], c_b[i]) over neurons i and tokens form a joint distribution whose
  plug-in MI is reported; pairs are a block's attention input vs its MLP input (the
  residual stream before and after attention) and a block's input vs the next block's
  input (or the head's for the last block), i.e. the residual stream before and after
  the block. *Binned totals*: for consecutive site instances, each token's spike totals
  are binned into equal-population bins (up to 8) and the MI of the two bin indices is
  taken over tokens. Both are plug-in estimates, biased upward by about
  (bins_a - 1)(bins_b - 1) / (2 N ln 2) bits for N samples; `normalized_mi` divides by
  the smaller entropy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from neurosim.trace.format import TraceReader, open_trace

TOTAL_BINS = 8


def spikes_of_counts(levels: int, scheme: str) -> np.ndarray:
    """Spikes emitted for each count 0..L-1 under a coding scheme."""
    c = np.arange(levels, dtype=np.int64)
    if scheme == "bitwise":
        return np.array([bin(int(v)).count("1") for v in c], dtype=np.int64)
    return c


def entropy_bits(hist: np.ndarray) -> float:
    """Shannon entropy (bits) of a histogram."""
    h = np.asarray(hist, dtype=np.float64)
    total = h.sum()
    if total <= 0:
        return 0.0
    p = h[h > 0] / total
    return float(-(p * np.log2(p)).sum())


def mutual_information_bits(joint: np.ndarray) -> float:
    """Plug-in mutual information (bits) of a joint histogram."""
    j = np.asarray(joint, dtype=np.float64)
    total = j.sum()
    if total <= 0:
        return 0.0
    p = j / total
    pa = p.sum(axis=1, keepdims=True)
    pb = p.sum(axis=0, keepdims=True)
    nz = p > 0
    return float((p[nz] * np.log2(p[nz] / (pa @ pb)[nz])).sum())


def _matched_pairs(reader: TraceReader) -> list[tuple[int, int, str]]:
    """Neuron-matched site pairs: (attn_in, mlp_in) per block, block input -> next input."""
    index = {n: i for i, n in enumerate(reader.site_names)}
    pairs: list[tuple[int, int, str]] = []
    blocks = sorted({s["block"] for s in reader.sites if s.get("block") is not None})
    for b in blocks:
        a, m = index.get(f"b{b:02d}.attn_in"), index.get(f"b{b:02d}.mlp_in")
        if a is not None and m is not None and reader.widths[a] == reader.widths[m]:
            pairs.append((a, m, "within block: attention input vs MLP input"))
        nxt = index.get(f"b{b + 1:02d}.attn_in", index.get("head") if b == blocks[-1] else None)
        if a is not None and nxt is not None and reader.widths[a] == reader.widths[nxt]:
            pairs.append((a, nxt, "block input vs next block input"))
    return pairs


@dataclass
class TraceTally:
    """Running tallies of one pass over a trace (memory grows only with tokens x sites)."""

    reader: TraceReader
    tokens: int = 0
    hist: list[np.ndarray] = field(default_factory=list)
    signed_hist: list[np.ndarray] | None = None
    neuron_active: np.ndarray | None = None
    neuron_sum: np.ndarray | None = None
    neuron_sumsq: np.ndarray | None = None
    token_spikes: list[np.ndarray] = field(default_factory=list)
    changes: np.ndarray | None = None
    pairs: list[tuple[int, int, str]] = field(default_factory=list)
    joint: list[np.ndarray] = field(default_factory=list)
    first_token: np.ndarray | None = None

    @property
    def spikes_per_token(self) -> np.ndarray:
        """(tokens, sites) spike totals."""
        if not self.token_spikes:
            return np.zeros((0, len(self.reader.sites)), dtype=np.int64)
        return np.concatenate(self.token_spikes)


def tally_trace(trace: TraceReader | str | Path, max_tokens: int | None = None) -> TraceTally:
    """One streaming pass over a trace (or its first `max_tokens` tokens)."""
    reader = trace if isinstance(trace, TraceReader) else open_trace(trace)
    sites, levels, bounds = reader.sites, reader.levels, reader.bounds
    n_sites = len(sites)
    tally = TraceTally(reader)
    tally.hist = [np.zeros(lv, dtype=np.int64) for lv in levels]
    if reader.signed:
        tally.signed_hist = [np.zeros(2 * lv - 1, dtype=np.int64) for lv in levels]
    tally.neuron_active = np.zeros(int(bounds[-1]), dtype=np.int64)
    tally.neuron_sum = np.zeros(int(bounds[-1]), dtype=np.int64)
    tally.neuron_sumsq = np.zeros(int(bounds[-1]), dtype=np.int64)
    tally.changes = np.zeros(n_sites, dtype=np.int64)
    tally.pairs = _matched_pairs(reader)
    tally.joint = [np.zeros((levels[a], levels[b]), dtype=np.int64) for a, b, _ in tally.pairs]
    spike_lut = [spikes_of_counts(lv, reader.scheme) for lv in levels]
    prev: np.ndarray | None = None
    for chunk in reader.chunks():
        counts = chunk.counts
        if max_tokens is not None:
            counts = counts[: max(0, max_tokens - tally.tokens)]
        n = counts.shape[0]
        if n == 0:
            break
        c64 = counts.astype(np.int64)
        per_token = np.zeros((n, n_sites), dtype=np.int64)
        for s in range(n_sites):
            seg = c64[:, bounds[s] : bounds[s + 1]]
            h = np.bincount(seg.ravel(), minlength=levels[s])
            tally.hist[s] += h
            per_token[:, s] = spike_lut[s][seg].sum(axis=1)
            if tally.signed_hist is not None:
                neg = chunk.negative[:n, bounds[s] : bounds[s + 1]]
                signed = np.where(neg, -seg, seg) + levels[s] - 1
                tally.signed_hist[s] += np.bincount(signed.ravel(), minlength=2 * levels[s] - 1)
        tally.token_spikes.append(per_token)
        tally.neuron_active += (c64 > 0).sum(axis=0)
        tally.neuron_sum += c64.sum(axis=0)
        tally.neuron_sumsq += (c64 * c64).sum(axis=0)
        stacked = c64 if prev is None else np.concatenate([prev[None, :], c64])
        diff = stacked[1:] != stacked[:-1]
        if diff.size:
            tally.changes += np.add.reduceat(diff.sum(axis=0), bounds[:-1])
        prev = c64[-1]
        if tally.first_token is None:
            tally.first_token = counts[0].copy()
        for k, (a, b, _) in enumerate(tally.pairs):
            ca = c64[:, bounds[a] : bounds[a + 1]].ravel()
            cb = c64[:, bounds[b] : bounds[b + 1]].ravel()
            jb = levels[b]
            tally.joint[k] += np.bincount(ca * jb + cb, minlength=levels[a] * jb).reshape(
                levels[a], jb
            )
        tally.tokens += n
        if max_tokens is not None and tally.tokens >= max_tokens:
            break
    return tally


def _as_tally(trace) -> TraceTally:
    return trace if isinstance(trace, TraceTally) else tally_trace(trace)


def site_table(trace) -> pd.DataFrame:
    """One row per site instance: firing rate, spikes per activation, silence, entropy..."""
    t = _as_tally(trace)
    r = t.reader
    totals = t.spikes_per_token
    rows = []
    for s, site in enumerate(r.sites):
        width, lv, steps = r.widths[s], r.levels[s], r.timesteps[s]
        hist = t.hist[s]
        cells = max(1, int(hist.sum()))
        lut = spikes_of_counts(lv, r.scheme)
        spikes = int((hist * lut).sum())
        counts_sum = int((hist * np.arange(lv)).sum())
        active = cells - int(hist[0])
        per_neuron = t.neuron_active[r.bounds[s] : r.bounds[s + 1]]
        tok = totals[:, s].astype(np.float64)
        rows.append(
            {
                "site": site["name"],
                "type": site["site"],
                "block": site.get("block"),
                "width": width,
                "levels": lv,
                "timesteps": steps,
                "firing_rate": spikes / (cells * steps),
                "spikes_per_activation": spikes / cells,
                "mean_count": counts_sum / cells,
                "silent_fraction": int(hist[0]) / cells,
                "mean_active_count": counts_sum / active if active else 0.0,
                "dead_fraction": float((per_neuron == 0).mean()),
                "saturated_fraction": int(hist[-1]) / cells,
                "entropy_bits": entropy_bits(hist),
                "signed_entropy_bits": entropy_bits(t.signed_hist[s])
                if t.signed_hist is not None
                else np.nan,
                "token_cv": float(tok.std() / tok.mean()) if tok.size and tok.mean() > 0 else 0.0,
                "change_fraction": float(t.changes[s] / (width * max(1, t.tokens - 1))),
                "spikes_per_token": float(tok.mean()) if tok.size else 0.0,
            }
        )
    df = pd.DataFrame(rows)
    df["block"] = df["block"].astype("Int64")
    return df


def _sites_by_type(reader) -> dict[str, list[int]]:
    """Site-instance indices of each site type (attn_in, ..., head), in first-seen order."""
    out: dict[str, list[int]] = {}
    for i, site in enumerate(reader.sites):
        out.setdefault(site["site"], []).append(i)
    return out


def type_table(trace) -> pd.DataFrame:
    """Site types (attn_in, ..., head): the site table pooled over blocks."""
    t = _as_tally(trace)
    r = t.reader
    rows = []
    for kind, idx in _sites_by_type(r).items():
        lv = r.levels[idx[0]]
        if any(r.levels[i] != lv for i in idx):
            continue
        hist = sum(t.hist[i] for i in idx)
        cells = int(hist.sum())
        lut = spikes_of_counts(lv, r.scheme)
        steps = r.timesteps[idx[0]]
        active = cells - int(hist[0])
        csum = int((hist * np.arange(lv)).sum())
        rows.append(
            {
                "type": kind,
                "instances": len(idx),
                "width": r.widths[idx[0]],
                "levels": lv,
                "timesteps": steps,
                "firing_rate": int((hist * lut).sum()) / max(1, cells * steps),
                "spikes_per_activation": int((hist * lut).sum()) / max(1, cells),
                "silent_fraction": int(hist[0]) / max(1, cells),
                "mean_active_count": csum / active if active else 0.0,
                "entropy_bits": entropy_bits(hist),
            }
        )
    return pd.DataFrame(rows)


def _quantile_bins(x: np.ndarray, bins: int) -> np.ndarray:
    """Equal-population bin index of each value (ties share a bin)."""
    if x.size == 0:
        return x.astype(np.int64)
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)[1:-1]))
    return np.searchsorted(edges, x, side="right").astype(np.int64)


def mi_table(trace) -> pd.DataFrame:
    """Mutual information between sites: neuron-matched pairs and binned per-token totals."""
    t = _as_tally(trace)
    r = t.reader
    rows = []
    for (a, b, what), joint in zip(t.pairs, t.joint, strict=True):
        ha, hb = entropy_bits(joint.sum(axis=1)), entropy_bits(joint.sum(axis=0))
        mi = mutual_information_bits(joint)
        rows.append(
            {
                "site_a": r.site_names[a],
                "site_b": r.site_names[b],
                "method": "neuron-matched counts",
                "relation": what,
                "samples": int(joint.sum()),
                "mi_bits": mi,
                "entropy_a_bits": ha,
                "entropy_b_bits": hb,
                "normalized_mi": mi / min(ha, hb) if min(ha, hb) > 0 else 0.0,
            }
        )
    totals = t.spikes_per_token
    bins = max(2, min(TOTAL_BINS, t.tokens // 8)) if t.tokens >= 4 else 0
    if bins:
        binned = [
            _quantile_bins(totals[:, s].astype(np.float64), bins) for s in range(len(r.sites))
        ]
        for s in range(len(r.sites) - 1):
            xa, xb = binned[s], binned[s + 1]
            joint = np.zeros((int(xa.max()) + 1, int(xb.max()) + 1), dtype=np.int64)
            np.add.at(joint, (xa, xb), 1)
            ha, hb = entropy_bits(joint.sum(axis=1)), entropy_bits(joint.sum(axis=0))
            mi = mutual_information_bits(joint)
            rows.append(
                {
                    "site_a": r.site_names[s],
                    "site_b": r.site_names[s + 1],
                    "method": f"binned token totals ({bins} bins)",
                    "relation": "consecutive sites",
                    "samples": t.tokens,
                    "mi_bits": mi,
                    "entropy_a_bits": ha,
                    "entropy_b_bits": hb,
                    "normalized_mi": mi / min(ha, hb) if min(ha, hb) > 0 else 0.0,
                }
            )
    return pd.DataFrame(rows)


def histogram_table(trace) -> pd.DataFrame:
    """Count histograms pooled per site type (columns: type, count, cells, share)."""
    t = _as_tally(trace)
    r = t.reader
    rows = []
    for kind, idx in _sites_by_type(r).items():
        top = max(r.levels[i] for i in idx)
        hist = np.zeros(top, dtype=np.int64)
        for i in idx:
            hist[: r.levels[i]] += t.hist[i]
        total = max(1, int(hist.sum()))
        rows += [
            {"type": kind, "count": c, "cells": int(h), "share": int(h) / total}
            for c, h in enumerate(hist)
        ]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- fitting


def clipped_geometric_mean(mean: float, cap: int) -> float:
    """E[min(G, cap)] for G geometric on {1, 2, ...} with mean `mean`."""
    if cap <= 1 or mean <= 1.0:
        return 1.0
    q = 1.0 - 1.0 / mean
    return (1.0 - q**cap) * mean


def unclipped_mean(observed: float, cap: int) -> float:
    """The geometric mean m whose clip at `cap` has mean `observed` (bisection)."""
    if observed <= 1.0 or cap <= 1:
        return 1.0
    if observed >= cap - 1e-9:
        return 1e6
    lo, hi = 1.0, 2.0
    while clipped_geometric_mean(hi, cap) < observed and hi < 1e6:
        hi *= 2.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if clipped_geometric_mean(mid, cap) < observed:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


_NORMALS = np.random.default_rng(12345).standard_normal(4096)


def _neuron_cv(total: np.ndarray, total_sq: np.ndarray, tokens: int) -> float:
    """Across-neuron coefficient of variation of mean counts, net of sampling noise."""
    if tokens < 2 or total.size < 2:
        return 0.0
    mu = total / tokens
    if mu.mean() <= 0:
        return 0.0
    within = np.maximum(total_sq / tokens - mu * mu, 0.0)
    var = max(0.0, float(mu.var()) - float(within.mean()) / tokens)
    return float(np.sqrt(var) / mu.mean())


def generator_moments(silent: float, mean: float, levels: int, spread: float):
    """Silent fraction, mean active count and across-neuron CV the generator produces.

    Mirrors `SyntheticSpikeSource`: a neuron with factor f is active with probability
    min(1, (1 - s) f) and its active counts are geometric with mean max(1, m f), clipped
    at L-1. Deterministic normal draws keep the fit reproducible.
    """
    f = np.exp(spread * _NORMALS - 0.5 * spread * spread)
    p = np.clip((1.0 - silent) * f, 0.0, 1.0)
    m = np.maximum(1.0, mean * f)
    q = 1.0 - 1.0 / m
    clipped = np.where(m > 1.0, (1.0 - q ** (levels - 1)) * m, 1.0)
    mu = p * clipped
    active = float(p.mean())
    cv = float(mu.std() / mu.mean()) if mu.mean() > 0 else 0.0
    return 1.0 - active, float(mu.mean() / active) if active > 0 else 1.0, cv


def _bisect(fn, target: float, lo: float, hi: float, increasing: bool = True) -> float:
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        if (fn(mid) < target) == increasing:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def fit_generator(silent: float, active_mean: float, cv: float, levels: int) -> dict:
    """Generator parameters whose outputs match a trace's silent fraction, mean, CV.

    Alternates one-dimensional bisections (the three are nearly independent).
    """
    s, m, sigma = silent, max(1.001, unclipped_mean(active_mean, levels - 1)), 0.0
    if silent >= 1.0:
        return {"silent_fraction": 1.0, "mean_active_count": 1.001, "neuron_spread": 0.0}
    for _ in range(4):
        s_now, m_now = s, m
        if cv > 0 and generator_moments(s_now, m_now, levels, 3.0)[2] > cv:
            sigma = _bisect(
                lambda x, s_=s_now, m_=m_now: generator_moments(s_, m_, levels, x)[2],
                cv,
                0.0,
                3.0,
            )
        elif cv > 0:
            sigma = 3.0
        s = _bisect(
            lambda x, m_=m_now, g_=sigma: generator_moments(x, m_, levels, g_)[0],
            silent,
            0.0,
            1.0,
        )
        if active_mean > 1.0:
            m = _bisect(
                lambda x, s_=s, g_=sigma: generator_moments(s_, x, levels, g_)[1],
                active_mean,
                1.0,
                1e4,
            )
    return {
        "silent_fraction": round(min(max(s, 0.0), 1.0), 4),
        "mean_active_count": round(max(1.001, m), 3),
        "neuron_spread": round(sigma, 3),
    }


def requantize_histogram(hist: np.ndarray, levels: int) -> np.ndarray:
    """Approximate count histogram at other levels: c' = round(c (L'-1) / (L-1)).

    Exact for coarsening by a whole factor of steps only in expectation; refining
    cannot split the zero bin, so it under-states the new firing. Extract at the
    target levels when possible.
    """
    old = hist.size
    new = np.zeros(levels, dtype=np.int64)
    target = np.floor(np.arange(old) * (levels - 1) / (old - 1) + 0.5).astype(np.int64)
    np.add.at(new, np.minimum(target, levels - 1), hist)
    return new


def fit_synthetic_stats(trace, levels: dict[str, int] | None = None) -> dict[str, dict]:
    """Per site type, the synthetic generator's parameters fitted to a trace.

    Returns {site type: {"silent_fraction", "mean_active_count", "neuron_spread"}},
    each dict valid for `neurosim.config.workload.SiteFiringConfig`, chosen so that the
    generator (`SyntheticSpikeSource`) reproduces three measured moments of the type's
    counts: the share of zero counts, the mean of non-zero counts (the generator clips
    its geometric draws at L-1), and the across-neuron coefficient of variation of
    per-neuron mean counts (net of token sampling noise, pooled over the type's
    instances weighted by width), which sets the log-normal spread.
    `levels` (per type) re-quantizes the histograms first (see `requantize_histogram`).
    """
    t = _as_tally(trace)
    r = t.reader
    out: dict[str, dict] = {}
    for kind, idx in _sites_by_type(r).items():
        lv = r.levels[idx[0]]
        hist = sum(t.hist[i] for i in idx)
        if levels and kind in levels and levels[kind] != lv:
            hist = requantize_histogram(hist, levels[kind])
            lv = levels[kind]
        cells = int(hist.sum())
        silent = int(hist[0]) / cells if cells else 1.0
        active = cells - int(hist[0])
        observed = float((hist * np.arange(lv)).sum() / active) if active else 1.0
        cv2 = [
            _neuron_cv(
                t.neuron_sum[r.bounds[i] : r.bounds[i + 1]].astype(np.float64),
                t.neuron_sumsq[r.bounds[i] : r.bounds[i + 1]].astype(np.float64),
                t.tokens,
            )
            ** 2
            for i in idx
        ]
        cv = float(np.sqrt(np.average(cv2, weights=[r.widths[i] for i in idx])))
        out[kind] = fit_generator(silent, observed, cv, lv)
    return out


def trace_summary(trace) -> dict:
    """Header facts and footer figures worth printing."""
    r = trace.reader if isinstance(trace, TraceTally) else trace
    if not isinstance(r, TraceReader):
        r = open_trace(r)
    h, f = r.header, r.footer
    return {
        "path": str(r.path),
        "bytes": r.size,
        "model": h["model"].get("name"),
        "model_source": h["model"].get("source"),
        "text": h["text"].get("source"),
        "tokens": r.n_tokens,
        "sites": len(r.sites),
        "scheme": r.scheme,
        "signed": r.signed,
        "threshold": h["coding"].get("threshold"),
        "granularity": h["coding"].get("granularity"),
        "sparsify": h["coding"].get("sparsify"),
        "levels": h["coding"].get("levels"),
        "accuracy": f.get("accuracy", {}),
    }
