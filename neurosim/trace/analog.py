"""What in-memory-compute arrays do to the numbers: a functional model of one layer's product.

A layer reads site i: spike counts c (tokens x in, signed, 0..L-1) with per-neuron
thresholds g, so x^ = sign * c * g. The thresholds are folded into the weights
(W' = g W, row by row: the layer stays MatMul-free), and W' is mapped onto arrays of
`compute.rows` rows:

- **Weight codes.** Each (array, column) gets its own offset code: W' ~ low + step * q,
  q in 0..2^b - 1 with b = `workload.weights.bits` (ISAAC's offset encoding: cells store
  q, the periphery adds low x the spikes' sum digitally, and scales by step in its
  shift-and-add). One scale per column over all rows would let the outlier neurons' rows
  (large g) starve every other row of levels.
- **Bit slicing.** q is cut into ceil(b / bits_per_cell) cells of `bits_per_cell` bits,
  one column each, combined digitally with shifts.
- **Cells.** A slice value v in 0..2^bpc - 1 is a conductance in units of one level
  (G_max = 2^bpc - 1): snapped to `conductance_levels` evenly spaced levels, plus
  programming noise N(0, (sigma G_max)^2) clipped at 0, times drift (t / t0)^-nu with a
  nu per cell, divided by the mean drift factor when the periphery compensates drift.
- **Timesteps.** Binary coding sends a neuron's count as one spike per step while the
  count lasts (fires at step t iff c > t); bitwise coding sends bit t of c at step t,
  weighted 2^t digitally. A spike drives its row with its sign.
- **Converters.** Every column's sum of one step is converted: clipped to +-FS, FS =
  `adc.full_scale_fraction` x rows x G_max (the largest sum the array can produce), and
  rounded to a step of 2^max(0, ceil(log2(2 FS + 1)) - adc.bits) levels (the reference
  is trimmed to a power-of-two number of levels per code, so an ADC with enough bits
  reads every integer sum exactly). Digital SRAM CIM has no converter: its sums are
  exact unless `compute.accumulator_bits` saturates them.

With no noise, no drift and converters that resolve every level, the result equals the
digital product of the same codes bit for bit (`digital_product`): every partial sum is
an integer held exactly in floating point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from neurosim.errors import ConfigError

_BLOCK_CELLS = 1 << 22  # cells of one (rows x columns) block of an array's conductances


@dataclass(frozen=True)
class ArrayModel:
    """Every number of the accuracy model, read from an architecture and a workload."""

    kind: str  # "crossbar" (analog, converters) or "sram_cim" (digital adder trees)
    rows: int
    weight_bits: int
    bits_per_cell: int
    conductance_levels: int
    programming_sigma: float = 0.0
    drift_nu: float = 0.0
    drift_nu_sigma: float = 0.0
    drift_time_ratio: float = 1.0  # read time / t0
    drift_compensation: bool = True
    adc_bits: int | None = None
    full_scale_fraction: float = 1.0
    accumulator_bits: int | None = None
    scheme: str = "binary"

    @classmethod
    def from_configs(cls, arch, workload) -> ArrayModel:
        """The model of `arch`'s arrays holding `workload`'s weights."""
        numbers = arch.compute.accuracy_numbers(arch.adc)
        if numbers is None:
            raise ConfigError.single(
                arch.name,
                "compute.kind",
                "the accuracy model covers in-memory arrays (crossbar_tile, sram_cim_tile); "
                f"this architecture has {arch.compute.kind!r}, whose digital sums are exact",
            )
        return cls(
            **numbers, weight_bits=int(workload.weights.bits), scheme=workload.coding.scheme
        )

    @property
    def slices(self) -> int:
        """Cells (columns) per weight."""
        return -(-self.weight_bits // self.bits_per_cell)

    @property
    def g_max(self) -> int:
        """Largest cell value, in levels."""
        return 2**self.bits_per_cell - 1

    @property
    def full_scale(self) -> float:
        """Largest column sum magnitude a conversion (or accumulator) represents."""
        if self.kind == "sram_cim":
            if self.accumulator_bits is None:
                return math.inf
            return float(2 ** (self.accumulator_bits - 1) - 1)
        return self.full_scale_fraction * self.rows * self.g_max

    @property
    def lsb(self) -> float:
        """One converter code, in levels (1: every integer sum is read exactly)."""
        if self.kind == "sram_cim" or self.adc_bits is None:
            return 1.0
        needed = math.ceil(math.log2(2.0 * self.full_scale + 1.0))
        return float(2 ** max(0, needed - self.adc_bits))

    @property
    def noisy(self) -> bool:
        """True if conductances differ from their codes."""
        return (
            self.programming_sigma > 0
            or self.conductance_levels < 2**self.bits_per_cell
            or ((self.drift_nu > 0 or self.drift_nu_sigma > 0) and self.drift_time_ratio != 1.0)
        )

    @property
    def exact(self) -> bool:
        """True if the arrays compute the digital product exactly (no noise, no rounding,
        no clipping can occur)."""
        most = self.rows * self.g_max
        return not self.noisy and self.lsb == 1.0 and self.full_scale >= most

    def describe(self) -> dict:
        """Plain JSON of the model's numbers, with the derived converter range and step."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out.update(
            slices=self.slices,
            full_scale_levels=self.full_scale if math.isfinite(self.full_scale) else None,
            lsb_levels=self.lsb,
            exact=self.exact,
        )
        return out


