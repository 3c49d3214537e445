"""Information measures of spike trains, for NSLLM-style interpretability: entropy rate,
and mutual information between the input tokens and a layer's spikes, with bias control.

- **Kolmogorov-Sinai entropy rate** of a layer: estimated from each sampled neuron's
  binary spike train (the token's T timesteps after one another, tokens concatenated) by
  the Lempel-Ziv complexity estimator, h = c(n) log2(n) / n bits per step, where c(n) is
  the number of phrases of the LZ76 parsing of the n symbols (Lempel & Ziv, IEEE Trans.
  Inf. Theory 22, 75, 1976; the parsing as counted by Kaspar & Schuster, Phys. Rev. A 36,
  842, 1987). For a stationary ergodic source it converges to the entropy rate, which for
  the symbolic dynamics of a generating partition is the KS entropy. The layer's value is
  the mean over its sampled neurons, also given per token (x T).
- **Mutual information between the input token and a neuron's count**, averaged over a
  layer's sampled neurons, three ways: the plug-in estimate; Miller-Madow (each entropy
  corrected by (K - 1) / (2 N ln 2) bits for K occupied bins and N samples, Miller 1955),
  which gives MI_MM = MI + (K_x + K_y - K_xy - 1) / (2 N ln 2); and the shuffle correction
  (the plug-in MI minus its mean over token orders shuffled against the counts, which
  estimates the bias of independent variables with the same marginals; Panzeri et al.,
  J. Neurophysiol. 98, 1064, 2007). With few tokens per distinct token id the plug-in
  value is mostly bias: read the corrected columns.
- **Normalised MI**: the shuffle-corrected MI over the count entropy (0 = the token says
  nothing about the spikes, 1 = it fixes them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

LN2 = math.log(2.0)


def entropy_bits(hist: np.ndarray) -> float:
    """Plug-in Shannon entropy (bits) of a histogram."""
    h = np.asarray(hist, dtype=np.float64).ravel()
    total = h.sum()
    if total <= 0:
        return 0.0
    p = h[h > 0] / total
    return float(-(p * np.log2(p)).sum())


def miller_madow_entropy_bits(hist: np.ndarray) -> float:
    """Entropy with the Miller-Madow bias correction: plug-in + (K - 1) / (2 N ln 2)."""
    h = np.asarray(hist).ravel()
    n = float(h.sum())
    if n <= 0:
        return 0.0
    return entropy_bits(h) + (np.count_nonzero(h) - 1) / (2.0 * n * LN2)


def _joint(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    _, xi = np.unique(x, return_inverse=True)
    _, yi = np.unique(y, return_inverse=True)
    joint = np.zeros((int(xi.max()) + 1, int(yi.max()) + 1), dtype=np.int64)
    np.add.at(joint, (xi.ravel(), yi.ravel()), 1)
    return joint


def mi_bits(joint: np.ndarray) -> float:
    """Plug-in mutual information (bits) of a joint histogram."""
    j = np.asarray(joint, dtype=np.float64)
    return max(0.0, entropy_bits(j.sum(1)) + entropy_bits(j.sum(0)) - entropy_bits(j))


def miller_madow_mi_bits(joint: np.ndarray) -> float:
    """Mutual information from Miller-Madow corrected entropies."""
    j = np.asarray(joint)
    return (
        miller_madow_entropy_bits(j.sum(1))
        + miller_madow_entropy_bits(j.sum(0))
        - miller_madow_entropy_bits(j)
    )


@dataclass(frozen=True)
class MutualInformation:
    """Estimates of I(X; Y) in bits, and H(Y)."""

    plugin: float
    miller_madow: float
    shuffle_bias: float
    entropy_y: float

    @property
    def shuffle_corrected(self) -> float:
        """Plug-in minus the mean plug-in of shuffled pairings."""
        return self.plugin - self.shuffle_bias

    @property
    def normalized(self) -> float:
        """Shuffle-corrected MI over H(Y), clipped to [0, 1]."""
        if self.entropy_y <= 0:
            return 0.0
        return float(min(1.0, max(0.0, self.shuffle_corrected / self.entropy_y)))


def mutual_information(
    x: np.ndarray, y: np.ndarray, shuffles: int = 8, rng: np.random.Generator | None = None
) -> MutualInformation:
    """I(X; Y) of paired samples by the plug-in, Miller-Madow and shuffle estimators."""
    x, y = np.asarray(x).ravel(), np.asarray(y).ravel()
    joint = _joint(x, y)
    rng = rng or np.random.default_rng(0)
    bias = float(np.mean([mi_bits(_joint(rng.permutation(x), y)) for _ in range(shuffles)]))
    return MutualInformation(
        mi_bits(joint), miller_madow_mi_bits(joint), bias, entropy_bits(joint.sum(0))
    )


@numba.njit(cache=True)
def lz76_phrases(s: np.ndarray) -> int:
    """Phrases of the Lempel-Ziv (1976) parsing of a symbol sequence (Kaspar-Schuster)."""
    n = s.size
    if n == 0:
        return 0
    if n == 1:
        return 1
    c, i, k, start, k_max = 1, 0, 1, 1, 1
    while True:
        if s[i + k - 1] == s[start + k - 1]:
            k += 1
            if start + k > n:
                c += 1
                break
        else:
            k_max = max(k, k_max)
            i += 1
            if i == start:
                c += 1
                start += k_max
                if start + 1 > n:
                    break
                i, k, k_max = 0, 1, 1
            else:
                k = 1
    return c


def lz_entropy_rate_bits(s: np.ndarray) -> float:
    """Lempel-Ziv estimate of a sequence's entropy rate, bits per symbol."""
    s = np.ascontiguousarray(s, dtype=np.int64)
    n = s.size
    if n < 2:
        return 0.0
    return lz76_phrases(s) * math.log2(n) / n


