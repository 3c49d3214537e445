"""The biological reference (`architectures/reference/brain.yaml`): sourced ranges and the
quantities that follow from them, scale by scale.

The file holds only published (or flagged) figures as low-high ranges; everything derived
here is arithmetic on those ranges, with the low end from the low inputs that make it low.
Where two estimates of one quantity disagree by orders of magnitude (energy per synaptic
event from the bottom up and from the 20 W budget down, energy per spike likewise), both
are kept, and the row's range spans them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from neurosim.config.base import StrictModel
from neurosim.config.bounds import Range
from neurosim.config.loader import load_config

BRAIN_FILE = Path(__file__).resolve().parents[2] / "architectures" / "reference" / "brain.yaml"

REQUIRED = (
    "power_w", "neurons", "synapses", "synapses_per_neuron", "synapse_density_per_mm3",
    "cortex_thickness_mm", "neurons_per_mm2", "synapse_precision_bits", "firing_rate_hz",
    "atp_per_neuron_per_s", "atp_per_action_potential", "postsynaptic_share", "resting_share",
    "releases_per_spike", "joules_per_atp", "column_neurons", "column_synapses",
    "reading_words_per_s", "tokens_per_word",
)  # fmt: skip


class SourcedRange(StrictModel):
    """One published figure as a range (low = high for a single value), with its source."""

    field_ranges: ClassVar[dict[str, Range]] = {
        "low": Range(0, 1e18, "", "a positive count or physical quantity"),
        "high": Range(0, 1e18, "", "a positive count or physical quantity"),
    }

    low: float = Field(gt=0)
    high: float = Field(gt=0)
    unit: str
    basis: Literal["primary", "secondary", "derived", "assumption"] = Field(
        description="primary: read in the publication; secondary: a summary of it; derived: "
        "arithmetic on cited figures; assumption: reasoning, stated"
    )
    source: str = Field(min_length=10)

    @model_validator(mode="after")
    def _ordered(self) -> SourcedRange:
        if self.low > self.high:
            raise ValueError(f"low: {self.low:g} is above high ({self.high:g})")
        return self


class BrainReference(StrictModel):
    """The reference file: named sourced ranges."""

    name: str
    description: str = ""
    quantities: dict[str, SourcedRange]

    @model_validator(mode="after")
    def _complete(self) -> BrainReference:
        missing = [k for k in REQUIRED if k not in self.quantities]
        if missing:
            raise ValueError(f"quantities.{missing[0]}: missing (needed: {', '.join(missing)})")
        return self


@dataclass(frozen=True)
class Span:
    """A low-high value with what it rests on."""

    low: float
    high: float
    source: str

    def __mul__(self, other: Span) -> Span:
        return Span(self.low * other.low, self.high * other.high, _join(self, other))

    def __truediv__(self, other: Span) -> Span:
        return Span(self.low / other.high, self.high / other.low, _join(self, other))

    def scaled(self, factor: float) -> Span:
        """Both ends times a plain number."""
        return Span(self.low * factor, self.high * factor, self.source)

    def union(self, other: Span) -> Span:
        """The range covering both estimates."""
        return Span(min(self.low, other.low), max(self.high, other.high), _join(self, other))


def _join(a: Span, b: Span) -> str:
    names = [n for n in (*a.source.split(" x "), *b.source.split(" x ")) if n]
    return " x ".join(dict.fromkeys(names))


def load_brain(path: Path = BRAIN_FILE) -> BrainReference:
    """Load and validate the reference file."""
    return load_config(BrainReference, path)


@dataclass(frozen=True)
class BrainScales:
    """The brain at the four scales `niai` compares, every figure a Span."""

    ref: BrainReference

    def q(self, name: str) -> Span:
        """A figure of the file, named as its source."""
        r = self.ref.quantities[name]
        return Span(r.low, r.high, name)

    # synapse
    def synaptic_event_bottom_up_j(self) -> Span:
        """Postsynaptic ATP per spike over the releases it causes (Attwell & Laughlin)."""
        atp_per_spike = self.q("atp_per_neuron_per_s").scaled(1 / 4.0)  # their 4 Hz
        return atp_per_spike * self.q("postsynaptic_share") / self.q(
            "releases_per_spike"
        ) * self.q("joules_per_atp")

    def synaptic_event_top_down_j(self) -> Span:
        """The whole 20 W over every synapse's events (synapses x mean firing rate)."""
        return self.q("power_w") / (self.q("synapses") * self.q("firing_rate_hz"))

    def synaptic_event_j(self) -> Span:
        """Both estimates: they differ by up to two orders of magnitude."""
        return self.synaptic_event_bottom_up_j().union(self.synaptic_event_top_down_j())

    def synapses_per_mm2(self) -> Span:
        """Synapses under 1 mm2 of cortical sheet: volume density x thickness."""
        return self.q("synapse_density_per_mm3") * self.q("cortex_thickness_mm")

    # neuron
    def spike_bottom_up_j(self) -> Span:
        """ATP to restore one action potential's ions."""
        return self.q("atp_per_action_potential") * self.q("joules_per_atp")

    def spike_top_down_j(self) -> Span:
        """Power per neuron over its mean firing rate."""
        return self.q("power_w") / (self.q("neurons") * self.q("firing_rate_hz"))

    def spike_j(self) -> Span:
        """Both estimates."""
        return self.spike_bottom_up_j().union(self.spike_top_down_j())

    def power_per_neuron_w(self) -> Span:
        """The 20 W shared by every neuron."""
        return self.q("power_w") / self.q("neurons")

    # module
    def column_power_w(self) -> Span:
        """A column's share of the 20 W, by its neurons."""
        return self.q("column_neurons") * self.power_per_neuron_w()

    def column_synapses(self) -> Span:
        """A minicolumn's neurons x synapses per neuron, up to the microcircuit's count."""
        small = self.q("column_neurons").low * self.q("synapses_per_neuron").low
        return Span(small, self.q("column_synapses").high, "column_neurons x synapses_per_neuron")

    # system
    def token_equivalent_j(self) -> Span:
        """20 W over the tokens per second a reader takes in (words/s x tokens per word)."""
        return self.q("power_w") / (self.q("reading_words_per_s") * self.q("tokens_per_word"))
