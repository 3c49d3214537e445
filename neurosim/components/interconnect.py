"""Network-on-chip: its config, bandwidth and hop latency, and the link table shared,
first come first served, by every message (chip-to-chip links included)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from neurosim.components.routing import CHIP_LINK, Routing
from neurosim.components.topologies import Topology
from neurosim.config.base import StrictModel
from neurosim.engine import PS_PER_S, ReservationTable, SimContext, seconds_to_ps
from neurosim.units import (
    NonNegativeJoulesPerBit,
    NonNegativeSeconds,
    NonNegativeWatts,
    PositiveBytesPerSecond,
)

if TYPE_CHECKING:
    from neurosim.architecture import Architecture


HARD_NOC_PORT = (300, 600)
"""assumption: LUTs and flip-flops of the AXI register slice in front of a hardened NoC
master or slave unit (Versal NMU/NSU are hard blocks)."""
SOFT_CROSSBAR_PORT = (2000, 3000)
"""assumption: a soft AXI crossbar port (arbitration, routing and buffering of a wide
AXI4 port); AMD SmartConnect instances are thousands of LUTs per port pair (PG247)."""


class InterconnectConfig(StrictModel):
    """Network-on-chip carrying spike messages and weight traffic."""

    topology: Topology = Field(description="how the routers are linked (kind: mesh, ring, ...)")
    core_nodes: list[int] | None = Field(
        default=None, description="node of each compute unit; default: nodes 0, 1, 2, ..."
    )
    link_bandwidth_bytes_per_s: PositiveBytesPerSecond = Field(
        description="per link direction: bandwidth"
    )
    hop_latency_s: NonNegativeSeconds = Field(description="per hop: router plus wire latency")
    energy_j_per_bit_hop: NonNegativeJoulesPerBit = Field(description="one bit over one link")
    spike_message_bits: int = Field(gt=0, description="bits of one spike (address event) message")
    barrier_s: NonNegativeSeconds = Field(
        default=0.0, description="synchronisation closing every timestep (tick) on one chip"
    )
    static_power_w: NonNegativeWatts = Field(description="per chip: all routers and links")
    multicast: Literal["none", "tree"] = Field(
        default="none",
        description="how a spike reaches several destinations, on every path (LLM tokens and "
        "imported spiking networks): none: one message per destination, routed on its own; "
        "tree: one packet per spike, copied where the routes to its destinations branch, so "
        "it crosses each link of their union once",
    )

    def fabric_cost(self, device, ports: int) -> dict[str, float]:
        """Fabric of `ports` NoC ports: an AXI interface each on a hardened NoC, a share of
        a soft AXI crossbar each without one."""
        lut, ff = (HARD_NOC_PORT if device.hard_noc else SOFT_CROSSBAR_PORT)
        return {"lut": float(lut * ports), "ff": float(ff * ports)}

    def prices(self) -> dict[tuple[str, str], float]:
        """Joules per bit-hop."""
        return {("interconnect", "bit_hop"): self.energy_j_per_bit_hop}


def serialization_ps(cfg: InterconnectConfig, bits: np.ndarray) -> np.ndarray:
    """Time to push `bits` through one on-chip link."""
    ps_per_bit = PS_PER_S / (cfg.link_bandwidth_bytes_per_s * 8)
    return np.ceil(np.asarray(bits, dtype=np.float64) * ps_per_bit).astype(np.int64)


def hop_ps(cfg: InterconnectConfig) -> int:
    """Router-plus-wire latency of one on-chip hop in picoseconds."""
    return seconds_to_ps(cfg.hop_latency_s)


def transfer_ps(cfg: InterconnectConfig, bits: int, hops: int) -> int:
    """Unloaded time of one message of `bits` over `hops` on-chip links (cut-through)."""
    if bits == 0:
        return 0
    return int(serialization_ps(cfg, np.array([bits]))[0]) + hops * hop_ps(cfg)


def link_parameters(arch: Architecture, routing: Routing) -> tuple[np.ndarray, np.ndarray]:
    """Per link: picoseconds per bit and latency in picoseconds (on-chip or chip link)."""
    net = arch.interconnect
    ps_per_bit = np.full(routing.n_links, PS_PER_S / (net.link_bandwidth_bytes_per_s * 8))
    latency = np.full(routing.n_links, hop_ps(net), dtype=np.int64)
    if arch.chips is not None:
        chip = routing.link_class == CHIP_LINK
        ps_per_bit[chip] = arch.chips.ps_per_bit()
        latency[chip] = arch.chips.latency_ps()
    return ps_per_bit, latency


def route_latency_ps(arch: Architecture, routing: Routing, src, dst) -> np.ndarray:
    """Unloaded latency of the route of every (src, dst) pair: on-chip hops plus chip-link
    hops (src and dst broadcast)."""
    hops, chip_hops = routing.hop_counts(src, dst)
    chip_ps = arch.chips.latency_ps() if arch.chips else 0
    return (hops - chip_hops) * hop_ps(arch.interconnect) + chip_hops * chip_ps


class Interconnect:
    """All links of the system (on-chip and chip-to-chip) as one FIFO reservation table."""

    component = "interconnect"

    def __init__(
        self,
        ctx: SimContext,
        cfg: InterconnectConfig,
        routing: Routing,
        ps_per_bit: np.ndarray | None = None,
        latency_ps: np.ndarray | None = None,
    ) -> None:
        """Links default to the on-chip parameters of `cfg`; a multi-chip system passes
        per-link `ps_per_bit` and `latency_ps` (see `link_parameters`)."""
        self.ctx = ctx
        self.cfg = cfg
        self.routing = routing
        if ps_per_bit is None:
            ps_per_bit = np.full(routing.n_links, PS_PER_S / (cfg.link_bandwidth_bytes_per_s * 8))
        if latency_ps is None:
            latency_ps = np.full(routing.n_links, hop_ps(cfg), dtype=np.int64)
        self.ps_per_bit = ps_per_bit
        self.latency_ps = latency_ps
        self.chip_link = routing.link_class == CHIP_LINK
        self.table = ReservationTable(routing.n_links, ctx.contention)
        self._messages: dict[tuple[int, int, int], tuple] = {}

    def count(self, link_bits: np.ndarray) -> None:
        """Charge the ledger for bits carried: on-chip bit-hops and chip-link bits."""
        chip = int(link_bits[self.chip_link].sum())
        self.charge(int(link_bits.sum()) - chip, chip)

    def charge(self, bit_hops: int, chip_bits: int) -> None:
        """Charge the ledger for `bit_hops` on-chip bit-hops and `chip_bits` chip-link bits."""
        self.ctx.ledger.add(self.component, "bit_hop", bit_hops)
        self.ctx.ledger.add("chip_link", "bit", chip_bits)

    def book(self, links: np.ndarray, durations: np.ndarray, latency_ps: int) -> int:
        """Queue `durations[j]` ps on `links[j]` (distinct links) from now; return when the
        last bit arrives: the last link's finish plus `latency_ps` (now if no link)."""
        now = self.ctx.env.now
        if links.size == 0:
            return now
        if links.size == 1:
            return self.table.reserve_one(now, int(links[0]), int(durations[0])) + latency_ps
        return self.table.reserve(now, links, durations) + latency_ps

    def loaded(self, link_bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The links carrying bits and how long each is busy with them (ps)."""
        links = np.flatnonzero(link_bits)
        return links, np.ceil(link_bits[links] * self.ps_per_bit[links]).astype(np.int64)

    def carry(self, link_bits: np.ndarray, latency_ps: int):
        """Carry `link_bits[l]` bits over every link l at once, then pay `latency_ps`."""
        self.count(link_bits)
        now = self.ctx.env.now
        end = self.book(*self.loaded(link_bits), latency_ps)
        if end > now:
            yield self.ctx.env.timeout(end - now)

    def message(self, src: int, dst: int, bits: int) -> tuple:
        """One message from node `src` to node `dst` (cut-through: it pays every link's
        latency once): (links, busy ps per link, latency, bit-hops, chip-link bits).
        Remembered per (src, dst, bits): weight tiles repeat every token."""
        key = (src, dst, bits)
        found = self._messages.get(key)
        if found is None:
            links = self.routing.route_links(src, dst) if bits else np.zeros(0, dtype=np.int64)
            durations = np.ceil(bits * self.ps_per_bit[links]).astype(np.int64)
            chip = bits * int(self.chip_link[links].sum())
            latency = int(self.latency_ps[links].sum())
            found = (links, durations, latency, bits * links.size - chip, chip)
            self._messages[key] = found
        return found

    def send(self, src: int, dst: int, bits: int):
        """One message from node `src` to node `dst` (a SimPy process body)."""
        links, durations, latency, bit_hops, chip = self.message(src, dst, bits)
        self.charge(bit_hops, chip)
        now = self.ctx.env.now
        end = self.book(links, durations, latency)
        if end > now:
            yield self.ctx.env.timeout(end - now)

    @property
    def busy_ps(self) -> np.ndarray:
        """Busy time of each link."""
        return self.table.busy_time