@dataclass(frozen=True)
class SiteMapping:
    """One site's folded weights as array codes: W' ~ low[a] + step[a] * codes, per array
    a of `rows` rows and per column."""

    codes: np.ndarray  # (in, out) unsigned integer codes 0..2^bits - 1
    step: np.ndarray  # (arrays, out) float32
    low: np.ndarray  # (arrays, out) float32
    rows: int

    @property
    def arrays(self) -> int:
        """Row chunks (arrays stacked along the inputs)."""
        return self.step.shape[0]

    def chunk(self, a: int) -> slice:
        """Input rows of array a."""
        return slice(a * self.rows, min((a + 1) * self.rows, self.codes.shape[0]))


def map_weights(weights: np.ndarray, scale: np.ndarray, rows: int, bits: int) -> SiteMapping:
    """Fold the thresholds `scale` (in,) into `weights` (in x out) and code them per array."""
    n_in, n_out = weights.shape
    arrays = -(-n_in // rows)
    dtype = np.uint8 if bits <= 8 else np.uint16 if bits <= 16 else np.uint32
    codes = np.empty((n_in, n_out), dtype=dtype)
    step = np.empty((arrays, n_out), dtype=np.float32)
    low = np.empty((arrays, n_out), dtype=np.float32)
    top = np.float32(2**bits - 1)
    for a in range(arrays):
        r = slice(a * rows, min((a + 1) * rows, n_in))
        w = weights[r].astype(np.float32) * scale[r, None].astype(np.float32)
        lo, hi = w.min(axis=0), w.max(axis=0)
        d = (hi - lo) / top
        d = np.where(d > 0, d, np.float32(1.0)).astype(np.float32)
        codes[r] = np.clip(np.rint((w - lo) / d), 0, top).astype(dtype)
        step[a], low[a] = d, lo
    return SiteMapping(codes, step, low, rows)


def _finish(sums: list[np.ndarray], mapping: SiteMapping, spikes: np.ndarray) -> np.ndarray:
    """y = sum over arrays of step * (spikes . codes) + low * (sum of spikes), in float64."""
    out = np.zeros((spikes.shape[0], mapping.codes.shape[1]), dtype=np.float64)
    for a, acc in enumerate(sums):
        r = mapping.chunk(a)
        total = spikes[:, r].sum(axis=1, dtype=np.float64)[:, None]
        out += acc * mapping.step[a].astype(np.float64) + total * mapping.low[a].astype(np.float64)
    return out


def digital_product(spikes: np.ndarray, mapping: SiteMapping) -> np.ndarray:
    """The exact product of signed counts (tokens x in) with the coded weights."""
    s = spikes.astype(np.float32)
    sums = []
    for a in range(mapping.arrays):
        r = mapping.chunk(a)
        # integers below 2^24 are exact in float32: counts x codes over one array stay below
        sums.append((s[:, r] @ mapping.codes[r].astype(np.float32)).astype(np.float64))
    return _finish(sums, mapping, spikes)


_TILE = 1024  # columns per pass of the kernel: one step's sums stay in cache


@numba.njit(parallel=True, cache=True, fastmath=True)
def _converted_sums(spikes, cells, n_steps, binary, fs, lsb, out, clipped, converted):
    """Per token: every step's column sums of one array, clipped to +-fs, rounded to lsb,
    accumulated over the steps (bitwise steps weighted 2^t) into out (tokens x columns)."""
    n, rows = spikes.shape
    cols = cells.shape[1]
    inv = 1.0 / lsb
    hi = np.float32(fs)
    lo = np.float32(-fs)
    for t in numba.prange(n):
        buckets = np.empty((n_steps + 1, _TILE), dtype=np.float32)
        partial = np.empty(_TILE, dtype=np.float32)
        used = np.zeros(n_steps + 1, dtype=np.int64)
        for i in range(rows):  # which steps fire (per count level, or per bit)
            k = abs(spikes[t, i])
            if k == 0:
                continue
            if binary:
                used[k] += 1
            else:
                for b in range(n_steps):
                    if (k >> b) & 1:
                        used[b] += 1
        n_clip = 0
        n_conv = 0
        for c0 in range(0, cols, _TILE):
            width = min(_TILE, cols - c0)
            buckets[:, :] = 0.0
            for i in range(rows):
                v = spikes[t, i]
                if v == 0:
                    continue
                k = abs(v)
                sign = np.float32(1.0) if v > 0 else np.float32(-1.0)
                row = cells[i, c0 : c0 + width]
                if binary:
                    bucket = buckets[k]
                    for j in range(width):
                        bucket[j] += sign * row[j]
                else:
                    for b in range(n_steps):
                        if (k >> b) & 1:
                            bucket = buckets[b]
                            for j in range(width):
                                bucket[j] += sign * row[j]
            dest = out[t, c0 : c0 + width]
            if binary:  # step t fires the rows with count > t: the buckets above t
                partial[:] = 0.0
                active = 0
                for k in range(n_steps, 0, -1):
                    active += used[k]
                    if active == 0:
                        continue
                    n_conv += width
                    bucket = buckets[k]
                    for j in range(width):
                        partial[j] += bucket[j]
                        x = partial[j]
                        if x > hi or x < lo:
                            n_clip += 1
                            x = min(max(x, lo), hi)
                        dest[j] += np.rint(x * inv) * lsb
            else:
                for b in range(n_steps):
                    if used[b] == 0:
                        continue
                    n_conv += width
                    weight = float(2**b) * lsb
                    bucket = buckets[b]
                    for j in range(width):
                        x = bucket[j]
                        if x > hi or x < lo:
                            n_clip += 1
                            x = min(max(x, lo), hi)
                        dest[j] += weight * np.rint(x * inv)
        clipped[t] += n_clip
        converted[t] += n_conv


@dataclass
class LayerError:
    """Running error figures of one site's product against the exact digital one."""

    signal: float = 0.0
    noise: float = 0.0
    clipped: int = 0
    converted: int = 0

    @property
    def snr_db(self) -> float | None:
        """10 log10(signal power / error power); None when the product is exact."""
        if self.noise <= 0:
            return None
        return 10.0 * math.log10(self.signal / self.noise) if self.signal > 0 else -math.inf

    @property
    def clipped_fraction(self) -> float:
        """Share of conversions the converter range clipped."""
        return self.clipped / self.converted if self.converted else 0.0


def _conductances(
    model: ArrayModel, values: np.ndarray, rng: np.random.Generator | None
) -> np.ndarray:
    """Cell values (levels) -> read conductances (levels) under the model's non-idealities."""
    g = values.astype(np.float32)
    gmax = model.g_max
    if model.conductance_levels < 2**model.bits_per_cell:
        span = np.float32(gmax / (model.conductance_levels - 1))
        g = np.rint(g / span) * span
    if rng is None:
        return g
    if model.programming_sigma > 0:
        g += rng.standard_normal(g.shape, dtype=np.float32) * np.float32(
            model.programming_sigma * gmax
        )
        np.maximum(g, 0, out=g)
    if (model.drift_nu > 0 or model.drift_nu_sigma > 0) and model.drift_time_ratio != 1.0:
        nu = np.full(g.shape, model.drift_nu, dtype=np.float32)
        if model.drift_nu_sigma > 0:
            nu += rng.standard_normal(g.shape, dtype=np.float32) * np.float32(model.drift_nu_sigma)
            np.maximum(nu, 0, out=nu)
        log_ratio = np.float32(math.log(model.drift_time_ratio))
        g *= np.exp(-nu * log_ratio)
        if model.drift_compensation:
            g *= np.float32(model.drift_time_ratio**model.drift_nu)
    return g


def array_product(
    spikes: np.ndarray,
    mapping: SiteMapping,
    model: ArrayModel,
    n_steps: int,
    rng: np.random.Generator | None = None,
    error: LayerError | None = None,
) -> np.ndarray:
    """The product the arrays compute for signed counts `spikes` (tokens x in).

    `n_steps` is the site's timesteps (L - 1 binary, ceil(log2 L) bitwise). `rng` draws
    the cells' noise (None: no draw, only the deterministic non-idealities). `error`
    collects clipping counts.
    """
    spikes = np.ascontiguousarray(spikes, dtype=np.int32)
    n_tok = spikes.shape[0]
    n_out = mapping.codes.shape[1]
    bpc, slices = model.bits_per_cell, model.slices
    mask = model.g_max
    block = max(1, min(n_out, _BLOCK_CELLS // max(1, model.rows * slices)))
    fs = float(min(model.full_scale, 3.0e38))
    clipped = np.zeros(n_tok, dtype=np.int64)
    converted = np.zeros(n_tok, dtype=np.int64)
    sums = []
    for a in range(mapping.arrays):
        r = mapping.chunk(a)
        acc = np.zeros((n_tok, n_out), dtype=np.float64)
        s = np.ascontiguousarray(spikes[:, r])
        for c0 in range(0, n_out, block):
            c1 = min(n_out, c0 + block)
            codes = mapping.codes[r, c0:c1].astype(np.int64)
            values = np.concatenate(
                [(codes >> (bpc * k)) & mask for k in range(slices)], axis=1
            )  # (rows, slices x block), slice-major
            cells = np.ascontiguousarray(_conductances(model, values, rng))
            out = np.zeros((n_tok, cells.shape[1]), dtype=np.float64)
            _converted_sums(
                s, cells, n_steps, model.scheme == "binary", fs, model.lsb, out, clipped, converted
            )
            width = c1 - c0
            for k in range(slices):
                acc[:, c0:c1] += out[:, k * width : (k + 1) * width] * float(2 ** (bpc * k))
        sums.append(acc)
    if error is not None:
        error.clipped += int(clipped.sum())
        error.converted += int(converted.sum())
    return _finish(sums, mapping, spikes)
