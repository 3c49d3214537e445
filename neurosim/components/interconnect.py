"""Network-on-chip: links with bandwidth and hop latency, shared first come first served."""

from __future__ import annotations

import numpy as np

from neurosim.config.architecture import InterconnectConfig
from neurosim.engine import ReservationTable, SimContext
from neurosim.topology import Routing

PS_PER_S = 1_000_000_000_000


def serialization_ps(cfg: InterconnectConfig, bits: np.ndarray) -> np.ndarray:
    """Time to push `bits` through one link."""
    ps_per_bit = PS_PER_S / (cfg.link_bandwidth_bytes_per_s * 8)
    return np.ceil(np.asarray(bits, dtype=np.float64) * ps_per_bit).astype(np.int64)


def hop_ps(cfg: InterconnectConfig) -> int:
    """Router-plus-wire latency of one hop in picoseconds."""
    return int(round(cfg.hop_latency_s * PS_PER_S))


def transfer_ps(cfg: InterconnectConfig, bits: int, hops: int) -> int:
    """Unloaded time of one message of `bits` over `hops` links (cut-through)."""
    if bits == 0:
        return 0
    return int(serialization_ps(cfg, np.array([bits]))[0]) + hops * hop_ps(cfg)


class Interconnect:
    """All links of the NoC as one FIFO reservation table."""

    component = "interconnect"

    def __init__(self, ctx: SimContext, cfg: InterconnectConfig, routing: Routing) -> None:
        self.ctx = ctx
        self.cfg = cfg
        self.routing = routing
        self.table = ReservationTable(routing.n_links, ctx.contention)

    def carry(self, link_bits: np.ndarray, latency_ps: int):
        """Carry `link_bits[l]` bits over every link l at once, then pay `latency_ps`."""
        loaded = np.flatnonzero(link_bits)
        self.ctx.ledger.add(self.component, "bit_hop", int(link_bits.sum()))
        now = self.ctx.env.now
        finish = self.table.reserve(now, loaded, serialization_ps(self.cfg, link_bits[loaded]))
        end = finish + (latency_ps if loaded.size else 0)
        if end > now:
            yield self.ctx.env.timeout(end - now)

    def send(self, src: int, dst: int, bits: int):
        """One message from node `src` to node `dst`."""
        links = self.routing.route_links(src, dst)
        link_bits = np.zeros(self.routing.n_links, dtype=np.int64)
        link_bits[links] = bits
        yield from self.carry(link_bits, int(links.size) * hop_ps(self.cfg))

    @property
    def busy_ps(self) -> np.ndarray:
        """Busy time of each link."""
        return self.table.busy_time
