"""Busy time of every shared resource in one token, and the floor it puts under the token.

A compute unit, a shared ADC bank, a DRAM channel or a link serves one thing at a time,
so no schedule of a token can be shorter than the busiest resource's busy time in it. The
DES meets that floor by construction for the servers it schedules (units, ADC banks,
channels, links); the on-chip
memory's banks are not scheduled access by access, so both fidelities apply their
aggregate bandwidth as a floor. The analytic fidelity, which has no queues, applies the
floor of every resource: that keeps it a bound on the DES and no resource above 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neurosim.components.routing import CHIP_LINK
from neurosim.engine import PS_PER_S, ps_to_seconds
from neurosim.resources import Resource, ResourceKind
from neurosim.simulate.kernels import link_busy_ps
from neurosim.simulate.work import TokenWork, WorkPlanner


@dataclass
class TokenBusy:
    """Picoseconds each resource is busy in one token."""

    compute: np.ndarray  # (units,)
    dram: np.ndarray  # (channels,)
    links: np.ndarray  # (links,)
    onchip: int
    adc: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (shared ADC banks,)
    attention: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (0 or 1 engine,)

    def longest_ps(self) -> int:
        """The busiest resource's busy time: no schedule of the token is shorter."""
        return int(
            max(
                self.compute.max(initial=0),
                self.adc.max(initial=0),
                self.attention.max(initial=0),
                self.dram.max(initial=0),
                self.links.max(initial=0),
                self.onchip,
            )
        )


class BusyMeter:
    """Measures each token's busy times and keeps the run's totals per resource."""

    def __init__(self, planner: WorkPlanner, attention: bool = False) -> None:
        """`attention`: the run uses the attention engine (softmax), a resource of its own."""
        self.planner = planner
        p = planner.placement
        arch = planner.arch
        self.item_core = np.repeat(p.tile_core, np.diff(planner.item_offsets))
        self.n_channels = len(arch.dram_channels)
        self.channel_of_tile = np.where(p.tile_channel >= 0, p.tile_channel, self.n_channels)
        # every chip has its own on-chip memory: the system's banks serve all chips' bytes
        self.onchip_ps_per_byte = PS_PER_S / (arch.onchip_memory.bandwidth_bytes_per_s * p.chips)
        routing = planner.routing
        self.resources = [Resource.compute(c) for c in range(planner.cores)]
        # a bank of one array's own converters is never shared: its busy time is part of
        # its unit's, so only shared banks are resources of their own
        shared = planner.adc is not None and planner.adc.arrays_per_bank > 1
        self.n_adc_banks = planner.n_adc_banks if shared else 0
        self.resources += [Resource.adc_bank(b) for b in range(self.n_adc_banks)]
        self.resources += [Resource.dram(ch.name) for ch in arch.dram_channels]
        self.resources += [
            Resource.link(int(a), int(b), chip=bool(routing.link_class[i] == CHIP_LINK))
            for i, (a, b) in enumerate(routing.links)
        ]
        self.resources.append(Resource(ResourceKind.ONCHIP_MEMORY))
        self.n_engines = 1 if attention and arch.attention_engine is not None else 0
        self.resources += [Resource(ResourceKind.ATTENTION)] * self.n_engines
        self.total_ps = np.zeros(len(self.resources), dtype=np.float64)
        self._weight_links_key: np.ndarray | None = None
        self._weight_links_ps = np.zeros(routing.n_links)

    def onchip_ps(self, work: TokenWork) -> int:
        """Time the on-chip memory's banks need for the token's traffic, at full bandwidth."""
        nbytes = work.onchip_read_bytes + work.onchip_write_bytes
        return int(np.ceil(nbytes * self.onchip_ps_per_byte))

    def measure(self, work: TokenWork) -> TokenBusy:
        """Busy times of one token (not yet added to the run's totals: see `add`)."""
        pl = self.planner
        compute = np.bincount(self.item_core, weights=work.item_ps, minlength=pl.cores)
        compute += work.epilogue_ps.sum(axis=0)
        dram = np.bincount(
            self.channel_of_tile, weights=work.tile_dram_ps, minlength=self.n_channels + 1
        )[: self.n_channels]
        if self.n_channels:
            dram[0] += work.prologue_ps
            if work.state_ps is not None:  # the off-chip state, read and written back
                dram += 2 * work.state_ps.sum(axis=0)
        attention = np.zeros(self.n_engines)
        if work.kv is not None:
            dram += work.kv.read_ps.sum(axis=0) + work.kv.write_ps.sum(axis=0)
            attention[:] = work.kv.engine_ps.sum()  # (nothing without an engine resource)
        links = np.zeros(pl.routing.n_links)
        links[work.spike_links] = link_busy_ps(work.spike_bits, pl.spike_link_ps_per_bit)
        links += self._weight_links(work.tile_fetch_bytes)
        adc = np.zeros(self.n_adc_banks)
        if self.n_adc_banks and work.adc is not None:
            adc = work.adc.bank_busy_ps(self.n_adc_banks)
        return TokenBusy(
            compute=compute,
            dram=dram,
            links=links,
            onchip=self.onchip_ps(work),
            adc=adc,
            attention=attention,
        )

    def add(self, busy: TokenBusy) -> None:
        """Add a finished token's busy times to the run's totals."""
        self.total_ps += np.concatenate(
            (busy.compute, busy.adc, busy.dram, busy.links, [busy.onchip], busy.attention)
        )

    def _weight_links(self, fetch_bytes: np.ndarray) -> np.ndarray:
        """Link time of the streamed weight tiles (the same every token under dense fetch)."""
        key = self._weight_links_key
        if key is not None and np.array_equal(fetch_bytes, key):
            return self._weight_links_ps
        pl = self.planner
        links = np.zeros(pl.routing.n_links)
        fetched = np.flatnonzero(fetch_bytes)
        if fetched.size:
            n = pl.routing.n_nodes
            pair = pl.tile_src_node[fetched] * n + pl.tile_dst_node[fetched]
            per_pair = np.bincount(pair, weights=fetch_bytes[fetched] * 8, minlength=n * n)
            links = np.ceil(pl.routing.link_sums(per_pair) * pl.link_ps_per_bit)
        self._weight_links_key = fetch_bytes.copy()
        self._weight_links_ps = links
        return links

    def seconds(self) -> dict[Resource, float]:
        """The run's busy seconds of each resource."""
        return {r: ps_to_seconds(v) for r, v in zip(self.resources, self.total_ps, strict=True)}
