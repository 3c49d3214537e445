"""Network-on-chip and chip-to-chip links: bandwidth, hop latency, FIFO sharing."""

from __future__ import annotations

import numpy as np

from neurosim.config.architecture import Architecture, InterconnectConfig
from neurosim.engine import PS_PER_S, ReservationTable, SimContext
from neurosim.topology import CHIP_LINK, Routing


def serialization_ps(cfg: InterconnectConfig, bits: np.ndarray) -> np.ndarray:
    """Time to push `bits` through one on-chip link."""
    ps_per_bit = PS_PER_S / (cfg.link_bandwidth_bytes_per_s * 8)
    return np.ceil(np.asarray(bits, dtype=np.float64) * ps_per_bit).astype(np.int64)


def hop_ps(cfg: InterconnectConfig) -> int:
    """Router-plus-wire latency of one on-chip hop in picoseconds."""
    return int(round(cfg.hop_latency_s * PS_PER_S))


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
        ps_per_bit[chip] = PS_PER_S / (arch.chips.link_bandwidth_bytes_per_s * 8)
        latency[chip] = int(round(arch.chips.link_latency_s * PS_PER_S))
    return ps_per_bit, latency


def route_latency_ps(arch: Architecture, routing: Routing) -> np.ndarray:
    """(nodes, nodes) latency of every route: on-chip hops plus chip-link hops."""
    chip_ps = int(round(arch.chips.link_latency_s * PS_PER_S)) if arch.chips else 0
    onchip = routing.hops - routing.chip_hops
    return onchip * hop_ps(arch.interconnect) + routing.chip_hops * chip_ps


class Interconnect:
    """All links of the system (on-chip and chip-to-chip) as one FIFO reservation table."""

    component = "interconnect"

    def __init__(
        self,
        ctx: SimContext,
        cfg: InterconnectConfig,
        routing: Routing,
        ps_per_bit: np.ndarray | None = None,
        route_latency: np.ndarray | None = None,
    ) -> None:
        """Links default to the on-chip parameters of `cfg`; a multi-chip system passes
        per-link `ps_per_bit` and the `route_latency` matrix (see `link_parameters`)."""
        self.ctx = ctx
        self.cfg = cfg
        self.routing = routing
        if ps_per_bit is None:
            ps_per_bit = np.full(routing.n_links, PS_PER_S / (cfg.link_bandwidth_bytes_per_s * 8))
        if route_latency is None:
            route_latency = routing.hops * hop_ps(cfg)
        self.ps_per_bit = ps_per_bit
        self.route_latency = route_latency
        self.chip_link = routing.link_class == CHIP_LINK
        self.table = ReservationTable(routing.n_links, ctx.contention)

    def count(self, link_bits: np.ndarray) -> None:
        """Charge the ledger for bits carried: on-chip bit-hops and chip-link bits."""
        chip = int(link_bits[self.chip_link].sum())
        self.ctx.ledger.add(self.component, "bit_hop", int(link_bits.sum()) - chip)
        self.ctx.ledger.add("chip_link", "bit", chip)

    def carry(self, link_bits: np.ndarray, latency_ps: int):
        """Carry `link_bits[l]` bits over every link l at once, then pay `latency_ps`."""
        loaded = np.flatnonzero(link_bits)
        self.count(link_bits)
        now = self.ctx.env.now
        durations = np.ceil(link_bits[loaded] * self.ps_per_bit[loaded]).astype(np.int64)
        finish = self.table.reserve(now, loaded, durations)
        end = finish + (latency_ps if loaded.size else 0)
        if end > now:
            yield self.ctx.env.timeout(end - now)

    def send(self, src: int, dst: int, bits: int):
        """One message from node `src` to node `dst`."""
        links = self.routing.route_links(src, dst)
        link_bits = np.zeros(self.routing.n_links, dtype=np.int64)
        link_bits[links] = bits
        yield from self.carry(link_bits, int(self.route_latency[src, dst]))

    @property
    def busy_ps(self) -> np.ndarray:
        """Busy time of each link."""
        return self.table.busy_time
