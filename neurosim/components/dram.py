"""Off-chip DRAM channel: bursts, sustained bandwidth, latency, FIFO contention.

Owns its config section, its transfer timing, its prices and its SimPy model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pydantic import Field, model_serializer, model_validator

from neurosim.config.base import StrictModel
from neurosim.engine import PS_PER_S, ReservationTable, SimContext, seconds_to_ps
from neurosim.units import (
    Fraction,
    NonNegativeJoulesPerBit,
    NonNegativeSeconds,
    NonNegativeWatts,
    PositiveBytes,
    PositiveBytesPerSecond,
)

AXI_PORT_LUTS = 500
AXI_PORT_FFS = 1000
"""assumption: an AXI4 port with a register slice and a width converter in front of a hard
memory controller; AMD's AXI register slice and data-width converter IP are hundreds of
LUTs each (PG373)."""


class DramChannelConfig(StrictModel):
    """One off-chip DRAM channel (or interleaved interface) and its controller."""

    name: str = Field(min_length=1, description="channel name, used in event names")
    capacity_bytes: PositiveBytes = Field(description="per channel: capacity")
    peak_bandwidth_bytes_per_s: PositiveBytesPerSecond = Field(description="per channel: peak")
    efficiency: Fraction = Field(description="sustained / peak bandwidth for long streams")
    burst_bytes: int = Field(gt=0, description="smallest transfer; reads round up to bursts")
    latency_s: NonNegativeSeconds = Field(description="request-to-first-data latency")
    read_energy_j_per_bit: NonNegativeJoulesPerBit = Field(description="reading one bit")
    write_energy_j_per_bit: NonNegativeJoulesPerBit = Field(description="writing one bit")
    static_power_w: NonNegativeWatts = Field(description="per channel: background power")
    attach_node: int = Field(ge=0, description="interconnect node of the memory controller")
    channels_per_controller: int = Field(
        default=1,
        description="channels sharing one hard memory controller (FPGA fit check): 1 for a "
        "DDR or LPDDR interface, 2 for the pseudo channels of UltraScale+ HBM2 (UG1393)",
    )

    @model_serializer(mode="wrap")
    def _one_controller_each_dumps_as_before(self, handler, info):
        """A channel with its own controller leaves `channels_per_controller` out of the JSON
        dump, so its config hash (and every stored sweep point) is what it was before."""
        data = handler(self)
        if info.mode == "json" and self.channels_per_controller == 1 and isinstance(data, dict):
            data.pop("channels_per_controller", None)
        return data

    @model_validator(mode="after")
    def _efficiency_positive(self) -> DramChannelConfig:
        if self.efficiency <= 0:
            raise ValueError("efficiency must be above 0 (a channel that moves no data)")
        return self

    @property
    def sustained_bandwidth_bytes_per_s(self) -> float:
        """Peak bandwidth times efficiency."""
        return self.peak_bandwidth_bytes_per_s * self.efficiency

    @property
    def component(self) -> str:
        """Ledger name of this channel."""
        return f"dram.{self.name}"

    def fabric_cost(self, device) -> dict[str, float]:
        """Its share of a hard memory controller and the fabric of its AXI port."""
        return {
            "memory_controllers": 1.0 / self.channels_per_controller,
            "lut": float(AXI_PORT_LUTS),
            "ff": float(AXI_PORT_FFS),
        }

    def prices(self) -> dict[tuple[str, str], float]:
        """Joules per bit read and written."""
        return {
            (self.component, "read_bit"): self.read_energy_j_per_bit,
            (self.component, "write_bit"): self.write_energy_j_per_bit,
        }


class DramConfig(StrictModel):
    """All off-chip DRAM channels; weights are striped over them by bandwidth."""

    channels: list[DramChannelConfig] = Field(min_length=1, description="the channels")

    @model_validator(mode="after")
    def _unique_names(self) -> DramConfig:
        names = [c.name for c in self.channels]
        if len(set(names)) != len(names):
            dup = next(i for i, n in enumerate(names) if names.index(n) != i)
            raise ValueError(f"channels[{dup}].name: channel names must be unique; got {names}")
        return self


def transfer_ps(cfg: DramChannelConfig, nbytes: np.ndarray | int) -> np.ndarray:
    """Time of one transfer: latency + whole bursts at sustained bandwidth (0 for 0 bytes)."""
    nbytes = np.asarray(nbytes, dtype=np.int64)
    moved = -(-nbytes // cfg.burst_bytes) * cfg.burst_bytes
    ps = seconds_to_ps(cfg.latency_s) + np.ceil(
        moved * (PS_PER_S / cfg.sustained_bandwidth_bytes_per_s)
    ).astype(np.int64)
    return np.where(moved > 0, ps, 0)


def bytes_moved(cfg: DramChannelConfig, nbytes: int) -> int:
    """Bytes actually moved for a request of `nbytes` (rounded up to bursts)."""
    return math.ceil(nbytes / cfg.burst_bytes) * cfg.burst_bytes


def transfer_ps_per_channel(
    channels: Sequence[DramChannelConfig], nbytes: Sequence[int] | np.ndarray
) -> np.ndarray:
    """(channels,) time of one transfer of `nbytes[i]` on each channel i (0 for none)."""
    return np.array(
        [int(transfer_ps(ch, int(n))) for ch, n in zip(channels, nbytes, strict=True)],
        dtype=np.int64,
    )


class DramChannel:
    """A DRAM channel shared, first come first served, by every stream that uses it."""

    def __init__(
        self, ctx: SimContext, cfg: DramChannelConfig, index: int, table: ReservationTable
    ) -> None:
        self.ctx = ctx
        self.cfg = cfg
        self.index = index
        self.table = table
        self.component = cfg.component

    def count(self, read_bits: int = 0, write_bits: int = 0) -> None:
        """Count bits read and written."""
        self.ctx.ledger.add(self.component, "read_bit", read_bits)
        self.ctx.ledger.add(self.component, "write_bit", write_bits)

    def book(self, duration_ps: int) -> int:
        """Queue a transfer of `duration_ps` from now; return when it ends."""
        return self.table.reserve_one(self.ctx.env.now, self.index, duration_ps)

    def transfer(self, duration_ps: int, read_bits: int = 0, write_bits: int = 0):
        """Move data for `duration_ps` once the channel is free (a SimPy process body)."""
        self.count(read_bits, write_bits)
        now = self.ctx.env.now
        finish = self.book(duration_ps)
        if finish > now:
            yield self.ctx.env.timeout(finish - now)

    @property
    def busy_ps(self) -> int:
        """Total time this channel spent transferring."""
        return int(self.table.busy_time[self.index])
