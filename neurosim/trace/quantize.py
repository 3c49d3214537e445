"""Integer spike counting (the NSLLM / Int2Spike recipe) of float activations, and its inverse.

A site's activation x (tokens x width) becomes signed integer counts with a threshold
V_th per token: c = clip(floor(|x| / V_th + 1/2 - s), 0, L-1), sign = sign(x), where
L is the site's number of levels and s in [0, 1) is the sparsification offset (s = 0 is
round-to-nearest; larger s raises every level's threshold, so counts shift toward zero
and the firing rate drops; s = 1/2 truncates). The decoded activation is sign * c * V_th.

Thresholds follow SpikingBrain's adaptive rule V_th = mean(|x|) / k, computed per token
(the membrane threshold adapts to the input), or are a fixed per-site *static* V_th.
k (or the static V_th) is either given or calibrated per site instance to minimise the
squared reconstruction error on calibration text; calibration runs inside a quantized
forward pass so each site is fitted to inputs that already carry upstream quantization.
Magnitudes drive the hardware's work; the sign picks add or subtract (ternary spikes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neurosim.errors import TraceError

THRESHOLD_MODES = ("adaptive", "static")
_TINY = np.float32(1e-30)


def count_dtype(levels: int) -> np.dtype:
    """Smallest unsigned dtype that holds counts 0..levels-1."""
    return np.dtype(np.uint8) if levels <= 256 else np.dtype(np.uint16)


def quantize(
    x: np.ndarray, vth: np.ndarray, levels: int, sparsify: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Magnitude counts (uint16) and negative-sign mask of `x` (tokens x width).

    `vth` has one threshold per token (shape (tokens,) or (tokens, 1)) or is a scalar.
    """
    v = np.maximum(np.asarray(vth, dtype=np.float32), _TINY)
    if v.ndim == 1:
        v = v[:, None]
    mag = np.floor(np.abs(x) / v + np.float32(0.5 - sparsify))
    counts = np.clip(mag, 0, levels - 1).astype(np.uint16)
    return counts, x < 0


def dequantize(counts: np.ndarray, negative: np.ndarray, vth: np.ndarray) -> np.ndarray:
    """The activation the spikes stand for: sign * count * V_th (float32)."""
    v = np.asarray(vth, dtype=np.float32)
    if v.ndim == 1:
        v = v[:, None]
    out = counts.astype(np.float32) * v
    return np.where(negative, -out, out)


def adaptive_vth(x: np.ndarray, k: float) -> np.ndarray:
    """Per-token adaptive threshold V_th = mean(|x|) / k (SpikingBrain / NSLLM)."""
    return (np.abs(x).mean(axis=-1) / np.float32(k)).astype(np.float32)


def _mse(x: np.ndarray, v: np.ndarray, levels: int) -> float:
    c, neg = quantize(x, v, levels)
    return float(np.square(dequantize(c, neg, v) - x).mean())


def calibrate(x: np.ndarray, levels: int, mode: str, grid: int = 48) -> float:
    """MSE-optimal k (adaptive mode) or static V_th for the activations `x` of one site.

    A log-spaced grid search, refined once around the best point; rounding is to
    nearest (sparsification is applied afterwards, so it is not calibrated away).
    """
    x = np.asarray(x, dtype=np.float32)
    if x.shape[0] > 256:  # a stride keeps calibration cheap on long texts
        x = x[:: -(-x.shape[0] // 256)]
    mean_abs = np.abs(x).mean(axis=-1)
    if not np.any(mean_abs > 0):
        return 1.0 if mode == "adaptive" else 1.0
    base = float(mean_abs.mean())

    def vth_for(k: float) -> np.ndarray:
        return mean_abs / np.float32(k) if mode == "adaptive" else np.float32(base / k)

    ks = np.geomspace(0.02, 4.0 * levels, grid)
    errs = [_mse(x, vth_for(k), levels) for k in ks]
    i = int(np.argmin(errs))
    lo, hi = ks[max(0, i - 1)], ks[min(len(ks) - 1, i + 1)]
    fine = np.geomspace(lo, hi, 9)
    errs_f = [_mse(x, vth_for(k), levels) for k in fine]
    k = float(fine[int(np.argmin(errs_f))])
    return k if mode == "adaptive" else base / k


@dataclass
class SiteCoding:
    """How one site instance is coded: levels L, threshold rule and sparsification."""

    levels: int
    mode: str = "adaptive"
    k: float | None = None  # adaptive: V_th = mean|x| / k
    vth: float | None = None  # static: fixed V_th
    sparsify: float = 0.0

    def thresholds(self, x: np.ndarray) -> np.ndarray:
        """V_th per token of `x`."""
        if self.mode == "adaptive":
            if self.k is None:
                raise TraceError("adaptive coding needs k (give it or calibrate)")
            return adaptive_vth(x, self.k)
        if self.vth is None:
            raise TraceError("static coding needs a threshold (give it or calibrate)")
        return np.full(x.shape[0], self.vth, dtype=np.float32)

    def to_json(self) -> dict:
        """Plain JSON data for the trace header."""
        return {
            "levels": self.levels,
            "threshold": self.mode,
            "k": self.k,
            "vth": self.vth,
            "sparsify": self.sparsify,
        }


@dataclass
class SpikeQuantizer:
    """A forward-pass hook that spike-codes chosen sites and records their counts.

    `codings[i]` is None for a site left in float. With `calibrate=True`, a site whose
    k (or static V_th) is unset is calibrated on the activation it first receives.
    With `record=True`, the last pass's counts, signs and thresholds are kept per site.
    """

    codings: list[SiteCoding | None]
    calibrate: bool = False
    record: bool = False
    counts: dict[int, np.ndarray] = field(default_factory=dict)
    negative: dict[int, np.ndarray] = field(default_factory=dict)
    vth: dict[int, np.ndarray] = field(default_factory=dict)
    inputs: dict[int, np.ndarray] | None = None

    def __call__(self, index: int, x: np.ndarray) -> np.ndarray:
        coding = self.codings[index]
        if coding is None:
            return x
        if self.calibrate and (coding.k if coding.mode == "adaptive" else coding.vth) is None:
            value = calibrate(x, coding.levels, coding.mode)
            if coding.mode == "adaptive":
                coding.k = value
            else:
                coding.vth = value
        v = coding.thresholds(x)
        c, neg = quantize(x, v, coding.levels, coding.sparsify)
        if self.record:
            self.counts[index] = c
            self.negative[index] = neg
            self.vth[index] = v
            if self.inputs is not None:
                self.inputs[index] = x
        return dequantize(c, neg, v)
