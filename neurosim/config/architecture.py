"""Architecture description: frozen, validated config classes, one per component.

These classes describe hardware; they never import SimPy. The SimPy models in
`neurosim.components` receive them. Field names carry their SI unit; values may be
written in YAML with units ("3 ns", "25.6 GB/s", "1.7 pJ").
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from neurosim.config.base import StrictModel
from neurosim.units import (
    Bytes,
    Fraction,
    NonNegativeJoules,
    NonNegativeJoulesPerBit,
    NonNegativeSeconds,
    NonNegativeWatts,
    PositiveBytes,
    PositiveBytesPerSecond,
    PositiveHertz,
    PositiveSeconds,
)


class CoreEnergy(StrictModel):
    """Energy per counted event of a spiking core."""

    synop_j: NonNegativeJoules = Field(description="one synaptic accumulate (spike x weight add)")
    neuron_update_j: NonNegativeJoules = Field(description="one neuron update in one timestep")
    state_update_j: NonNegativeJoules = Field(
        description="one element update or read of a linear-attention recurrent state"
    )


class SpikingCoreConfig(StrictModel):
    """A digital, event-driven spiking compute unit (one of `count` identical units)."""

    kind: Literal["spiking_core"] = "spiking_core"
    count: int = Field(gt=0, description="number of compute units")
    clock_hz: PositiveHertz
    lanes: int = Field(gt=0, description="synaptic accumulations per cycle per unit")
    neuron_updates_per_cycle: int = Field(gt=0, description="neuron updates per cycle per unit")
    pipeline_depth_cycles: int = Field(ge=0, description="fill/drain cycles paid once per layer")
    skip_zero_weights: bool = Field(
        default=True, description="zero weights cost no accumulate (needs sparse weight format)"
    )
    energy: CoreEnergy
    static_power_w: NonNegativeWatts = Field(description="leakage of all `count` units together")


class OnChipMemoryConfig(StrictModel):
    """On-chip SRAM (block RAM, scratchpads) holding resident weights, buffers and state."""

    capacity_bytes: PositiveBytes
    banks: int = Field(gt=0, description="independently accessible banks")
    bank_bandwidth_bytes_per_s: PositiveBytesPerSecond
    read_energy_j_per_bit: NonNegativeJoulesPerBit
    write_energy_j_per_bit: NonNegativeJoulesPerBit
    static_power_w: NonNegativeWatts

    @property
    def bandwidth_bytes_per_s(self) -> float:
        """Aggregate bandwidth of all banks."""
        return self.banks * self.bank_bandwidth_bytes_per_s


class DramChannelConfig(StrictModel):
    """One off-chip DRAM channel (or interleaved interface) and its controller."""

    name: str = Field(min_length=1)
    capacity_bytes: PositiveBytes
    peak_bandwidth_bytes_per_s: PositiveBytesPerSecond
    efficiency: Fraction = Field(description="sustained / peak bandwidth for long streams")
    burst_bytes: int = Field(gt=0, description="smallest transfer; reads round up to bursts")
    latency_s: NonNegativeSeconds = Field(description="request-to-first-data latency")
    read_energy_j_per_bit: NonNegativeJoulesPerBit
    write_energy_j_per_bit: NonNegativeJoulesPerBit
    static_power_w: NonNegativeWatts
    attach_node: int = Field(ge=0, description="interconnect node of the memory controller")

    @model_validator(mode="after")
    def _efficiency_positive(self) -> DramChannelConfig:
        if self.efficiency <= 0:
            raise ValueError("efficiency must be above 0 (a channel that moves no data)")
        return self

    @property
    def sustained_bandwidth_bytes_per_s(self) -> float:
        """Peak bandwidth times efficiency."""
        return self.peak_bandwidth_bytes_per_s * self.efficiency


class DramConfig(StrictModel):
    """All off-chip DRAM channels; weights are striped over them by bandwidth."""

    channels: list[DramChannelConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> DramConfig:
        names = [c.name for c in self.channels]
        if len(set(names)) != len(names):
            dup = next(i for i, n in enumerate(names) if names.index(n) != i)
            raise ValueError(f"channels[{dup}].name: channel names must be unique; got {names}")
        return self


class MeshTopology(StrictModel):
    """2-D mesh with dimension-order (X then Y) routing."""

    kind: Literal["mesh"] = "mesh"
    width: int = Field(gt=0)
    height: int = Field(gt=0)

    @property
    def nodes(self) -> int:
        """Number of routers."""
        return self.width * self.height


class RingTopology(StrictModel):
    """Bidirectional ring; packets take the shorter direction (ties go clockwise)."""

    kind: Literal["ring"] = "ring"
    size: int = Field(gt=1)

    @property
    def nodes(self) -> int:
        """Number of routers."""
        return self.size


class CrossbarTopology(StrictModel):
    """Full crossbar: every node reaches every other in one hop."""

    kind: Literal["crossbar"] = "crossbar"
    size: int = Field(gt=1)

    @property
    def nodes(self) -> int:
        """Number of ports."""
        return self.size


Topology = Annotated[MeshTopology | RingTopology | CrossbarTopology, Field(discriminator="kind")]


class InterconnectConfig(StrictModel):
    """Network-on-chip carrying spike messages and weight traffic."""

    topology: Topology
    core_nodes: list[int] | None = Field(
        default=None, description="node of each compute unit; default: nodes 0, 1, 2, ..."
    )
    link_bandwidth_bytes_per_s: PositiveBytesPerSecond = Field(description="per direction")
    hop_latency_s: NonNegativeSeconds
    energy_j_per_bit_hop: NonNegativeJoulesPerBit
    spike_message_bits: int = Field(gt=0, description="bits of one spike (address event) message")
    static_power_w: NonNegativeWatts


class ChipsConfig(StrictModel):
    """Several identical chips joined by chip-to-chip links (multi-chip systems)."""

    count: int | Literal["auto"] = Field(
        description="number of chips, or 'auto': as many as the model's weights need"
    )
    topology: Literal["ring", "mesh", "crossbar"] = Field(
        description="how chips are linked; a mesh is laid out as square as possible"
    )
    gateway_node: int = Field(default=0, ge=0, description="on-chip node the chip links attach to")
    link_bandwidth_bytes_per_s: PositiveBytesPerSecond = Field(description="per link direction")
    link_latency_s: NonNegativeSeconds
    energy_j_per_bit: NonNegativeJoulesPerBit = Field(description="per bit per chip-link hop")
    static_power_w: NonNegativeWatts = Field(description="link interfaces, per chip")

    @model_validator(mode="after")
    def _positive_count(self) -> ChipsConfig:
        if self.count != "auto" and self.count < 1:
            raise ValueError("count must be at least 1 or 'auto'")
        return self


class AdcConfig(StrictModel):
    """Analog-to-digital converters shared by crossbar columns."""

    bits: int = Field(gt=0, le=24)
    conversion_time_s: PositiveSeconds
    energy_per_conversion_j: NonNegativeJoules | None = Field(
        default=None, description="table value; give this or walden_fom_j_per_step"
    )
    walden_fom_j_per_step: NonNegativeJoules | None = Field(
        default=None, description="Walden figure of merit: E = FOM x 2^ENOB"
    )
    enob: float | None = Field(default=None, gt=0, description="effective bits; default = bits")
    columns_per_adc: int = Field(gt=0, description="columns multiplexed onto one converter")
    count: int = Field(gt=0, description="number of converters")
    static_power_w: NonNegativeWatts

    @model_validator(mode="after")
    def _one_energy_source(self) -> AdcConfig:
        given = [self.energy_per_conversion_j is not None, self.walden_fom_j_per_step is not None]
        if sum(given) != 1:
            raise ValueError(
                "give exactly one of energy_per_conversion_j (table value) "
                "or walden_fom_j_per_step (figure of merit)"
            )
        return self

    @property
    def conversion_energy_j(self) -> float:
        """Energy of one conversion, from the table value or the Walden figure of merit."""
        if self.energy_per_conversion_j is not None:
            return self.energy_per_conversion_j
        enob = self.enob if self.enob is not None else float(self.bits)
        return self.walden_fom_j_per_step * 2.0**enob


class HostConfig(StrictModel):
    """Work outside the modelled chip that every token pays (sampling, host hand-off)."""

    per_token_overhead_s: NonNegativeSeconds = 0.0


class MappingConfig(StrictModel):
    """How a model is laid out on the system (a design choice, so part of the architecture)."""

    tile_bytes: PositiveBytes = Field(
        default=262144, description="largest weight tile moved or placed as one unit"
    )
    stream_buffer_bytes: Bytes = Field(
        default=0,
        ge=0,
        description="on-chip space reserved for weight tiles streamed from DRAM (with DRAM)",
    )
    pin_weights: bool = Field(
        default=True, description="keep as many weight tiles on chip as fit (no per-token fetch)"
    )
    sparse_weight_fetch: bool = Field(
        default=False,
        description="fetch only weight rows of active inputs, at burst granularity; the fetch "
        "then waits until the layer's input spikes are known",
    )


class PublishedFigures(StrictModel):
    """Published measurements the model is checked against (never used as inputs)."""

    tokens_per_s: float | None = Field(default=None, gt=0)
    dynamic_power_w: float | None = Field(default=None, gt=0)
    workload: str | None = None
    source: str = Field(min_length=1)


class Architecture(StrictModel):
    """A whole system: compute units, memories, interconnect, converters and provenance."""

    name: str = Field(min_length=1)
    description: str = ""
    compute: SpikingCoreConfig
    onchip_memory: OnChipMemoryConfig
    dram: DramConfig | None = Field(
        default=None, description="off-chip DRAM; without it every weight must stay on chip"
    )
    interconnect: InterconnectConfig
    chips: ChipsConfig | None = None
    adc: AdcConfig | None = None
    mapping: MappingConfig
    host: HostConfig = HostConfig()
    published: PublishedFigures | None = None
    provenance: dict[str, str] = Field(
        min_length=1, description="dotted key path -> source, or 'assumption: reasoning'"
    )

    @model_validator(mode="after")
    def _fits_topology(self) -> Architecture:
        nodes = self.interconnect.topology.nodes
        core_nodes = self.core_nodes
        kind = self.interconnect.topology.kind
        if len(core_nodes) != self.compute.count:
            raise ValueError(
                f"compute.count, interconnect.core_nodes: interconnect.core_nodes lists "
                f"{len(core_nodes)} nodes but compute.count is {self.compute.count}"
            )
        for i, n in enumerate(core_nodes):
            if n >= nodes:
                raise ValueError(
                    f"interconnect.core_nodes[{i}]: node {n} is outside the {nodes}-node "
                    f"{kind} topology (nodes are 0..{nodes - 1})"
                )
        for i, ch in enumerate(self.dram_channels):
            if ch.attach_node >= nodes:
                raise ValueError(
                    f"dram.channels[{i}].attach_node: node {ch.attach_node} is outside the "
                    f"{nodes}-node {kind} topology (nodes are 0..{nodes - 1})"
                )
        if self.chips is not None and self.chips.gateway_node >= nodes:
            raise ValueError(
                f"chips.gateway_node: node {self.chips.gateway_node} is outside the "
                f"{nodes}-node {kind} topology (nodes are 0..{nodes - 1})"
            )
        return self

    @property
    def dram_channels(self) -> list[DramChannelConfig]:
        """DRAM channels (none without DRAM)."""
        return list(self.dram.channels) if self.dram is not None else []

    @property
    def core_nodes(self) -> list[int]:
        """Interconnect node of each compute unit."""
        if self.interconnect.core_nodes is not None:
            return list(self.interconnect.core_nodes)
        return list(range(self.compute.count))
