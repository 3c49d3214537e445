"""Architecture description: the top-level model joining one section per component.

Each component kind's section (its config class) lives in its own module under
`neurosim.components`, with its timing, prices and SimPy model; the compute section's
class is picked by its `kind` through `neurosim.components.registry`. These classes never
import SimPy. Field names carry their SI unit; values may be written in YAML with units
("3 ns", "25.6 GB/s", "1.7 pJ", "1500 um2").
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_serializer, model_validator

from neurosim.components.adc import AdcConfig
from neurosim.components.attention_engine import AttentionEngineConfig
from neurosim.components.chip_link import ChipsConfig
from neurosim.components.compute import ArraySection, ComputeSection, StreamingSection
from neurosim.components.core import CoreEnergy, SpikingCoreConfig
from neurosim.components.crossbar import CellConfig, CrossbarEnergy, CrossbarTileConfig
from neurosim.components.dram import DramChannelConfig, DramConfig
from neurosim.components.fpga import FpgaConfig, fit_problems
from neurosim.components.host import HostConfig
from neurosim.components.interconnect import InterconnectConfig
from neurosim.components.memory import OnChipMemoryConfig
from neurosim.components.near_memory import NearMemoryEngineConfig
from neurosim.components.neuron_core import NeuronCoreLimits
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
    "FpgaConfig",
    "HostConfig",
    "InterconnectConfig",
    "MappingConfig",
    "MeshTopology",
    "NearMemoryEngineConfig",
    "NeuronCoreLimits",
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
    chip_partition: Literal["columns", "layers"] = Field(
        default="columns",
        description="how a multi-chip system shares the model: columns: every linear's "
        "output columns split over all chips' units; layers: whole groups, in execution "
        "order, on consecutive chips balanced by bytes (a group larger than a chip spans "
        "the fewest chips that hold it), so spikes cross chips only between layers",
    )

    @model_serializer(mode="wrap")
    def _columns_dumps_as_before(self, handler, info):
        """`chip_partition: columns` (the default) is left out of the JSON dump, so config
        hashes and stored sweep points are what they were before the option."""
        data = handler(self)
        if info.mode == "json" and self.chip_partition == "columns" and isinstance(data, dict):
            data.pop("chip_partition", None)
        return data


PowerKind = Literal["dynamic_onchip", "dynamic_system", "total_onchip", "board", "wall"]

POWER_KINDS = {
    "dynamic_onchip": "dynamic_power_onchip_w",
    "dynamic_system": "dynamic_power_w",
    "total_onchip": "total_power_onchip_w",
    "board": "total_power_w",
    "wall": "total_power_w",
}
"""Which power a paper reports -> the metric of ours it is compared with. Board and wall
power also hold regulators, fans and the host, which no preset models: ours is then a
lower bound."""


class PublishedFigures(StrictModel):
    """Published measurements the model is checked against (never used as inputs)."""

    tokens_per_s: float | None = Field(default=None, gt=0, description="published throughput")
    energy_per_token_j: float | None = Field(
        default=None, gt=0, description="published energy per decoded token of the whole system"
    )
    time_per_output_token_s: float | None = Field(
        default=None, gt=0, description="published mean decode step of each sequence (TPOT)"
    )
    dynamic_power_w: float | None = Field(
        default=None, gt=0, description="published dynamic power of the whole system"
    )
    power_w: float | None = Field(
        default=None, gt=0, description="a published power of the kind `power_kind` says"
    )
    power_kind: PowerKind | None = Field(
        default=None,
        description="which power `power_w` is: dynamic on chip, dynamic of chip and DRAM, "
        "total on chip (dynamic + static), board, or wall",
    )
    workload: str | None = Field(default=None, description="workload the figures are for")
    source: str = Field(min_length=1, description="where the figures are published")

    @model_serializer(mode="wrap")
    def _older_blocks_dump_as_before(self, handler, info):
        """Unset energy and TPOT figures stay out of the JSON dump, so a published block
        without them keeps its config hash (and every stored sweep point)."""
        data = handler(self)
        if info.mode == "json" and isinstance(data, dict):
            for key in ("energy_per_token_j", "time_per_output_token_s"):
                if getattr(self, key) is None:
                    data.pop(key, None)
        return data

    @model_validator(mode="after")
    def _power_with_kind(self) -> PublishedFigures:
        if (self.power_w is None) != (self.power_kind is None):
            raise ValueError(
                "power_w, power_kind: give both (a published power and which power it is) "
                "or neither"
            )
        if self.power_kind == "dynamic_system" and self.dynamic_power_w is not None:
            raise ValueError(
                "power_kind: dynamic_system is what dynamic_power_w already gives; keep one"
            )
        return self

    @property
    def power_metric(self) -> str | None:
        """The metric of ours `power_w` is compared with."""
        return POWER_KINDS[self.power_kind] if self.power_kind else None


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
    fpga: FpgaConfig | None = Field(
        default=None,
        description="the FPGA the design is built on: its resources must hold the design, "
        "and its static and fabric power replace the sections' static power",
    )
    attention_engine: AttentionEngineConfig | None = Field(
        default=None,
        description="units able to run softmax attention (multipliers, exponentials); "
        "none: the chip runs linear attention only",
    )
    mapping: MappingConfig = Field(description="how the model is laid out on the system")
    neuron_cores: NeuronCoreLimits | None = Field(
        default=None,
        description="per-core limits for imported spiking networks (neurosim run ARCH NET.nir)",
    )
    host: HostConfig = Field(default=HostConfig(), description="per-token host work")
    published: PublishedFigures | None = Field(
        default=None, description="published figures to compare against (never inputs)"
    )
    provenance: dict[str, str] = Field(
        min_length=1, description="dotted key path -> source, or 'assumption: reasoning'"
    )

    @model_validator(mode="before")
    @classmethod
    def _one_multicast_setting(cls, data):
        """`interconnect.multicast` is the setting; `neuron_cores.multicast` (where it was
        first given) is still read, must agree with it, and is filled in from it."""
        if not isinstance(data, dict) or data.get("neuron_cores") is None:
            return data
        net, cores = data.get("interconnect"), data["neuron_cores"]
        given, legacy = _multicast_given(net), _multicast_given(cores)
        if {given, legacy} - {None, "none", "tree"}:
            return data  # reported at the key given, with the accepted values
        if given is not None and legacy is not None and given != legacy:
            raise ValueError(
                f"interconnect.multicast, neuron_cores.multicast: {given!r} and {legacy!r} "
                "disagree; give the setting once, as interconnect.multicast (it applies to "
                "LLM tokens and spiking networks alike)"
            )
        value = given or legacy or "none"
        return {
            **data,
            "interconnect": _with_multicast(net, value),
            "neuron_cores": _with_multicast(cores, value),
        }

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
        if self.fpga is not None:
            self._fits_device()
        return self

    def _fits_device(self) -> None:
        sections = {
            "compute": self.compute,
            "onchip_memory": self.onchip_memory,
            "interconnect": self.interconnect,
        }
        for key, section in sections.items():
            if section.static_power_w:
                raise ValueError(
                    f"{key}.static_power_w: with an `fpga` section the device's static power "
                    f"({self.fpga.device.static_power_w:.3g} W) covers the whole chip; set "
                    "0 W here so leakage is not counted twice"
                )
        problems = fit_problems(self)
        if problems:
            parts = [p.split(": ", 1) for p in problems]
            raise ValueError("fpga: " + "; ".join(f"{m} [{key}]" for key, m in parts))

    @model_serializer(mode="wrap")
    def _as_before_new_fields(self, handler, info):
        """An architecture dumps (and hashes) as it did before fields it does not use
        existed, so its result and sweep-point keys do not change: no absent
        `neuron_cores`, and in JSON (what hashes are taken of) no `interconnect.multicast`
        at its default. `neuron_cores.multicast` only mirrors `interconnect.multicast`, so
        it is never dumped: `--set` edits the one place that decides."""
        data = handler(self)
        if not isinstance(data, dict):
            return data
        if data.get("neuron_cores", 0) is None:
            del data["neuron_cores"]
        net, cores = data.get("interconnect"), data.get("neuron_cores")
        if isinstance(cores, dict):
            cores.pop("multicast", None)
        if info.mode == "json" and isinstance(net, dict) and net.get("multicast") == "none":
            del net["multicast"]
        return data

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


def _multicast_given(section) -> str | None:
    """The multicast setting a raw or validated section gives explicitly (None if none)."""
    if isinstance(section, dict):
        return section.get("multicast")
    if isinstance(section, StrictModel) and "multicast" in section.model_fields_set:
        return section.multicast
    return None


def _with_multicast(section, value: str):
    """`section` (raw or validated) with its multicast setting `value`."""
    if isinstance(section, dict):
        return {**section, "multicast": value}
    if isinstance(section, StrictModel):
        return section.model_copy(update={"multicast": value})
    return section
