"""The metric registry: every per-run metric, its unit, meaning, better direction and formula.

Adding a metric is one entry in :data:`METRICS`: the result record (chips and GPUs alike),
`neurosim run`, `compare`, sweep specs (``KNOWN_METRICS``), sweep stores, Pareto axes and
their labels all read this table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from neurosim.results.pricing import EnergyBreakdown

__all__ = [
    "METRICS",
    "Metric",
    "RunTotals",
    "metric_values",
    "percentile",
]

Better = Literal["lower", "higher", "none"]

UNIT_DIMENSIONS: dict[str, str] = {
    "s": "time",
    "J": "energy",
    "W": "power",
    "B": "bytes",
    "m2": "area",
}
"""Display unit -> dimension of `neurosim.units.format_quantity` (other units: plain)."""

SI_PREFIXES = {"": 0, "k": 3, "M": 6, "G": 9, "m": -3, "u": -6}
"""SI prefix -> power of ten."""


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile of `values` (0.0 for none)."""
    if not values:
        return 0.0
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


@dataclass(frozen=True)
class RunTotals:
    """What a finished run hands the metrics, whatever the architecture kind.

    `offchip_components` are the energy components outside the chip (DRAM channels, HBM),
    left out of the on-chip dynamic power.
    """

    latencies_s: list[float]
    elapsed_s: float
    energy: EnergyBreakdown
    parameters: float
    weight_bytes: float
    memory_footprint_bytes: float
    synops: float
    spikes: float
    offchip_components: frozenset[str] = frozenset()
    area_m2: Mapping[str, float] = field(default_factory=dict)
    accuracy: Mapping[str, float] = field(default_factory=dict)

    @property
    def tokens(self) -> int:
        """Decoded tokens (at least 1, for per-token divisions)."""
        return max(1, len(self.latencies_s))

    def per_second(self, joules: float) -> float:
        """`joules` over the simulated time (0 for no time)."""
        return joules / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def offchip_dynamic_j(self) -> float:
        """Dynamic energy of the off-chip memories."""
        return sum(j for (c, _), j in self.energy.dynamic.items() if c in self.offchip_components)


@dataclass(frozen=True, kw_only=True)
class Metric:
    """One metric: its name (ending in its unit suffix), SI unit, which way is better, a
    readable title, a short table heading (to which a unit is added), how it follows from
    a run's totals (None: not defined for that run) and what it means."""

    name: str
    unit: str
    better: Better
    title: str
    short: str
    value: Callable[[RunTotals], float | None]
    description: str

    @property
    def dimension(self) -> str | None:
        """Dimension for `neurosim.units.format_quantity`, None for plain numbers."""
        return UNIT_DIMENSIONS.get(self.unit)

    @property
    def label(self) -> str:
        """Title with the unit, for axes and tables."""
        return f"{self.title} ({self.unit})" if self.unit else self.title

    def heading(self, prefix: str = "") -> str:
        """Short column heading with the unit scaled by an SI `prefix`: "latency ms",
        "mJ/token", "footprint GB"."""
        unit = prefix + self.unit + ("/token" if "_per_token" in self.name else "")
        return f"{self.short} {unit}".strip()

    def scaled(self, value: float, prefix: str = "") -> float:
        """`value` in units of `prefix` (one of "", "k", "M", "G", "m", "u")."""
        exp = SI_PREFIXES[prefix]
        return value / 10.0**exp if exp >= 0 else value * 10.0**-exp


def _tokens_per_s(t: RunTotals) -> float:
    return len(t.latencies_s) / t.elapsed_s if t.elapsed_s > 0 else 0.0


def _area(t: RunTotals) -> float | None:
    return sum(t.area_m2.values()) if t.area_m2 else None


def _entry(name, unit, better, title, short, value, description) -> Metric:
    return Metric(
        name=name,
        unit=unit,
        better=better,
        title=title,
        short=short,
        value=value,
        description=description,
    )