def spike_train(counts: np.ndarray, steps: int, scheme: str) -> np.ndarray:
    """One neuron's binary spikes over tokens x timesteps from its counts (tokens,)."""
    c = np.asarray(counts, dtype=np.int64)[:, None]
    t = np.arange(steps, dtype=np.int64)[None, :]
    if scheme == "binary":
        bits = t < c  # c spikes, then silence
    else:
        bits = (c >> (steps - 1 - t)) & 1  # most significant bit first
    return bits.astype(np.int64).ravel()


def layer_measures(
    counts: np.ndarray,
    tokens: np.ndarray,
    steps: int,
    scheme: str,
    neurons: int = 32,
    shuffles: int = 8,
    seed: int = 0,
) -> dict[str, float]:
    """Entropy rate and token-spike MI of one layer: counts (tokens x width), token ids.

    Samples `neurons` neurons (seeded) and averages their measures.
    """
    rng = np.random.default_rng(seed)
    width = counts.shape[1]
    pick = np.sort(rng.choice(width, size=min(neurons, width), replace=False))
    h_rate, mi_p, mi_mm, mi_sh, mi_n, ent = [], [], [], [], [], []
    for i in pick:
        c = counts[:, i]
        h_rate.append(lz_entropy_rate_bits(spike_train(c, steps, scheme)))
        mi = mutual_information(tokens, c, shuffles, rng)
        mi_p.append(mi.plugin)
        mi_mm.append(mi.miller_madow)
        mi_sh.append(mi.shuffle_corrected)
        mi_n.append(mi.normalized)
        ent.append(mi.entropy_y)
    return {
        "ks_entropy_bits_per_step": float(np.mean(h_rate)),
        "ks_entropy_bits_per_token": float(np.mean(h_rate)) * steps,
        "count_entropy_bits": float(np.mean(ent)),
        "mi_token_plugin_bits": float(np.mean(mi_p)),
        "mi_token_miller_madow_bits": float(np.mean(mi_mm)),
        "mi_token_shuffle_bits": float(np.mean(mi_sh)),
        "mi_token_normalized": float(np.mean(mi_n)),
    }


def trace_information(
    reader, neurons: int = 16, shuffles: int = 8, max_tokens: int | None = None, seed: int = 0
) -> list[dict]:
    """`layer_measures` of every site instance of a trace (one row each)."""
    ids, counts = [], []
    taken = 0
    for chunk in reader.chunks():
        n = chunk.counts.shape[0] if max_tokens is None else min(
            chunk.counts.shape[0], max_tokens - taken
        )
        ids.append(chunk.token_ids[:n])
        counts.append(chunk.counts[:n])
        taken += n
        if max_tokens is not None and taken >= max_tokens:
            break
    tokens = np.concatenate(ids).astype(np.int64)
    allc = np.concatenate(counts)
    rows = []
    for i, name in enumerate(reader.site_names):
        b0, b1 = int(reader.bounds[i]), int(reader.bounds[i + 1])
        site = reader.sites[i]
        row = {"site": name, "type": site["site"], "block": site.get("block"), "tokens": taken}
        row.update(
            layer_measures(
                allc[:, b0:b1].astype(np.int64),
                tokens,
                reader.timesteps[i],
                reader.scheme,
                neurons,
                shuffles,
                seed + i,
            )
        )
        rows.append(row)
    return rows
