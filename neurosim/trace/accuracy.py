"""Accuracy of a spiking LLM on in-memory-compute hardware: the real SmolLM2-135M, run
with every linear layer computed by `analog.array_product` under one architecture.

The text is the King James Bible (or another shipped corpus): the first `calib_tokens`
calibrate the per-neuron thresholds (as `trace extract` does), the next `tokens` are
scored. Three models are compared on them: the float model, the *digital* spiking
model (spike-coded inputs, weights in the array codes, exact integer sums) and the
*hardware* model (the same codes read through noisy cells and converters). Reported:
top-1 agreement of the hardware model with the float model, perplexities, and per
layer the signal-to-noise ratio of the hardware product against the digital one and
the share of conversions clipped.

A process keeps the model, the calibration, the float logits and the weight codes in
memory (`_cache`), so the points of a sweep pay for them once per worker.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurosim.errors import ConfigError, UsageError
from neurosim.trace.analog import (
    ArrayModel,
    LayerError,
    SiteMapping,
    array_product,
    digital_product,
    map_weights,
)
from neurosim.trace.extract import (
    ExtractConfig,
    Scores,
    calibrate,
    make_codings,
    windows,
)
from neurosim.trace.quantize import SiteCoding, dequantize, quantize, token_factor

ACCURACY_METRICS = ("perplexity", "agreement")
"""Metric-registry names this module computes for a sweep point."""


@dataclass(frozen=True)
class AccuracyOptions:
    """Which text, how much of it, and the seed of the cells' noise."""

    tokens: int = 64
    calib_tokens: int = 512
    corpus: str = "bible"
    context: int = 256
    seed: int = 0

    def check(self) -> None:
        """Raise ConfigError for unusable counts."""
        if not 2 <= self.tokens <= 100_000:
            raise UsageError(f"--tokens must be between 2 and 100000; got {self.tokens}")
        if not 1 <= self.calib_tokens <= 1_000_000:
            raise UsageError(
                f"--calib-tokens must be between 1 and 1000000; got {self.calib_tokens}"
            )
        if self.seed < 0:
            raise UsageError(f"--seed must be non-negative; got {self.seed}")


class _Lru:
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        value = make()
        self.items[key] = value
        while len(self.items) > self.size:
            self.items.popitem(last=False)
        return value


@dataclass
class _Cache:
    model: Any = None
    texts: _Lru = field(default_factory=lambda: _Lru(2))
    mappings: _Lru = field(default_factory=lambda: _Lru(1))
    digital: _Lru = field(default_factory=lambda: _Lru(4))
    results: _Lru = field(default_factory=lambda: _Lru(64))


_cache = _Cache()


def load_model():
    """SmolLM2-135M, loaded once per process."""
    if _cache.model is None:
        from neurosim.trace.gguf_llama import load_smollm2

        _cache.model = load_smollm2()
    return _cache.model


@dataclass
class _Text:
    """Calibrated thresholds, the scored windows and their float logits."""

    calibration: Any
    windows: list[np.ndarray]
    float_logits: list[np.ndarray]


def _text(model, opts: AccuracyOptions) -> _Text:
    def make() -> _Text:
        from neurosim.trace.corpus import corpus_source, take_tokens

        ids = take_tokens(
            corpus_source(opts.corpus), model.encode, opts.calib_tokens + opts.tokens
        )
        if len(ids) < opts.calib_tokens + 2:
            raise UsageError(f"corpus {opts.corpus} has too few tokens")
        cal = calibrate(model, ids[: opts.calib_tokens], ExtractConfig(context=opts.context))
        wins = windows(ids[opts.calib_tokens :], opts.context)
        return _Text(cal, wins, [model.forward(w) for w in wins])

    return _cache.texts.get((opts.corpus, opts.calib_tokens, opts.tokens, opts.context), make)


def workload_levels(model, workload) -> dict[str, int]:
    """Levels L per site type, after checking the workload describes `model`'s shapes."""
    blocks = workload.blocks
    problems = []
    if blocks.count != model.n_blocks:
        problems.append(f"blocks.count is {blocks.count}, the model has {model.n_blocks}")
    widths = {s.site: s.width for s in model.sites}
    levels = {}
    for name, width in widths.items():
        site = workload.head.site if name == "head" else blocks.sites.get(name)
        if site is None:
            problems.append(f"site {name} is missing")
        elif site.width != width:
            problems.append(f"site {name} has width {site.width}, the model's is {width}")
        else:
            levels[name] = site.levels
    if problems:
        raise ConfigError.single(
            workload.name,
            "blocks",
            f"the accuracy model runs {model.info.name}, whose shapes this workload does "
            f"not describe ({'; '.join(problems)}); use workloads/smollm2-135m.yaml (or a "
            "copy with other levels or weight bits)",
        )
    return levels


def _codings(model, text: _Text, levels: dict[str, int]) -> list[SiteCoding]:
    return make_codings(model.sites, levels, ExtractConfig(), text.calibration)


def _mappings(model, codings, levels, rows: int, bits: int, opts) -> list[SiteMapping]:
    key = (opts.corpus, opts.calib_tokens, tuple(sorted(levels.items())), rows, bits)

    def make() -> list[SiteMapping]:
        return [
            map_weights(model.site_weights(i), c.neuron_scale, rows, bits)
            for i, c in enumerate(codings)
        ]

    return _cache.mappings.get(key, make)


def _steps(levels: int, scheme: str) -> int:
    return levels - 1 if scheme == "binary" else max(1, math.ceil(math.log2(levels)))


