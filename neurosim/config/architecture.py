"""Architecture description: frozen, validated config classes, one per component.

These classes describe hardware; they never import SimPy. The SimPy models in
`neurosim.components` receive them. Field names carry their SI unit; values may be
written in YAML with units ("3 ns", "25.6 GB/s", "1.7 pJ").
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag, model_validator

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


class CellConfig(StrictModel):
    """A memory cell of an in-memory-compute array."""

    technology: Literal["reram", "pcm", "sram"]
    bits_per_cell: int = Field(gt=0, le=8)
    read_energy_j: NonNegativeJoules = Field(description="one active cell in one array read")
    write_energy_j: NonNegativeJoules = Field(description="programming one cell")
    write_time_s: NonNegativeSeconds = Field(description="programming one row of an array")
    endurance_cycles: float = Field(gt=0, description="writes a cell survives")


class CrossbarEnergy(StrictModel):
    """Energy per counted event of an analog crossbar tile's periphery and neuron units."""

    row_drive_j: NonNegativeJoules = Field(
        description="driving one row with a binary spike (1-bit DAC / driver)"
    )
    dac_j: NonNegativeJoules = Field(
        description="one multi-bit DAC conversion (used only when input_bits > 1)"
    )
    sample_hold_j: NonNegativeJoules = Field(description="one column sample-and-hold")
    shift_add_j: NonNegativeJoules = Field(description="one column's digital shift-and-add")
    neuron_update_j: NonNegativeJoules
    state_update_j: NonNegativeJoules


class CrossbarTileConfig(StrictModel):
    """Analog in-memory-compute tile (ReRAM or PCM crossbars with column ADCs).

    Weights stay in the arrays (bit-sliced over `cell.bits_per_cell` cells); binary spikes
    drive the rows directly; every column of an array whose rows saw a spike is converted
    by the ADCs of `adc` (per array), `adc.columns_per_adc` columns per converter.
    """

    kind: Literal["crossbar_tile"] = "crossbar_tile"
    count: int = Field(gt=0, description="tiles (compute units) per chip")
    arrays_per_tile: int = Field(gt=0)
    rows: int = Field(gt=0)
    cols: int = Field(gt=0)
    cell: CellConfig
    read_time_s: PositiveSeconds = Field(description="one array read (integration) time")
    input_bits: int = Field(
        default=1, ge=1, description="bits per row input; >1 needs DACs or bit-serial reads"
    )
    clock_hz: PositiveHertz = Field(description="digital periphery and neuron units")
    neuron_updates_per_cycle: int = Field(gt=0)
    pipeline_depth_cycles: int = Field(ge=0)
    energy: CrossbarEnergy
    array_area_m2: float | None = Field(default=None, ge=0, description="one array's area")
    static_power_w: NonNegativeWatts = Field(description="all tiles of one chip, without ADCs")


class SramCimEnergy(StrictModel):
    """Energy per counted event of a digital SRAM compute-in-memory macro."""

    mac_j: NonNegativeJoules = Field(description="one 1-bit input x 1-bit weight operation")
    column_accumulate_j: NonNegativeJoules = Field(
        description="one column's adder-tree output and accumulation per activation"
    )
    neuron_update_j: NonNegativeJoules
    state_update_j: NonNegativeJoules


class SramCimTileConfig(StrictModel):
    """Digital SRAM compute-in-memory tile: bitwise products and adder trees in the array."""

    kind: Literal["sram_cim_tile"] = "sram_cim_tile"
    count: int = Field(gt=0, description="tiles (compute units) per chip")
    arrays_per_tile: int = Field(gt=0, description="macros per tile")
    rows: int = Field(gt=0)
    cols: int = Field(gt=0, description="bit columns (a w-bit weight uses w columns)")
    cycle_time_s: PositiveSeconds = Field(description="one macro activation (one input vector)")
    clock_hz: PositiveHertz = Field(description="digital neuron units")
    neuron_updates_per_cycle: int = Field(gt=0)
    pipeline_depth_cycles: int = Field(ge=0)
    energy: SramCimEnergy
    array_area_m2: float | None = Field(default=None, ge=0)
    static_power_w: NonNegativeWatts = Field(description="all tiles of one chip")


def _compute_kind(value: object) -> str:
    """The `kind` of a compute section; a section without one is a spiking core."""
    if isinstance(value, dict):
        return value.get("kind", "spiking_core")
    return getattr(value, "kind", "spiking_core")


ComputeConfig = Annotated[
    Annotated[SpikingCoreConfig, Tag("spiking_core")]
    | Annotated[CrossbarTileConfig, Tag("crossbar_tile")]
    | Annotated[SramCimTileConfig, Tag("sram_cim_tile")],
    Discriminator(_compute_kind),
]


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
    barrier_s: NonNegativeSeconds = Field(
        default=0.0, description="synchronisation closing every timestep (tick) on one chip"
    )
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
    barrier_s: NonNegativeSeconds = Field(
        default=0.0, description="synchronisation closing every timestep across all chips"
    )
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
    count: int = Field(gt=0, description="converters (per array for crossbar tiles)")
    area_m2: float | None = Field(default=None, ge=0, description="one converter's area")
    static_power_w: NonNegativeWatts = Field(description="one converter's leakage and bias")

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
    compute: ComputeConfig
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
            if ch.attach_node in core_nodes:
                unit = core_nodes.index(ch.attach_node)
                raise ValueError(
                    f"dram.channels[{i}].attach_node: node {ch.attach_node} is the node of "
                    f"compute unit {unit} (interconnect.core_nodes); a memory controller "
                    "needs a node of its own, so that weights cross the interconnect"
                )
        if isinstance(self.compute, CrossbarTileConfig):
            if self.adc is None:
                raise ValueError("adc: a crossbar_tile architecture needs an adc section")
            served = self.adc.count * self.adc.columns_per_adc
            if served < self.compute.cols:
                raise ValueError(
                    f"adc.columns_per_adc: {self.adc.count} ADCs x {self.adc.columns_per_adc} "
                    f"columns serve {served} columns, fewer than the array's "
                    f"{self.compute.cols} (compute.cols)"
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
