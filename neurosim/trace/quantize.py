"""Integer spike counting (the NSLLM / Int2Spike recipe) of float activations, and its inverse.

A site's activation x (tokens x width) becomes signed integer counts with a threshold
V_th[t, i] = a_t * g_i for token t and neuron i:

    c = clip(floor(|x| / V_th + 1/2 - s), 0, L-1),   sign = sign(x),   x^ = sign * c * V_th

L is the site's number of levels and s in [0, 1) the sparsification offset (s = 0 rounds
to nearest; a larger s raises every level's threshold, so counts shift toward zero and
the firing rate drops; s = 1/2 truncates). The token factor a_t is 1 (`static`
thresholds) or mean(|x_t|) (`adaptive`, SpikingBrain's V_th = mean(|x|)/k with 1/k in
g). The neuron factor g is one number per site (`site` granularity: the plain recipe)
or one per neuron (`neuron` granularity: each neuron has its own threshold; hardware
folds g_i into column i of the weights it feeds, so the layer stays MatMul-free).

Calibration sets g from float activations of calibration text: per neuron, the range
max_t |x_ti| / a_t maps to the top count L-1 (no clipping on calibration data); per site,
the range minimising the squared reconstruction error (a per-site range set by the
maximum wastes every level on a few outlier channels). A given k skips calibration.
Magnitudes drive the hardware's work; the sign picks add or subtract (ternary spikes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neurosim.errors import TraceError

THRESHOLDS = ("static", "adaptive")
GRANULARITIES = ("neuron", "site")
_TINY = np.float32(1e-30)
_SAMPLE_TOKENS = 256


def count_dtype(levels: int) -> np.dtype:
    """Smallest unsigned dtype that holds counts 0..levels-1."""
    return np.dtype(np.uint8) if levels <= 256 else np.dtype(np.uint16)


def quantize(
    x: np.ndarray, vth: np.ndarray, levels: int, sparsify: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Magnitude counts (uint16) and negative-sign mask of `x` (tokens x width).

    `vth` broadcasts against `x`: a scalar, (1, width), (tokens, 1) or (tokens, width).
    """
    v = np.maximum(np.asarray(vth, dtype=np.float32), _TINY)
    mag = np.floor(np.abs(x) / v + np.float32(0.5 - sparsify))
    counts = np.clip(mag, 0, levels - 1).astype(np.uint16)
    return counts, x < 0


def dequantize(counts: np.ndarray, negative: np.ndarray, vth: np.ndarray) -> np.ndarray:
    """The activation the spikes stand for: sign * count * V_th (float32)."""
    out = counts.astype(np.float32) * np.asarray(vth, dtype=np.float32)
    return np.where(negative, -out, out)


def token_factor(x: np.ndarray, threshold: str) -> np.ndarray:
    """a_t per token (tokens, 1): mean(|x_t|) for adaptive thresholds, 1 for static."""
    if threshold == "adaptive":
        return np.abs(x).mean(axis=-1, keepdims=True).astype(np.float32)
    if threshold == "static":
        return np.ones((x.shape[0], 1), dtype=np.float32)
    raise TraceError(f"unknown threshold rule {threshold!r}; known: {', '.join(THRESHOLDS)}")


def _mse_range(y: np.ndarray, levels: int) -> float:
    """Site-wide range (value mapped to count L-1) with least squared error on `y`."""
    top = float(np.abs(y).max())
    if top == 0.0:
        return 1.0

    def err(r: float) -> float:
        v = np.float32(r / (levels - 1))
        c, neg = quantize(y, v, levels)
        return float(np.square(dequantize(c, neg, v) - y).mean())

    grid = top * np.geomspace(1e-3, 1.0, 48)
    errs = [err(r) for r in grid]
    i = int(np.argmin(errs))
    fine = np.geomspace(grid[max(0, i - 1)], grid[min(len(grid) - 1, i + 1)], 9)
    return float(fine[int(np.argmin([err(r) for r in fine]))])


