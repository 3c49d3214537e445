"""On-chip memory: resident weights, the weight stream buffer, per-bit access energy."""

from __future__ import annotations

import simpy

from neurosim.config.architecture import OnChipMemoryConfig
from neurosim.engine import SimContext


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