class HardwareForward:
    """Forward-pass hooks: spike-code each site, then compute its layers on the arrays
    (`array=None`: the exact digital product of the same codes)."""

    def __init__(
        self,
        codings: list[SiteCoding],
        mappings: list[SiteMapping],
        array: ArrayModel | None,
        seed: int = 0,
    ) -> None:
        self.codings = codings
        self.mappings = mappings
        self.array = array
        self.seed = seed
        self.errors = [LayerError() for _ in codings]
        self._spikes: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def hook(self, index: int, x: np.ndarray) -> np.ndarray:
        """Spike-code site `index`; keep its signed counts for its layers."""
        coding = self.codings[index]
        a = token_factor(x, coding.threshold)
        v = a * coding.neuron_scale[None, :]
        counts, negative = quantize(x, v, coding.levels, coding.sparsify)
        signed = np.where(negative, -counts.astype(np.int32), counts.astype(np.int32))
        self._spikes[index] = (signed, a)
        return dequantize(counts, negative, v)

    def linear(self, index: int, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        """The layers reading site `index`, from its spikes and the coded weights."""
        signed, a = self._spikes.pop(index)
        mapping = self.mappings[index]
        exact = digital_product(signed, mapping)
        if self.array is None or self.array.exact:
            y = exact
        else:
            coding = self.codings[index]
            steps = _steps(coding.levels, self.array.scheme)
            rng = np.random.default_rng([self.seed, index]) if self.array.noisy else None
            err = self.errors[index]
            y = array_product(signed, mapping, self.array, steps, rng, err)
            err.signal += float(np.square(exact).sum())
            err.noise += float(np.square(y - exact).sum())
        if coding_adaptive(self.codings[index]):
            y = y * a
        return y.astype(np.float32)


def coding_adaptive(coding: SiteCoding) -> bool:
    """True if the coding scales thresholds per token."""
    return coding.threshold == "adaptive"


def _score(model, text: _Text, fwd: HardwareForward) -> dict:
    scores = Scores()
    for w, f in zip(text.windows, text.float_logits, strict=True):
        scores.add(w, f, model.forward(w, fwd.hook, fwd.linear))
    return scores.as_dict()


def evaluate_accuracy(arch, workload, opts: AccuracyOptions | None = None) -> dict:
    """Accuracy of `workload` (SmolLM2-135M shapes) on `arch`'s arrays."""
    opts = opts or AccuracyOptions()
    opts.check()
    t0 = time.perf_counter()
    array = ArrayModel.from_configs(arch, workload)
    model = load_model()
    levels = workload_levels(model, workload)
    text = _text(model, opts)
    t_ref = time.perf_counter()
    codings = _codings(model, text, levels)
    mappings = _mappings(model, codings, levels, array.rows, array.weight_bits, opts)
    dkey = (opts.corpus, opts.calib_tokens, opts.tokens, tuple(sorted(levels.items())),
            array.rows, array.weight_bits)  # fmt: skip
    digital = _cache.digital.get(
        dkey, lambda: _score(model, text, HardwareForward(codings, mappings, None))
    )
    t_dig = time.perf_counter()
    fwd = HardwareForward(codings, mappings, array, opts.seed)
    hw = digital if array.exact else _score(model, text, fwd)
    t_hw = time.perf_counter()
    layers = []
    for spec, err in zip(model.sites, fwd.errors, strict=True):
        snr = err.snr_db
        layers.append(
            {
                "site": spec.name,
                "snr_db": None if array.exact else snr,
                "clipped_fraction": err.clipped_fraction,
            }
        )
    finite = [x["snr_db"] for x in layers if x["snr_db"] is not None and math.isfinite(x["snr_db"])]
    return {
        "architecture": arch.name,
        "workload": workload.name,
        "model": model.info.name,
        "text": {
            "corpus": opts.corpus,
            "calibration_tokens": opts.calib_tokens,
            "scored_tokens": int(sum(w.size for w in text.windows)),
            "context": opts.context,
        },
        "seed": opts.seed,
        "levels": levels,
        "array_model": array.describe(),
        "agreement": hw["next_token_agreement"],
        "perplexity": hw["spiking_perplexity"],
        "float_perplexity": hw["float_perplexity"],
        "kl_nats_per_token": hw["kl_nats_per_token"],
        "digital": {
            "agreement": digital["next_token_agreement"],
            "perplexity": digital["spiking_perplexity"],
            "kl_nats_per_token": digital["kl_nats_per_token"],
        },
        "snr_db_median": float(np.median(finite)) if finite else None,
        "clipped_fraction": (
            sum(e.clipped for e in fwd.errors) / max(1, sum(e.converted for e in fwd.errors))
        ),
        "layers": layers,
        "seconds": {
            "reference": round(t_ref - t0, 3),
            "digital": round(t_dig - t_ref, 3),
            "hardware": round(t_hw - t_dig, 3),
        },
    }


@dataclass(frozen=True)
class SweepAccuracy:
    """A sweep point's accuracy metrics (picklable: workers call it by reference). 32
    scored tokens by default, to keep a study of a few dozen points within minutes."""

    tokens: int = 32
    calib_tokens: int = 512
    corpus: str = "bible"

    def __call__(self, arch, workload, seed: int) -> dict[str, float]:
        opts = AccuracyOptions(
            tokens=self.tokens, calib_tokens=self.calib_tokens, corpus=self.corpus, seed=seed
        )
        array = ArrayModel.from_configs(arch, workload)
        levels = tuple(sorted((n, s.width, s.levels) for n, s in workload.blocks.sites.items()))
        key = (array, levels, workload.head.site.levels, workload.blocks.count, opts)

        def make() -> dict[str, float]:  # points differing only in energy or time reuse it
            report = evaluate_accuracy(arch, workload, opts)
            return {m: float(report[m]) for m in ACCURACY_METRICS}

        return dict(_cache.results.get(key, make))
