"""The metric registry: every per-run metric, its unit, meaning, better direction and formula.

Adding a metric is one entry in :data:`METRICS`: the result record (chips and GPUs alike),
`neurosim run`, `compare`, sweep specs (``KNOWN_METRICS``), sweep stores, Pareto axes and
their labels all read this table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from neurosim.results.pricing import EnergyBreakdown

__all__ = [
    "METRICS",
    "LEARNING_METRICS",
    "LearningTotals",
    "Metric",
    "SPIKING_NETWORK_METRICS",
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


SECONDS_PER_YEAR = 365.25 * 24 * 3600


@dataclass
class LearningTotals:
    """Weight updates over a run, for the metrics."""

    updates: int = 0
    write_time_s: float = 0.0
    write_energy_j: float = 0.0
    hottest_cell_writes: float = 0.0  # summed over tokens
    weights: int = 0
    pulses: int = 1
    endurance_cycles: float = math.inf
    duty_cycle: float = 1.0
    wear_leveling: float = 1.0
    prices: dict[tuple[str, str], float] = field(default_factory=dict)

    def cell_writes_per_token(self, tokens: int) -> float:
        """Pulses per token on the cell that wears out first: the most-written cell, its
        writes spread `wear_leveling` times, never below the mean cell's."""
        tokens = max(1, tokens)
        mean = self.updates / max(1, self.weights) / tokens
        hot = self.hottest_cell_writes / tokens / self.wear_leveling
        return max(mean, hot) * self.pulses

    def lifetime_years(self, tokens: int, tokens_per_s: float) -> float | None:
        """Years until that cell reaches its endurance, decoding at `tokens_per_s` for a
        `duty_cycle` share of the time; None when the memory has no wear limit or nothing
        was written."""
        rate = self.cell_writes_per_token(tokens) * tokens_per_s * self.duty_cycle
        if math.isinf(self.endurance_cycles) or rate <= 0:
            return None
        return self.endurance_cycles / rate / SECONDS_PER_YEAR


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
    learning: LearningTotals | None = None  # weight updates, when the workload learns
    timesteps: int = 0  # spiking-network runs: timesteps simulated (0: an LLM run)
    neuron_steps: float = 0.0  # spiking-network runs: neurons x timesteps
    batch: int = 1
    prefill_s: float = 0.0
    prompt_tokens: int = 0
    accuracy: Mapping[str, float] = field(default_factory=dict)

    @property
    def tokens(self) -> int:
        """Decoded tokens of all sequences (at least 1, for per-token divisions)."""
        return max(1, len(self.latencies_s) * self.batch)

    @property
    def decode_s(self) -> float:
        """Time of the decode steps (each makes one token of every sequence)."""
        return float(sum(self.latencies_s))

    def per_second(self, joules: float) -> float:
        """`joules` over the simulated time (0 for no time)."""
        return joules / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def offchip_dynamic_j(self) -> float:
        """Dynamic energy of the off-chip memories."""
        return sum(j for (c, _), j in self.energy.dynamic.items() if c in self.offchip_components)

    @property
    def offchip_static_j(self) -> float:
        """Static energy of the off-chip memories."""
        return sum(j for c, j in self.energy.static.items() if c in self.offchip_components)

    @property
    def fabric_j(self) -> float | None:
        """Dynamic energy of the FPGA fabric (None: not an FPGA design)."""
        parts = [j for (c, _), j in self.energy.dynamic.items() if c == "fabric"]
        return sum(parts) if parts else None


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
    return len(t.latencies_s) * t.batch / t.elapsed_s if t.elapsed_s > 0 else 0.0


def _time_per_output_token(t: RunTotals) -> float:
    later = t.latencies_s[1:] or t.latencies_s
    return float(np.mean(later)) if later else 0.0


def _prefill_tokens_per_s(t: RunTotals) -> float | None:
    if not t.prompt_tokens or t.prefill_s <= 0:
        return None
    return t.prompt_tokens * t.batch / t.prefill_s


def _learning(value: Callable[[RunTotals, LearningTotals], float | None]):
    """A metric defined only for runs whose workload learns."""
    return lambda t: None if t.learning is None else value(t, t.learning)


def _area(t: RunTotals) -> float | None:
    return sum(t.area_m2.values()) if t.area_m2 else None


