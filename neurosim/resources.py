"""Typed identifiers of the resources whose busy time a run reports.

A resource is a kind plus what tells instances apart (a unit index, a DRAM channel name,
a link's two nodes). Its display name ("compute[3]", "adc[7]", "link 12->11", "dram.ddr4")
and the group it counts towards in utilization and bottleneck ("compute", "adc",
"interconnect", "dram.ddr4") are derived here, never parsed back from text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["Resource", "ResourceKind"]


class ResourceKind(Enum):
    """Kinds of resource, each with the group its instances are summarised under (None:
    each instance is its own group, as DRAM channels are)."""

    COMPUTE = "compute"
    DRAM_CHANNEL = "dram"
    NOC_LINK = "interconnect"
    CHIP_LINK = "chip_links"
    ONCHIP_MEMORY = "onchip_memory"
    ADC_BANK = "adc"
    ATTENTION = "attention"
    HBM = "hbm"
    HOST_OVERHEAD = "per-token overhead"


@dataclass(frozen=True, slots=True)
class Resource:
    """One resource instance: `kind` plus a unit `index`, a channel `name` or a link's
    `nodes` (source, destination)."""

    kind: ResourceKind
    index: int | None = None
    name: str | None = None
    nodes: tuple[int, int] | None = None

    @property
    def display(self) -> str:
        """The name printed and stored in results."""
        k = self.kind
        if k is ResourceKind.COMPUTE and self.index is not None:
            return f"compute[{self.index}]"
        if k is ResourceKind.ADC_BANK:
            return f"adc[{self.index}]"
        if k is ResourceKind.DRAM_CHANNEL:
            return f"dram.{self.name}"
        if k is ResourceKind.NOC_LINK:
            return f"link {self.nodes[0]}->{self.nodes[1]}"
        if k is ResourceKind.CHIP_LINK:
            return f"chip link {self.nodes[0]}->{self.nodes[1]}"
        return self.group

    @property
    def group(self) -> str:
        """The resource group this instance counts towards (utilization, bottleneck)."""
        if self.kind is ResourceKind.DRAM_CHANNEL:
            return f"dram.{self.name}"
        return self.kind.value

    @classmethod
    def compute(cls, index: int | None = None) -> Resource:
        """Compute unit `index` (None: all compute as one resource, as on a GPU)."""
        return cls(ResourceKind.COMPUTE, index=index)

    @classmethod
    def adc_bank(cls, index: int) -> Resource:
        """ADC bank `index`: the converters that arrays sharing a bank take turns on."""
        return cls(ResourceKind.ADC_BANK, index=index)

    @classmethod
    def dram(cls, name: str) -> Resource:
        """DRAM channel `name`."""
        return cls(ResourceKind.DRAM_CHANNEL, name=name)

    @classmethod
    def link(cls, src: int, dst: int, *, chip: bool = False) -> Resource:
        """The link src -> dst, on chip (NoC) or between chips."""
        return cls(ResourceKind.CHIP_LINK if chip else ResourceKind.NOC_LINK, nodes=(src, dst))
