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

from neurosim.costs import EnergyBreakdown

__all__ = [
    "METRICS",
    "Metric",
    "RunTotals",
    "metric",
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


@dataclass(frozen=True)
class Metric:
    """One metric: name (with its unit suffix), display unit, meaning, which way is better,
    a readable title and how it follows from a run's totals (None: not defined for this run)."""

    name: str
    unit: str
    description: str
    better: Better
    title: str
    value: Callable[[RunTotals], float | None]

    @property
    def dimension(self) -> str | None:
        """Dimension for `neurosim.units.format_quantity`, None for plain numbers."""
        return UNIT_DIMENSIONS.get(self.unit)

    @property
    def label(self) -> str:
        """Title with the unit, for axes and tables."""
        return f"{self.title} ({self.unit})" if self.unit else self.title


def _tokens_per_s(t: RunTotals) -> float:
    return len(t.latencies_s) / t.elapsed_s if t.elapsed_s > 0 else 0.0


def _area(t: RunTotals) -> float | None:
    return sum(t.area_m2.values()) if t.area_m2 else None


_ENTRIES = (
    Metric("parameters", "", "weights of the model", "none", "parameters",
           lambda t: float(t.parameters)),
    Metric("tokens_per_s", "tokens/s", "decoded tokens / simulated time (batch 1, tokens back "
           "to back)", "higher", "throughput", _tokens_per_s),
    Metric("latency_mean_s", "s", "mean per-token decode time", "lower",
           "mean latency per token",
           lambda t: float(np.mean(t.latencies_s)) if t.latencies_s else 0.0),
    Metric("latency_p50_s", "s", "median per-token decode time", "lower",
           "median latency per token", lambda t: percentile(t.latencies_s, 50)),
    Metric("latency_p99_s", "s", "99th-percentile per-token decode time", "lower",
           "p99 latency per token", lambda t: percentile(t.latencies_s, 99)),
    Metric("energy_per_token_j", "J", "dynamic (events x prices) + static (leakage x time) "
           "energy per token", "lower", "energy per token",
           lambda t: t.energy.total_j / t.tokens),
    Metric("dynamic_energy_per_token_j", "J", "events x prices, per token", "lower",
           "dynamic energy per token", lambda t: t.energy.dynamic_j / t.tokens),
    Metric("static_energy_per_token_j", "J", "static power x time, per token", "lower",
           "static energy per token", lambda t: t.energy.static_j / t.tokens),
    Metric("dynamic_power_w", "W", "dynamic energy / time, off-chip memory included", "lower",
           "dynamic power", lambda t: t.per_second(t.energy.dynamic_j)),
    Metric("dynamic_power_onchip_w", "W", "dynamic energy / time without DRAM or HBM devices",
           "lower", "dynamic power on chip",
           lambda t: t.per_second(t.energy.dynamic_j - t.offchip_dynamic_j)),
    Metric("static_power_w", "W", "static energy / time", "lower", "static power",
           lambda t: t.per_second(t.energy.static_j)),
    Metric("total_power_w", "W", "all energy / time", "lower", "total power",
           lambda t: t.per_second(t.energy.total_j)),
    Metric("tokens_per_j", "tokens/J", "tokens per joule of all energy", "higher",
           "tokens per joule",
           lambda t: t.tokens / t.energy.total_j if t.energy.total_j else 0.0),
    Metric("synops_per_token", "", "spike x nonzero-weight accumulations per token (GPU: "
           "dense MACs)", "lower", "synaptic ops per token", lambda t: t.synops / t.tokens),
    Metric("spikes_per_token", "", "binary spikes emitted by all site neurons per token",
           "lower", "spikes per token", lambda t: t.spikes / t.tokens),
    Metric("weight_bytes", "B", "bytes of stored weights", "lower", "weight bytes",
           lambda t: float(t.weight_bytes)),
    Metric("memory_footprint_bytes", "B", "bytes the model occupies: weights plus recurrent "
           "state (GPU: plus KV cache or state, activations, framework)", "lower",
           "memory footprint", lambda t: float(t.memory_footprint_bytes)),
    Metric("area_m2", "m2", "area of the parts whose unit area the preset gives (ADCs, "
           "arrays); only when it gives some", "lower", "area", _area),
)  # fmt: skip

METRICS: dict[str, Metric] = {m.name: m for m in _ENTRIES}
"""Every metric of a result, in the order of `Result.metrics`."""


def metric(name: str) -> Metric:
    """The registry entry of `name` (KeyError listing the known names)."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRICS)}") from None


def metric_values(totals: RunTotals) -> dict[str, float]:
    """Every metric defined for a run, in registry order."""
    out = {}
    for m in METRICS.values():
        v = m.value(totals)
        if v is not None:
            out[m.name] = v
    return out
