"""Extract a spike trace from an `ActivationModel`: calibrate, choose levels, evaluate, record.

The pipeline, for token ids already cut from a text (calibration | trace | held-out):

1. `calibrate` runs the float model over calibration windows and keeps each site's
   activation ranges (`quantize.Calibration`).
2. Levels per site type are given, or chosen by `choose_levels`: each site type alone
   is spike-coded at each candidate L (all other sites float) and its sensitivity is the
   mean KL divergence of the output distribution from the float model's on calibration
   text; the combinations of candidate levels whose cost fits the budget (mean log2 L,
   weighted by the weights each site feeds) are ranked by summed KL, and the best few
   are scored again with every site coded at once (sensitivities do not add up exactly).
3. `evaluate` measures the cost of the coding on held-out text: next-token agreement
   between the spiking and the float model, and the perplexity of each.
4. `extract` runs the spiking forward pass (every site coded, so each site sees inputs
   that already carry upstream quantization, as the spiking hardware would) window by
   window and streams the counts to a trace file.

Text is cut into independent windows of `context` tokens so memory stays bounded.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurosim.errors import TraceError
from neurosim.trace.activations import ActivationModel, SiteSpec, site_types
from neurosim.trace.format import CODECS, TraceWriter
from neurosim.trace.quantize import (
    GRANULARITIES,
    THRESHOLDS,
    Calibration,
    SiteCoding,
    SpikeQuantizer,
)
from neurosim.workload.model import timesteps_for

SCHEMES = ("binary", "bitwise")
DEFAULT_CANDIDATES = (2, 4, 8, 16, 32)


class NullBar:
    """A progress bar that shows nothing (the default; the CLI passes tqdm)."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


BarFactory = Callable[[str, int], object]  # (description, total) -> object with update/close


def null_bar(desc: str, total: int) -> NullBar:
    """Factory of silent progress bars."""
    return NullBar()


@dataclass
class ExtractConfig:
    """Every choice of an extraction (what the CLI options set).

    `tokens`, `calib_tokens` and `eval_tokens` say how the CLI and the scripts cut a
    text (calibration | traced | held-out); `extract` itself takes the token ids.
    """

    tokens: int = 256
    levels: int | dict[str, int] | str = 16  # one L, per site type, or "auto"
    level_blocks: int | None = None  # auto: one L per site type per range of this many blocks
    scheme: str = "binary"
    threshold: str = "static"
    granularity: str = "neuron"
    k: float | None = None  # adaptive per-site threshold V_th = mean|x|/k, no calibration
    sparsify: float = 0.0
    signed: bool = True
    context: int = 256
    calib_tokens: int = 2048
    eval_tokens: int = 256
    level_budget: float = 3.5
    level_candidates: tuple[int, ...] = DEFAULT_CANDIDATES
    level_verify: int = 6  # best additive assignments re-scored with every site coded
    chunk_tokens: int = 64
    codec: str = "zlib"

    def check(self) -> None:
        """Raise TraceError for inconsistent choices."""
        if self.scheme not in SCHEMES:
            raise TraceError(f"unknown scheme {self.scheme!r}; known: {', '.join(SCHEMES)}")
        if self.threshold not in THRESHOLDS:
            raise TraceError(
                f"unknown threshold {self.threshold!r}; known: {', '.join(THRESHOLDS)}"
            )
        if self.granularity not in GRANULARITIES:
            raise TraceError(
                f"unknown granularity {self.granularity!r}; known: {', '.join(GRANULARITIES)}"
            )
        if self.k is not None and (
            self.k <= 0 or self.threshold != "adaptive" or self.granularity != "site"
        ):
            raise TraceError(
                "k sets the adaptive per-site threshold V_th = mean(|x|)/k: it needs "
                "threshold 'adaptive', granularity 'site' and k > 0"
            )
        if not 0.0 <= self.sparsify < 1.0:
            raise TraceError(f"sparsify must be in [0, 1); got {self.sparsify}")
        if self.codec not in CODECS:
            raise TraceError(f"unknown codec {self.codec!r}; known: {', '.join(CODECS)}")
        if self.tokens < 1 or self.context < 2 or self.chunk_tokens < 1:
            raise TraceError("tokens, context (>= 2) and chunk size must be positive")
        if self.eval_tokens < 0 or self.calib_tokens < 0:
            raise TraceError("eval and calibration token counts cannot be negative")
        if self.level_blocks is not None and (self.levels != "auto" or self.level_blocks < 1):
            raise TraceError(
                "level_blocks (blocks per level range) needs levels 'auto' and is at least 1; "
                f"got {self.level_blocks}"
            )
        if self.levels == "auto" and self.k is None and self.calib_tokens < 2:
            raise TraceError("choosing levels automatically needs calibration text")
        levels = self.levels
        values = (
            [levels]
            if isinstance(levels, int)
            else list(levels.values())
            if isinstance(levels, dict)
            else list(self.level_candidates)
        )
        for lv in values:
            if not 2 <= int(lv) <= 65536:
                raise TraceError(f"levels must be in 2..65536; got {lv}")
        if self.k is None and self.calib_tokens < 1:
            raise TraceError("without k the thresholds are calibrated: calibration tokens > 0")


