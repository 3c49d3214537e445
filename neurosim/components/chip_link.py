"""Chip-to-chip links of a multi-chip system: their config, timing and prices.

The links are simulated as servers of the system's one link table
(`components.interconnect.Interconnect`); this module says what one link is.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from neurosim.components.topologies import TOPOLOGIES
from neurosim.config.base import StrictModel
from neurosim.engine import PS_PER_S, seconds_to_ps
from neurosim.units import (
    NonNegativeJoulesPerBit,
    NonNegativeSeconds,
    NonNegativeWatts,
    PositiveBytesPerSecond,
)


class ChipsConfig(StrictModel):
    """Several identical chips joined by chip-to-chip links (multi-chip systems)."""

    count: int | Literal["auto"] = Field(
        description="per system: chips, or 'auto': as many as the model's weights need"
    )
    topology: Literal["ring", "mesh", "crossbar"] = Field(
        description="how chips are linked; a mesh is laid out as square as possible"
    )
    gateway_node: int = Field(default=0, ge=0, description="on-chip node the chip links attach to")
    link_bandwidth_bytes_per_s: PositiveBytesPerSecond = Field(
        description="per link direction: bandwidth"
    )
    link_latency_s: NonNegativeSeconds = Field(description="per link hop: latency")
    energy_j_per_bit: NonNegativeJoulesPerBit = Field(description="per bit per chip-link hop")
    barrier_s: NonNegativeSeconds = Field(
        default=0.0, description="synchronisation closing every timestep across all chips"
    )
    static_power_w: NonNegativeWatts = Field(description="per chip: its link interfaces")

    @model_validator(mode="after")
    def _positive_count(self) -> ChipsConfig:
        if self.count != "auto" and self.count < 1:
            raise ValueError("count must be at least 1 or 'auto'")
        if self.topology not in TOPOLOGIES:  # pragma: no cover - Literal keeps them in step
            raise ValueError(f"topology: known kinds are {sorted(TOPOLOGIES)}")
        return self

    def ps_per_bit(self) -> float:
        """Picoseconds to push one bit through one link direction."""
        return PS_PER_S / (self.link_bandwidth_bytes_per_s * 8)

    def latency_ps(self) -> int:
        """One chip-link hop's latency in integer picoseconds."""
        return seconds_to_ps(self.link_latency_s)

    def prices(self) -> dict[tuple[str, str], float]:
        """Joules per bit per chip-link hop."""
        return {("chip_link", "bit"): self.energy_j_per_bit}
