"""On-chip memory: resident weights, the weight stream buffer, per-bit access energy.

Owns its config section, its prices and the SimPy model bounding prefetch.
"""

from __future__ import annotations

from collections import deque

import simpy
from pydantic import Field

from neurosim.components.fpga import blocks_for
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

    def fabric_cost(self, device) -> dict[str, float]:
        """On an FPGA the capacity is UltraRAM first, then 36 Kb block RAM."""
        uram, bram = blocks_for(self.capacity_bytes, device)
        return {"uram": float(uram), "bram": float(bram)}

    def prices(self) -> dict[tuple[str, str], float]:
        """Joules per bit read and written."""
        return {
            ("onchip_memory", "read_bit"): self.read_energy_j_per_bit,
            ("onchip_memory", "write_bit"): self.write_energy_j_per_bit,
        }


class StreamBuffer:
    """Bytes of stream buffer, handed out first come first served.

    The events are those of a `simpy.Container` (full at the start, takes granted in
    request order): a new take serves the queue at once, a give-back adds its bytes at
    once and serves the queue when its own event is processed. Without the container's
    general machinery, which a buffer that is never overfilled does not need.
    """

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        self.env = env
        self.capacity = capacity
        self.level = capacity
        self._waiting: deque[tuple[simpy.Event, int]] = deque()

    def take(self, nbytes: int) -> simpy.Event:
        """An event that succeeds once `nbytes` are free and every earlier take is served."""
        event = simpy.Event(self.env)
        self._waiting.append((event, nbytes))
        self._serve(None)
        return event

    def give_back(self, nbytes: int) -> None:
        """Return `nbytes`; waiting takes are served when the give-back is processed."""
        if self.level + nbytes > self.capacity:
            raise RuntimeError(f"stream buffer: {nbytes} bytes returned that were never taken")
        self.level += nbytes
        returned = simpy.Event(self.env)
        returned.callbacks.append(self._serve)
        returned.succeed()

    def _serve(self, _returned: simpy.Event | None) -> None:
        """Grant waiting takes in order while they fit."""
        waiting = self._waiting
        while waiting and self.level >= waiting[0][1]:
            event, nbytes = waiting.popleft()
            self.level -= nbytes
            event.succeed()


class OnChipMemory:
    """Counts accesses and bounds how far ahead weights may be streamed."""

    component = "onchip_memory"

    def __init__(self, ctx: SimContext, cfg: OnChipMemoryConfig, stream_buffer_bytes: int):
        self.ctx = ctx
        self.cfg = cfg
        self.buffer = (
            StreamBuffer(ctx.env, stream_buffer_bytes)
            if ctx.contention and stream_buffer_bytes > 0
            else None
        )

    def reserve(self, nbytes: int):
        """Wait for `nbytes` of free stream buffer (unbounded when contention is off)."""
        if self.buffer is not None and nbytes:
            yield self.buffer.take(nbytes)

    @property
    def in_use(self) -> int:
        """Stream-buffer bytes reserved now (0 when the buffer is unbounded)."""
        return 0 if self.buffer is None else int(self.buffer.capacity - self.buffer.level)

    def release(self, nbytes: int) -> None:
        """Give back stream buffer space once a tile has been used."""
        if self.buffer is not None and nbytes:
            self.buffer.give_back(nbytes)

    def write(self, bits: int) -> None:
        """Count bits written (weights landing in the buffer, state updates)."""
        self.ctx.ledger.add(self.component, "write_bit", bits)

    def read(self, bits: int) -> None:
        """Count bits read (outside the compute units' own weight reads)."""
        self.ctx.ledger.add(self.component, "read_bit", bits)