def windows(ids: Sequence[int], context: int) -> list[np.ndarray]:
    """Consecutive windows of at most `context` tokens (each run as its own sequence)."""
    arr = np.asarray(ids, dtype=np.int64)
    return [arr[i : i + context] for i in range(0, arr.size, context)]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax in float64."""
    z = logits.astype(np.float64)
    z -= z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def calibrate(
    model: ActivationModel, ids: Sequence[int], cfg: ExtractConfig, bar: BarFactory = null_bar
) -> Calibration:
    """Activation ranges of every site over the calibration text (float model)."""
    cal = Calibration(cfg.threshold)
    wins = windows(ids, cfg.context)
    b = bar("calibrate", len(ids))
    for w in wins:
        model.forward(w, cal)
        b.update(len(w))
    b.close()
    return cal


def site_type(s: SiteSpec) -> str:
    """The level unit of a site instance when levels are chosen per site type."""
    return s.site


def block_range_unit(level_blocks: int | None, n_blocks: int) -> Callable[[SiteSpec], str]:
    """The level unit of a site instance: its type, or with `level_blocks` its type in a
    range of that many blocks ('attn_in@0-3'); the head is always its own unit."""
    if level_blocks is None:
        return site_type

    def unit(s: SiteSpec) -> str:
        if s.block is None:
            return s.site
        first = (s.block // level_blocks) * level_blocks
        last = min(first + level_blocks, max(n_blocks, s.block + 1)) - 1
        return f"{s.site}@{first}-{last}"

    return unit


def make_codings(
    sites: Sequence[SiteSpec],
    levels: dict[str, int],
    cfg: ExtractConfig,
    calibration: Calibration | None,
    only: set[str] | None = None,
    unit: Callable[[SiteSpec], str] = site_type,
) -> list[SiteCoding | None]:
    """One coding per site instance at the levels of its unit (None for sites whose unit
    is outside `only`)."""
    out: list[SiteCoding | None] = []
    for i, s in enumerate(sites):
        if only is not None and unit(s) not in only:
            out.append(None)
            continue
        lv = levels[unit(s)]
        if cfg.k is not None:
            scale = np.full(s.width, 1.0 / cfg.k, dtype=np.float32)
        else:
            if calibration is None:
                raise TraceError("thresholds need calibration (or a fixed k)")
            scale = calibration.scale(i, lv, cfg.granularity)
        out.append(SiteCoding(lv, cfg.threshold, cfg.granularity, cfg.sparsify, scale))
    return out


def resolve_levels(sites: Sequence[SiteSpec], levels: int | dict[str, int]) -> dict[str, int]:
    """Levels per site type from one L or a partial mapping (others default to 16)."""
    types = site_types(sites)
    if isinstance(levels, int):
        return dict.fromkeys(types, int(levels))
    unknown = sorted(set(levels) - set(types))
    if unknown:
        raise TraceError(f"levels name unknown site types {unknown}; known: {', '.join(types)}")
    return {t: int(levels.get(t, 16)) for t in types}


def _perplexity(nll: float) -> float:
    """exp(mean negative log-likelihood); inf beyond float range (a destroyed model)."""
    return math.exp(nll) if nll < 700.0 else math.inf


@dataclass
class Scores:
    """Running accuracy figures of a spiking model against the float one."""

    nll_float: float = 0.0
    nll_spiking: float = 0.0
    predicted: int = 0
    agree: int = 0
    kl: float = 0.0
    positions: int = 0

    def add(self, ids: np.ndarray, float_logits: np.ndarray | None, spk_logits: np.ndarray) -> None:
        """Fold in one window (targets are the next tokens of `ids`)."""
        lq = log_softmax(spk_logits)
        targets = ids[1:]
        rows = np.arange(targets.size)
        self.nll_spiking += float(-lq[rows, targets].sum())
        self.predicted += int(targets.size)
        if float_logits is not None:
            lf = log_softmax(float_logits)
            self.nll_float += float(-lf[rows, targets].sum())
            self.agree += int((lf.argmax(-1) == lq.argmax(-1)).sum())
            self.kl += float((np.exp(lf) * (lf - lq)).sum())
            self.positions += int(ids.size)

    def as_dict(self) -> dict:
        """Perplexities, agreement and KL (nats per token)."""
        out: dict = {"predicted_tokens": self.predicted}
        if self.predicted:
            out["spiking_perplexity"] = _perplexity(self.nll_spiking / self.predicted)
        if self.positions:
            out["float_perplexity"] = _perplexity(self.nll_float / max(1, self.predicted))
            out["next_token_agreement"] = self.agree / self.positions
            out["kl_nats_per_token"] = self.kl / self.positions
        return out


def evaluate(
    model: ActivationModel,
    codings: list[SiteCoding | None],
    ids: Sequence[int],
    context: int,
    bar: BarFactory = null_bar,
    float_logits: list[np.ndarray] | None = None,
) -> dict:
    """Accuracy of the spiking model against the float model on `ids` (held-out text)."""
    scores = Scores()
    b = bar("evaluate", len(ids))
    for i, w in enumerate(windows(ids, context)):
        f = float_logits[i] if float_logits is not None else model.forward(w)
        q = model.forward(w, SpikeQuantizer(codings))
        scores.add(w, f, q)
        b.update(len(w))
    b.close()
    return scores.as_dict()


def site_weights(
    sites: Sequence[SiteSpec], unit: Callable[[SiteSpec], str] = site_type
) -> dict[str, int]:
    """Weights fed by each unit (width x outputs, summed over its instances)."""
    out: dict[str, int] = {}
    for s in sites:
        out[unit(s)] = out.get(unit(s), 0) + s.width * sum(o for _, o in s.linears)
    return out


@dataclass
class LevelChoice:
    """Sensitivity table and the levels the budget allows."""

    levels: dict[str, int]
    budget_bits: float
    mean_bits: float
    sensitivity: list[dict] = field(default_factory=list)
    joint: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        """Plain JSON data."""
        return {
            "mode": "auto",
            "budget_bits": self.budget_bits,
            "mean_bits": self.mean_bits,
            "measure": "mean KL(float || spiking) per token with only that site type coded",
            "sensitivity": self.sensitivity,
            "joint_check": self.joint,
        }


def rank_allocations(
    kl: dict[str, dict[int, float]], weights: dict[str, int], budget_bits: float, top: int = 1
) -> list[tuple[dict[str, int], float, float]]:
    """The `top` level assignments with the least summed KL whose mean bits fit the budget.

    Sensitivities are taken as additive across site types. Every combination of the
    candidates is scored (a few thousand for five site types); ties go to fewer bits.
    Beyond MAX_COMBINATIONS (levels per block range) the greedy assignment is the one
    answer. Returns (levels per type, mean bits, summed KL), best first.
    """
    total = sum(weights.values())
    types = list(kl)
    share = np.array([weights[t] / total for t in types])
    cands = [sorted(kl[t]) for t in types]
    n_combos = math.prod(len(c) for c in cands)
    if n_combos > MAX_COMBINATIONS:
        return [greedy_allocation(kl, weights, budget_bits)]
    grids = np.meshgrid(*[np.arange(len(c)) for c in cands], indexing="ij")
    idx = np.stack([g.ravel() for g in grids], axis=1)  # (combos, types)
    bits = np.zeros(len(idx))
    loss = np.zeros(len(idx))
    for j, t in enumerate(types):
        lv = np.array(cands[j])[idx[:, j]]
        bits += share[j] * np.log2(lv)
        loss += np.array([kl[t][v] for v in cands[j]])[idx[:, j]]
    ok = bits <= budget_bits + 1e-9
    if not ok.any():
        raise TraceError(
            f"a level budget of {budget_bits} bits is below the fewest candidate levels "
            f"({bits.min():.2f} bits)"
        )
    order = np.lexsort((bits, np.where(ok, loss, np.inf)))[: min(top, int(ok.sum()))]
    return [
        (
            {t: int(cands[j][idx[k, j]]) for j, t in enumerate(types)},
            float(bits[k]),
            float(loss[k]),
        )
        for k in order
    ]


MAX_COMBINATIONS = 2_000_000
"""Level assignments scored exhaustively; beyond, `greedy_allocation` chooses."""


def greedy_allocation(
    kl: dict[str, dict[int, float]], weights: dict[str, int], budget_bits: float
) -> tuple[dict[str, int], float, float]:
    """A level assignment for many units: start every unit at its fewest levels, then
    take, while the budget allows, the upgrade that removes the most KL per added bit.
    Returns (levels per unit, mean bits, summed KL)."""
    total = sum(weights.values())
    share = {u: weights[u] / total for u in kl}
    levels = {u: min(kl[u]) for u in kl}
    bits = sum(share[u] * math.log2(levels[u]) for u in kl)
    if bits > budget_bits + 1e-9:
        raise TraceError(
            f"a level budget of {budget_bits} bits is below the fewest candidate levels "
            f"({bits:.2f} bits)"
        )
    while True:
        best = None
        for u in kl:
            for lv in kl[u]:
                added = share[u] * (math.log2(lv) - math.log2(levels[u]))
                gain = kl[u][levels[u]] - kl[u][lv]
                if lv > levels[u] and gain > 0 and bits + added <= budget_bits + 1e-9:
                    rate = gain / max(added, 1e-12)
                    if best is None or rate > best[0]:
                        best = (rate, u, lv, added)
        if best is None:
            break
        _, u, lv, added = best
        levels[u] = lv
        bits += added
    return levels, bits, sum(kl[u][levels[u]] for u in kl)


def allocate_levels(
    kl: dict[str, dict[int, float]], weights: dict[str, int], budget_bits: float
) -> tuple[dict[str, int], float]:
    """The best assignment of `rank_allocations` (levels per type, mean bits)."""
    levels, bits, _ = rank_allocations(kl, weights, budget_bits, top=1)[0]
    return levels, bits


def choose_levels(
    model: ActivationModel,
    calibration: Calibration | None,
    ids: Sequence[int],
    cfg: ExtractConfig,
    bar: BarFactory = null_bar,
) -> LevelChoice:
    """Per-unit sensitivity at each candidate L, then the budgeted allocation. A unit is
    a site type, or with `cfg.level_blocks` a site type in a range of blocks."""
    sites = model.sites
    unit = block_range_unit(cfg.level_blocks, model.info.blocks)
    types = list(dict.fromkeys(unit(s) for s in sites))
    wins = windows(ids, cfg.context)[:1]  # one window of calibration text is enough to rank
    floats = [model.forward(w) for w in wins]
    kl: dict[str, dict[int, float]] = {t: {} for t in types}
    rows = []
    b = bar("sensitivity", len(types) * len(cfg.level_candidates))
    for t in types:
        for lv in cfg.level_candidates:
            codings = make_codings(
                sites, dict.fromkeys(types, lv), cfg, calibration, only={t}, unit=unit
            )
            scores = Scores()
            for w, f in zip(wins, floats, strict=True):
                scores.add(w, f, model.forward(w, SpikeQuantizer(codings)))
            d = scores.as_dict()
            kl[t][lv] = d["kl_nats_per_token"]
            rows.append(
                {
                    "site": t,
                    "levels": lv,
                    "kl": d["kl_nats_per_token"],
                    "agreement": d["next_token_agreement"],
                    "perplexity": d["spiking_perplexity"],
                    "float_perplexity": d["float_perplexity"],
                }
            )
            b.update(1)
    b.close()
    # sensitivities do not add up exactly: score the best few assignments jointly
    weights = site_weights(sites, unit)
    ranked = rank_allocations(kl, weights, cfg.level_budget, top=cfg.level_verify)
    joint = []
    b = bar("joint check", len(ranked))
    for levels, bits, additive in ranked:
        codings = make_codings(sites, levels, cfg, calibration, unit=unit)
        scores = Scores()
        for w, f in zip(wins, floats, strict=True):
            scores.add(w, f, model.forward(w, SpikeQuantizer(codings)))
        joint.append(
            {
                "levels": levels,
                "mean_bits": bits,
                "additive_kl": additive,
                "joint_kl": scores.as_dict()["kl_nats_per_token"],
            }
        )
        b.update(1)
    b.close()
    best = min(joint, key=lambda r: (r["joint_kl"], r["mean_bits"]))
    return LevelChoice(best["levels"], cfg.level_budget, best["mean_bits"], rows, joint)


def site_header(sites: Sequence[SiteSpec], codings: list[SiteCoding], scheme: str) -> list[dict]:
    """The header's per-site entries."""
    out = []
    for s, c in zip(sites, codings, strict=True):
        entry = s.to_json()
        entry.update(c.to_json())
        entry["timesteps"] = timesteps_for(c.levels, scheme)
        out.append(entry)
    return out