# name, unit (SI), better, title, short heading, value, description
_ENTRIES = (
    _entry("parameters", "", "none", "parameters", "parameters",
           lambda t: float(t.parameters), "weights of the model"),
    _entry("tokens_per_s", "tokens/s", "higher", "throughput", "", _tokens_per_s,
           "decoded tokens / simulated time (batch 1, tokens back to back)"),
    _entry("latency_mean_s", "s", "lower", "mean latency per token", "latency",
           lambda t: float(np.mean(t.latencies_s)) if t.latencies_s else 0.0,
           "mean per-token decode time"),
    _entry("latency_p50_s", "s", "lower", "median latency per token", "p50 latency",
           lambda t: percentile(t.latencies_s, 50), "median per-token decode time"),
    _entry("latency_p99_s", "s", "lower", "p99 latency per token", "p99 latency",
           lambda t: percentile(t.latencies_s, 99), "99th-percentile per-token decode time"),
    _entry("energy_per_token_j", "J", "lower", "energy per token", "",
           lambda t: t.energy.total_j / t.tokens,
           "dynamic (events x prices) + static (leakage x time) energy per token"),
    _entry("dynamic_energy_per_token_j", "J", "lower", "dynamic energy per token", "dynamic",
           lambda t: t.energy.dynamic_j / t.tokens, "events x prices, per token"),
    _entry("static_energy_per_token_j", "J", "lower", "static energy per token", "static",
           lambda t: t.energy.static_j / t.tokens, "static power x time, per token"),
    _entry("dynamic_power_w", "W", "lower", "dynamic power", "dynamic",
           lambda t: t.per_second(t.energy.dynamic_j),
           "dynamic energy / time, off-chip memory (DRAM, HBM) included"),
    _entry("dynamic_power_onchip_w", "W", "lower", "dynamic power on chip", "on-chip dynamic",
           lambda t: t.per_second(t.energy.dynamic_j - t.offchip_dynamic_j),
           "dynamic energy / time without the DRAM or HBM devices"),
    _entry("static_power_w", "W", "lower", "static power", "static",
           lambda t: t.per_second(t.energy.static_j), "static energy / time"),
    _entry("total_power_w", "W", "lower", "total power", "total",
           lambda t: t.per_second(t.energy.total_j), "all energy / time"),
    _entry("tokens_per_j", "tokens/J", "higher", "tokens per joule", "",
           lambda t: t.tokens / t.energy.total_j if t.energy.total_j else 0.0,
           "tokens per joule of all energy"),
    _entry("synops_per_token", "", "lower", "synaptic ops per token", "synops",
           lambda t: t.synops / t.tokens,
           "spike x nonzero-weight accumulations per token (GPU: dense MACs)"),
    _entry("spikes_per_token", "", "lower", "spikes per token", "spikes",
           lambda t: t.spikes / t.tokens,
           "binary spikes emitted by all site neurons per token"),
    _entry("weight_bytes", "B", "lower", "weight bytes", "weights",
           lambda t: float(t.weight_bytes), "bytes of stored weights"),
    _entry("memory_footprint_bytes", "B", "lower", "memory footprint", "footprint",
           lambda t: float(t.memory_footprint_bytes),
           "bytes the model occupies: weights plus recurrent state (GPU: plus KV cache or "
           "state, activations, framework)"),
    _entry("area_m2", "m2", "lower", "area", "area", _area,
           "area of the parts whose unit area the preset gives (ADCs, arrays); only when it "
           "gives some"),
    _entry("perplexity", "", "lower", "perplexity", "perplexity",
           lambda t: t.accuracy.get("perplexity"),
           "SmolLM2-135M's perplexity on held-out KJV text with every layer computed by the "
           "arrays (`neurosim accuracy`); only when accuracy is evaluated"),
    _entry("agreement", "", "higher", "top-1 agreement with the float model", "agreement",
           lambda t: t.accuracy.get("agreement"),
           "share of positions where that model's most likely next token is the float "
           "model's; only when accuracy is evaluated"),
)  # fmt: skip

METRICS: dict[str, Metric] = {m.name: m for m in _ENTRIES}
"""Every metric of a result, in the order of `Result.metrics`."""


def metric_values(totals: RunTotals) -> dict[str, float]:
    """Every metric defined for a run, in registry order."""
    out = {}
    for m in METRICS.values():
        v = m.value(totals)
        if v is not None:
            out[m.name] = v
    return out
