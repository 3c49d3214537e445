"""The one registry of component kinds: `kind` -> config class.

A compute section picks its class by its `kind:` (default `spiking_core`); a new kind
is one module plus one line here. Nothing outside this module branches on config types.
"""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Discriminator, Tag

from neurosim.components.core import SpikingCoreConfig
from neurosim.components.crossbar import CrossbarTileConfig
from neurosim.components.near_memory import NearMemoryEngineConfig
from neurosim.components.sram_cim import SramCimTileConfig
from neurosim.components.topologies import TOPOLOGIES

COMPUTE_KINDS = {
    "spiking_core": SpikingCoreConfig,
    "crossbar_tile": CrossbarTileConfig,
    "sram_cim_tile": SramCimTileConfig,
    "near_memory_engine": NearMemoryEngineConfig,
}

__all__ = ["COMPUTE_KINDS", "ComputeConfig", "TOPOLOGIES", "compute_kind"]


def compute_kind(value: object) -> str:
    """The `kind` of a compute section; a section without one is a spiking core."""
    if isinstance(value, dict):
        return value.get("kind", "spiking_core")
    return getattr(value, "kind", "spiking_core")


ComputeConfig = Annotated[
    Union[tuple(Annotated[cls, Tag(kind)] for kind, cls in COMPUTE_KINDS.items())],  # noqa: UP007
    Discriminator(compute_kind),
]