@dataclass
class ExtractResult:
    """What an extraction produced."""

    path: Path
    header: dict
    footer: dict


@contextmanager
def _interrupt_held() -> Iterator[None]:
    """Hold a Ctrl-C (SIGINT) until the block ends; re-raise it then. Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught and callable(previous):
            previous(signal.SIGINT, None)


def extract(
    model: ActivationModel,
    out: str | Path,
    trace_ids: Sequence[int],
    cfg: ExtractConfig,
    calib_ids: Sequence[int] = (),
    eval_ids: Sequence[int] = (),
    text: dict | None = None,
    bar: BarFactory = null_bar,
    calibration: Calibration | None = None,
) -> ExtractResult:
    """Run the whole pipeline and write the trace to `out`.

    `calibration` (from `calibrate`) skips the calibration pass when given.
    """
    cfg.check()
    if len(trace_ids) == 0:
        raise TraceError("no tokens to trace")
    t0 = time.perf_counter()
    sites = model.sites
    if cfg.k is None and calibration is None:
        if len(calib_ids) == 0:
            raise TraceError("thresholds are calibrated: give calibration text (or a fixed k)")
        calibration = calibrate(model, calib_ids, cfg, bar)
    t_cal = time.perf_counter()
    choice = None
    if cfg.levels == "auto":
        choice = choose_levels(
            model, calibration, calib_ids if len(calib_ids) else trace_ids, cfg, bar
        )
        levels = choice.levels
        unit = block_range_unit(cfg.level_blocks, model.info.blocks)
    else:
        levels = resolve_levels(sites, cfg.levels)
        unit = site_type
    codings = make_codings(sites, levels, cfg, calibration, unit=unit)
    t_lv = time.perf_counter()
    accuracy = evaluate(model, codings, eval_ids, cfg.context, bar) if len(eval_ids) else {}
    if accuracy:
        accuracy["text"] = "held-out tokens after the traced ones"
    t_ev = time.perf_counter()

    header = {
        "model": model.info.to_json(),
        "sites": site_header(sites, codings, cfg.scheme),
        "coding": {
            "scheme": cfg.scheme,
            "signed": cfg.signed,
            "threshold": cfg.threshold,
            "granularity": cfg.granularity,
            "k": cfg.k,
            "sparsify": cfg.sparsify,
            "levels": levels,
            "rule": "c = clip(floor(|x| / V_th + 1/2 - sparsify), 0, L-1); x^ = sign * c * V_th; "
            "V_th[t, i] = token_scale[t] * neuron_scale[i]",
        },
        "levels_choice": choice.to_json() if choice else {"mode": "given"},
        "calibration": {
            "tokens": 0 if calibration is None else calibration.tokens,
            "rule": "fixed k" if cfg.k is not None else f"{cfg.granularity} ranges",
        },
        "text": {**(text or {"source": "token ids"}), "context_tokens": cfg.context},
        "chunk_tokens": cfg.chunk_tokens,
        "codec": cfg.codec,
    }
    writer = TraceWriter(out, header, [c.neuron_scale for c in codings])
    scores = Scores()
    b = bar("extract", len(trace_ids))
    traced = 0
    interrupted = False
    with writer:
        try:
            for w in windows(trace_ids, cfg.context):
                q = SpikeQuantizer(codings, record=True)
                logits = model.forward(w, q)
                with _interrupt_held():  # a window is recorded whole or not at all
                    scores.add(w, None, logits)
                    counts = np.concatenate([q.counts[i] for i in range(len(sites))], axis=1)
                    neg = (
                        np.concatenate([q.negative[i] for i in range(len(sites))], axis=1)
                        if cfg.signed
                        else None
                    )
                    scale = np.stack([q.token_scale[i] for i in range(len(sites))], axis=1)
                    writer.add(w, counts, neg, scale)
                    traced += len(w)
                b.update(len(w))
        except KeyboardInterrupt:
            if traced == 0:
                raise
            interrupted = True  # keep the finished windows as a valid, shorter trace
        b.close()
        t_ex = time.perf_counter()
        footer = {
            "accuracy": accuracy,
            "trace_text": scores.as_dict(),
            "seconds": {
                "calibrate": round(t_cal - t0, 3),
                "levels": round(t_lv - t_cal, 3),
                "evaluate": round(t_ev - t_lv, 3),
                "extract": round(t_ex - t_ev, 3),
            },
        }
        if interrupted:
            footer["partial"] = True
            footer["tokens_requested"] = len(trace_ids)
        path = writer.close(footer)
    return ExtractResult(path, writer.header, writer.footer)
