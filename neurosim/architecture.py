"""Architecture description: the top-level model joining one section per component.

Each component kind's section (its config class) lives in its own module under
`neurosim.components`, with its timing, prices and SimPy model; the compute section's
class is picked by its `kind` through `neurosim.components.registry`. These classes never
import SimPy. Field names carry their SI unit; values may be written in YAML with units
("3 ns", "25.6 GB/s", "1.7 pJ", "1500 um2").
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from neurosim.components.adc import AdcConfig
from neurosim.components.attention_engine import AttentionEngineConfig
from neurosim.components.chip_link import ChipsConfig
from neurosim.components.compute import ArraySection, ComputeSection, StreamingSection
from neurosim.components.core import CoreEnergy, SpikingCoreConfig
from neurosim.components.crossbar import CellConfig, CrossbarEnergy, CrossbarTileConfig
from neurosim.components.dram import DramChannelConfig, DramConfig
from neurosim.components.host import HostConfig
from neurosim.components.interconnect import InterconnectConfig
from neurosim.components.memory import OnChipMemoryConfig
from neurosim.components.near_memory import NearMemoryEngineConfig
from neurosim.components.registry import COMPUTE_KINDS, ComputeConfig
from neurosim.components.sram_cim import SramCimEnergy, SramCimTileConfig
from neurosim.components.topologies import CrossbarTopology, MeshTopology, RingTopology, Topology
from neurosim.config.base import StrictModel
from neurosim.units import Bytes, PositiveBytes

__all__ = [
    "COMPUTE_KINDS",
    "AdcConfig",
    "Architecture",
    "AttentionEngineConfig",
    "ArraySection",
    "CellConfig",
    "ChipsConfig",
    "ComputeConfig",
    "ComputeSection",
    "CoreEnergy",
    "CrossbarEnergy",
    "CrossbarTileConfig",
    "CrossbarTopology",
    "DramChannelConfig",
    "DramConfig",
    "HostConfig",
    "InterconnectConfig",
    "MappingConfig",
    "MeshTopology",
    "NearMemoryEngineConfig",
    "OnChipMemoryConfig",
    "PublishedFigures",
    "RingTopology",
    "SpikingCoreConfig",
    "SramCimEnergy",
    "SramCimTileConfig",
    "StreamingSection",
    "Topology",
]


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
    kv_cache: Literal["auto", "onchip", "dram"] = Field(
        default="auto",
        description="where softmax attention's KV cache lives: auto fills the on-chip memory "
        "left after weights and state, then spills to DRAM; onchip or dram force one",
    )


class PublishedFigures(StrictModel):
    """Published measurements the model is checked against (never used as inputs)."""

    tokens_per_s: float | None = Field(default=None, gt=0, description="published throughput")
    dynamic_power_w: float | None = Field(
        default=None, gt=0, description="published dynamic power of the whole system"
    )
    workload: str | None = Field(default=None, description="workload the figures are for")
    source: str = Field(min_length=1, description="where the figures are published")


class Architecture(StrictModel):
    """A whole system: compute units, memories, interconnect, converters and provenance."""

    name: str = Field(min_length=1, description="architecture name (used in result paths)")
    description: str = Field(default="", description="one paragraph on what the system is")
    compute: ComputeConfig = Field(
        description=f"the compute units; kind: one of {', '.join(COMPUTE_KINDS)}"
    )
    onchip_memory: OnChipMemoryConfig = Field(description="on-chip SRAM of one chip")
    dram: DramConfig | None = Field(
        default=None, description="off-chip DRAM; without it every weight must stay on chip"
    )
    interconnect: InterconnectConfig = Field(description="the network-on-chip of one chip")
    chips: ChipsConfig | None = Field(
        default=None, description="several chips and their links; none: one chip"
    )
    adc: AdcConfig | None = Field(default=None, description="column converters of crossbar arrays")
    attention_engine: AttentionEngineConfig | None = Field(
        default=None,
        description="units able to run softmax attention (multipliers, exponentials); "
        "none: the chip runs linear attention only",
    )
    mapping: MappingConfig = Field(description="how the model is laid out on the system")
    host: HostConfig = Field(default=HostConfig(), description="per-token host work")
    published: PublishedFigures | None = Field(
        default=None, description="published figures to compare against (never inputs)"
    )
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
        problem = self.compute.section_problem(self.adc)
        if problem is not None:
            raise ValueError(problem)
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
