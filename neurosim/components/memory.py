"""On-chip memory: resident weights, the weight stream buffer, per-bit access energy.

Owns its config section, its prices and the SimPy model bounding prefetch.
"""

from __future__ import annotations

import simpy
from pydantic import Field

from neurosim.config.base import StrictModel
from neurosim.engine import SimContext
from neurosim.units import (
    NonNegativeJoulesPerBit,
    NonNegativeWatts,
    PositiveBytes,
    PositiveBytesPerSecond,
)


class OnChipMemoryConfig(StrictModel):
    """On-chip SRAM (block RAM, scratchpads) holding resident weights, buffers and state."""

    capacity_bytes: PositiveBytes = Field(description="per chip: capacity")
    banks: int = Field(gt=0, description="per chip: independently accessible banks")
    bank_bandwidth_bytes_per_s: PositiveBytesPerSecond = Field(description="per bank: bandwidth")
    read_energy_j_per_bit: NonNegativeJoulesPerBit = Field(description="reading one bit")
    write_energy_j_per_bit: NonNegativeJoulesPerBit = Field(description="writing one bit")
    static_power_w: NonNegativeWatts = Field(description="per chip: leakage of all banks")

    @property
    def bandwidth_bytes_per_s(self) -> float:
        """Per chip: aggregate bandwidth of all banks."""
        return self.banks * self.bank_bandwidth_bytes_per_s

    def prices(self) -> dict[tuple[str, str], float]:
        """Joules per bit read and written."""
        return {
            ("onchip_memory", "read_bit"): self.read_energy_j_per_bit,
            ("onchip_memory", "write_bit"): self.write_energy_j_per_bit,
        }


class OnChipMemory:
    """Counts accesses and bounds how far ahead weights may be streamed."""

    component = "onchip_memory"

    def __init__(self, ctx: SimContext, cfg: OnChipMemoryConfig, stream_buffer_bytes: int):
        self.ctx = ctx
        self.cfg = cfg
        self.buffer = (
            simpy.Container(ctx.env, capacity=stream_buffer_bytes, init=stream_buffer_bytes)
            if ctx.contention and stream_buffer_bytes > 0
            else None
        )

    def reserve(self, nbytes: int):
        """Wait for `nbytes` of free stream buffer (unbounded when contention is off)."""
        if self.buffer is not None and nbytes:
            yield self.buffer.get(nbytes)

    @property
    def in_use(self) -> int:
        """Stream-buffer bytes reserved now (0 when the buffer is unbounded)."""
        return 0 if self.buffer is None else int(self.buffer.capacity - self.buffer.level)

    def release(self, nbytes: int) -> None:
        """Give back stream buffer space once a tile has been used."""
        if self.buffer is not None and nbytes:
            self.buffer.put(nbytes)

    def write(self, bits: int) -> None:
        """Count bits written (weights landing in the buffer, state updates)."""
        self.ctx.ledger.add(self.component, "write_bit", bits)

    def read(self, bits: int) -> None:
        """Count bits read (outside the compute units' own weight reads)."""
        self.ctx.ledger.add(self.component, "read_bit", bits)