@dataclass
class SiteCoding:
    """How one site instance is coded: levels L, threshold rule, granularity, sparsify.

    `neuron_scale` is g (width,) once set; V_th = token_factor(x) * g.
    """

    levels: int
    threshold: str = "static"
    granularity: str = "neuron"
    sparsify: float = 0.0
    neuron_scale: np.ndarray | None = None

    def vth(self, x: np.ndarray) -> np.ndarray:
        """Thresholds for `x`, broadcastable to its shape."""
        if self.neuron_scale is None:
            raise TraceError("site coding has no thresholds yet: calibrate or give k")
        return token_factor(x, self.threshold) * self.neuron_scale[None, :]

    def to_json(self) -> dict:
        """Plain JSON description (the per-neuron scales are stored apart)."""
        g = self.neuron_scale
        k = None
        if g is not None and self.granularity == "site" and g.size and g[0] > 0:
            k = float(1.0 / g[0]) if self.threshold == "adaptive" else None
        return {
            "levels": self.levels,
            "threshold": self.threshold,
            "granularity": self.granularity,
            "sparsify": self.sparsify,
            "k": k,
        }


@dataclass
class Calibration:
    """Per-site activation ranges gathered from float forward passes (a hook)."""

    threshold: str
    ranges: dict[int, np.ndarray] = field(default_factory=dict)
    samples: dict[int, list[np.ndarray]] = field(default_factory=dict)
    tokens: int = 0

    def __call__(self, index: int, x: np.ndarray) -> np.ndarray:
        y = np.abs(x) / np.maximum(token_factor(x, self.threshold), _TINY)
        top = y.max(axis=0)
        prev = self.ranges.get(index)
        self.ranges[index] = top if prev is None else np.maximum(prev, top)
        held = sum(s.shape[0] for s in self.samples.get(index, []))
        if held < _SAMPLE_TOKENS:
            self.samples.setdefault(index, []).append(y[: _SAMPLE_TOKENS - held].copy())
        if index == 0:
            self.tokens += x.shape[0]
        return x

    def scale(self, index: int, levels: int, granularity: str) -> np.ndarray:
        """g for site `index` at `levels` (per neuron, or one value repeated)."""
        if index not in self.ranges:
            raise TraceError(f"site {index} was not seen during calibration")
        r = self.ranges[index].astype(np.float64)
        if granularity == "neuron":
            live = r[r > 0]
            fallback = float(np.median(live)) if live.size else 1.0
            r = np.where(r > 0, r, fallback)  # never-active neurons: a typical range
            return (r / (levels - 1)).astype(np.float32)
        if granularity == "site":
            y = np.concatenate(self.samples[index])
            return np.full(r.size, _mse_range(y, levels) / (levels - 1), dtype=np.float32)
        raise TraceError(
            f"unknown threshold granularity {granularity!r}; known: {', '.join(GRANULARITIES)}"
        )


@dataclass
class SpikeQuantizer:
    """A forward-pass hook that spike-codes chosen sites and optionally records them.

    `codings[i]` is None for a site left in float. With `record=True` the last call's
    counts, negative masks and token factors are kept per site (and the float inputs
    too when `keep_inputs` is set, for checks).
    """

    codings: list[SiteCoding | None]
    record: bool = False
    keep_inputs: bool = False
    counts: dict[int, np.ndarray] = field(default_factory=dict)
    negative: dict[int, np.ndarray] = field(default_factory=dict)
    token_scale: dict[int, np.ndarray] = field(default_factory=dict)
    inputs: dict[int, np.ndarray] = field(default_factory=dict)

    def __call__(self, index: int, x: np.ndarray) -> np.ndarray:
        coding = self.codings[index]
        if coding is None:
            return x
        a = token_factor(x, coding.threshold)
        v = a * coding.neuron_scale[None, :]
        c, neg = quantize(x, v, coding.levels, coding.sparsify)
        if self.record:
            self.counts[index] = c
            self.negative[index] = neg
            self.token_scale[index] = a[:, 0]
            if self.keep_inputs:
                self.inputs[index] = x
        return dequantize(c, neg, v)
