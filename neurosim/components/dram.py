"""Off-chip DRAM channel: bursts, sustained bandwidth, latency, FIFO contention."""

from __future__ import annotations

import math

import numpy as np

from neurosim.config.architecture import DramChannelConfig
from neurosim.engine import PS_PER_S, ReservationTable, SimContext


def transfer_ps(cfg: DramChannelConfig, nbytes: np.ndarray | int) -> np.ndarray:
    """Time of one transfer: latency + whole bursts at sustained bandwidth (0 for 0 bytes)."""
    nbytes = np.asarray(nbytes, dtype=np.int64)
    moved = -(-nbytes // cfg.burst_bytes) * cfg.burst_bytes
    ps = int(round(cfg.latency_s * PS_PER_S)) + np.ceil(
        moved * (PS_PER_S / cfg.sustained_bandwidth_bytes_per_s)
    ).astype(np.int64)
    return np.where(moved > 0, ps, 0)


def bytes_moved(cfg: DramChannelConfig, nbytes: int) -> int:
    """Bytes actually moved for a request of `nbytes` (rounded up to bursts)."""
    return math.ceil(nbytes / cfg.burst_bytes) * cfg.burst_bytes


class DramChannel:
    """A DRAM channel shared, first come first served, by every stream that uses it."""

    def __init__(
        self, ctx: SimContext, cfg: DramChannelConfig, index: int, table: ReservationTable
    ) -> None:
        self.ctx = ctx
        self.cfg = cfg
        self.index = index
        self.table = table
        self.component = f"dram.{cfg.name}"
        self._server = np.array([index])

    def transfer(self, duration_ps: int, read_bits: int = 0, write_bits: int = 0):
        """Move data for `duration_ps` once the channel is free (a SimPy process body)."""
        self.ctx.ledger.add(self.component, "read_bit", read_bits)
        self.ctx.ledger.add(self.component, "write_bit", write_bits)
        now = self.ctx.env.now
        finish = self.table.reserve(now, self._server, np.array([duration_ps], dtype=np.int64))
        if finish > now:
            yield self.ctx.env.timeout(finish - now)

    @property
    def busy_ps(self) -> int:
        """Total time this channel spent transferring."""
        return int(self.table.busy_time[self.index])