def _per_step(value: Callable[[RunTotals], float]) -> Callable[[RunTotals], float | None]:
    """A spiking-network metric: None for LLM runs (no timesteps)."""
    return lambda t: value(t) if t.timesteps else None


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
           "decoded tokens of all sequences / simulated time, prefill included"),
    _entry("latency_mean_s", "s", "lower", "mean latency per token", "latency",
           lambda t: float(np.mean(t.latencies_s)) if t.latencies_s else 0.0,
           "mean per-token decode time (one decode step of the whole batch)"),
    _entry("latency_p50_s", "s", "lower", "median latency per token", "p50 latency",
           lambda t: percentile(t.latencies_s, 50), "median per-token decode time"),
    _entry("latency_p99_s", "s", "lower", "p99 latency per token", "p99 latency",
           lambda t: percentile(t.latencies_s, 99), "99th-percentile per-token decode time"),
    _entry("time_to_first_token_s", "s", "lower", "time to first token", "TTFT",
           lambda t: t.prefill_s + (t.latencies_s[0] if t.latencies_s else 0.0),
           "prefill of the prompt plus the first decode step"),
    _entry("time_per_output_token_s", "s", "lower", "time per output token", "TPOT",
           _time_per_output_token,
           "mean decode step after the first (the first alone if there is one)"),
    _entry("decode_tokens_per_s", "tokens/s", "higher", "decode throughput", "decode",
           lambda t: t.tokens / t.decode_s if t.decode_s > 0 else 0.0,
           "decoded tokens of all sequences / decode time (prefill excluded)"),
    _entry("prefill_tokens_per_s", "tokens/s", "higher", "prefill throughput", "prefill",
           _prefill_tokens_per_s,
           "prompt tokens of all sequences / prefill time; only with a prompt"),
    _entry("energy_per_token_j", "J", "lower", "energy per token", "",
           lambda t: t.energy.total_j / t.tokens,
           "dynamic (events x prices) + static (leakage x time) energy per decoded token "
           "(a prefill's energy included)"),
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
    _entry("total_power_onchip_w", "W", "lower", "total power on chip", "on-chip total",
           lambda t: t.per_second(t.energy.total_j - t.offchip_dynamic_j - t.offchip_static_j),
           "dynamic plus static power without the DRAM or HBM devices"),
    _entry("fabric_power_w", "W", "lower", "FPGA fabric power", "fabric",
           lambda t: None if t.fabric_j is None else t.per_second(t.fabric_j),
           "clock tree, logic, routing, BRAM/URAM and DSP power of an FPGA design (from its "
           "resources, clock and activity); only for presets with an `fpga` section"),
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
    _entry("weight_updates_per_token", "", "none", "weight updates per token", "updates",
           _learning(lambda t, lt: lt.updates / t.tokens),
           "weights rewritten per token by the workload's learning rule (learning runs only)"),
    _entry("write_energy_per_token_j", "J", "lower", "weight-write energy per token", "write",
           _learning(lambda t, lt: lt.write_energy_j / t.tokens),
           "dynamic energy of the weight writes (and of an on-chip rule's arithmetic) per "
           "token, part of the energy per token (learning runs only)"),
    _entry("write_time_per_token_s", "s", "lower", "weight-write time per token", "write",
           _learning(lambda t, lt: lt.write_time_s / t.tokens),
           "time the weight writes add to each token: they hold the arrays, memories and "
           "DRAM channels after the forward pass (learning runs only)"),
    _entry("write_time_share", "", "lower", "share of time spent writing", "write share",
           _learning(lambda t, lt: lt.write_time_s / t.elapsed_s if t.elapsed_s else 0.0),
           "share of the decode time spent writing weights: the throughput a frozen chip "
           "would gain (learning runs only)"),
    _entry("lifetime_years", "years", "higher", "lifetime until wear-out", "lifetime",
           _learning(lambda t, lt: lt.lifetime_years(t.tokens, _tokens_per_s(t))),
           "years until the most-written cell reaches its endurance at this run's token rate, "
           "update rate and duty cycle (learning runs on memories with a wear limit only)"),
    _entry("energy_per_timestep_j", "J", "lower", "energy per timestep", "",
           _per_step(lambda t: t.energy.total_j / t.timesteps),
           "spiking networks: dynamic + static energy per algorithmic timestep"),
    _entry("latency_per_timestep_s", "s", "lower", "latency per timestep", "timestep",
           _per_step(lambda t: t.elapsed_s / t.timesteps),
           "spiking networks: mean wall time of one timestep (compute, spikes, sync)"),
    _entry("synaptic_events_total", "", "lower", "synaptic events", "synaptic events",
           _per_step(lambda t: t.synops),
           "spiking networks: synapses reached by spikes over the run (NeuroBench's "
           "effective synaptic operations for binary spikes)"),
    _entry("spikes_total", "", "lower", "spikes", "spikes",
           _per_step(lambda t: t.spikes), "spiking networks: spikes of all neurons on cores"),
    _entry("activation_sparsity", "", "higher", "activation sparsity", "sparsity",
           _per_step(lambda t: 1.0 - t.spikes / t.neuron_steps if t.neuron_steps else 0.0),
           "spiking networks: 1 - spikes / (neurons x timesteps) (NeuroBench's name)"),
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
LEARNING_METRICS = ("weight_updates_per_token", "write_energy_per_token_j",
                    "write_time_per_token_s", "write_time_share", "lifetime_years")
"""Metrics only runs whose workload learns have."""
"""Every metric of a result, in the order of `Result.metrics`."""

SPIKING_NETWORK_METRICS = (
    "energy_per_timestep_j",
    "latency_per_timestep_s",
    "synaptic_events_total",
    "spikes_total",
    "activation_sparsity",
)
"""Metrics defined only for imported spiking networks (runs with timesteps)."""


def metric_values(totals: RunTotals) -> dict[str, float]:
    """Every metric defined for a run, in registry order."""
    out = {}
    for m in METRICS.values():
        v = m.value(totals)
        if v is not None:
            out[m.name] = v
    return out
