"""DES fidelity: SimPy processes for weight streaming, spike delivery and compute.

Per token: a DMA process per DRAM channel streams that channel's tiles in execution
order (each tile first reserves stream-buffer space, in global order, so the buffer
can never deadlock), every fetched tile then crosses the NoC; per group, a phase
process delivers each timestep's spikes over the links, and one process per compute
unit works through its tiles, waiting for each tile's weights and each timestep's
spikes. Links and channels are shared first come first served, so weight traffic,
spike traffic and state traffic delay each other; the stream buffer bounds prefetch.
Crossbar arrays that share an ADC bank wait for it, first come first served.
"""

from __future__ import annotations

import numpy as np
import simpy

from neurosim.mapping.placement import Placement
from neurosim.simulate.build import System
from neurosim.simulate.work import TokenWork, WorkPlanner


class DesTokenRunner:
    """Runs tokens one after another on a built system."""

    def __init__(self, system: System, planner: WorkPlanner, recorder=None) -> None:
        self.system = system
        self.planner = planner
        self.recorder = recorder  # a simulate.timeline.TimelineRecorder, or None (off)
        self.placement: Placement = planner.placement
        self.env: simpy.Environment = system.ctx.env
        self.sparse = system.arch.mapping.sparse_weight_fetch
        p = self.placement
        self.core_tiles = [
            [
                np.flatnonzero(p.tile_core[p.group_tiles[g] : p.group_tiles[g + 1]] == c)
                + p.group_tiles[g]
                for c in range(planner.cores)
            ]
            for g in range(len(p.group_tiles) - 1)
        ]

    def token(self, work: TokenWork, floor_ps: int = 0):
        """SimPy process: one token from embedding fetch to LM head, lasting at least
        `floor_ps` (the on-chip memory's aggregate bandwidth, which is not scheduled
        access by access; see `neurosim.simulate.busy`)."""
        env = self.env
        p = self.placement
        sys = self.system
        start = env.now
        n_groups = work.group_timesteps.size
        group_started = [env.event() for _ in range(n_groups)]
        fetched = np.flatnonzero(work.tile_fetch_bytes > 0)
        tile_ready: dict[int, simpy.Event] = {int(k): env.event() for k in fetched}
        reserved: dict[int, simpy.Event] = {int(k): env.event() for k in fetched}
        env.process(self._allocate(work, fetched, reserved))
        for ci in range(len(sys.channels)):
            tiles = fetched[p.tile_channel[fetched] == ci]
            if tiles.size:
                env.process(self._dma(work, ci, tiles, reserved, tile_ready, group_started))
        rec = self.recorder
        if work.prologue_ps:
            emb_bytes = self.planner.embedding_fetch_bytes
            if rec is not None:
                rec.label = ("embedding", -1, -1, -1, -1)
            yield from sys.channels[0].transfer(work.prologue_ps, read_bits=emb_bytes * 8)
        for g in range(n_groups):
            g_start = env.now
            group_started[g].succeed()
            phases = [env.event() for _ in range(int(work.group_timesteps[g]))]
            env.process(self._phases(work, g, phases))
            procs = [
                env.process(self._core(work, g, c, phases, tile_ready))
                for c in range(len(sys.cores))
            ]
            yield simpy.AllOf(env, procs)
            if work.extra_ps[g]:
                state_bits = self.planner.state_fetch_bytes * 8
                half = int(work.extra_ps[g]) // 2
                if rec is not None:
                    rec.label = ("state", g, -1, -1, -1)
                yield from sys.channels[0].transfer(half, read_bits=state_bits)
                yield from sys.channels[0].transfer(half, write_bits=state_bits)
            if rec is not None:
                rec.span("schedule", 1, g_start, env.now, ("layer", g, -1, -1, -1))
        if env.now < start + floor_ps:
            yield env.timeout(start + floor_ps - env.now)
        return start

    def _allocate(self, work: TokenWork, fetched: np.ndarray, reserved: dict):
        """Reserve stream-buffer space for fetched tiles in execution order."""
        rec = self.recorder
        for k in fetched:
            yield from self.system.onchip.reserve(int(work.tile_fetch_bytes[k]))
            reserved[int(k)].succeed()
            if rec is not None:
                rec.fill(self.env.now, self.system.onchip.in_use)

    def _dma(self, work, ci, tiles, reserved, tile_ready, group_started):
        """One channel's DMA: fetch its tiles in order, then send each over the NoC."""
        env = self.env
        channel = self.system.channels[ci]
        group = self.placement.tile_group
        for k in tiles:
            k = int(k)
            if not reserved[k].processed:
                yield reserved[k]
            if self.sparse and not group_started[group[k]].processed:
                yield group_started[group[k]]
            nbytes = int(work.tile_fetch_bytes[k])
            if self.recorder is not None:
                self.recorder.label = ("fetch", int(group[k]), k, -1, -1)
            yield from channel.transfer(int(work.tile_dram_ps[k]), read_bits=nbytes * 8)
            self.system.onchip.write(nbytes * 8)
            env.process(self._deliver_tile(work, k, tile_ready[k]))

    def _deliver_tile(self, work: TokenWork, k: int, ready: simpy.Event):
        """Carry one fetched tile from its memory controller to its compute unit."""
        net = self.system.interconnect
        pl = self.planner
        bits = int(work.tile_fetch_bytes[k]) * 8
        if self.system.ctx.contention:
            if self.recorder is not None:
                self.recorder.label = ("weights", int(self.placement.tile_group[k]), k, -1, -1)
            yield from net.send(int(pl.tile_src_node[k]), int(pl.tile_dst_node[k]), bits)
        else:
            chip = bits * int(pl.tile_chip_hops[k])
            net.ctx.ledger.add(net.component, "bit_hop", bits * int(pl.tile_hops[k]) - chip)
            net.ctx.ledger.add("chip_link", "bit", chip)
            yield self.env.timeout(int(work.tile_noc_ps[k]))
        ready.succeed()

    def _phases(self, work: TokenWork, g: int, phases: list):
        """Deliver each timestep's spikes of group g, one phase after another."""
        net = self.system.interconnect
        a = int(work.phase_offsets[g])
        link_bits = work.phase_link_bits(g)
        rec = self.recorder
        for t, done in enumerate(phases):
            bits = link_bits[t]
            if self.system.ctx.contention:
                t_start = self.env.now
                if rec is not None:
                    rec.label = ("spikes", g, -1, t, t + 1)
                yield from net.carry(bits, int(work.phase_latency_ps[a + t]))
                if self.planner.barrier_ps:
                    yield self.env.timeout(self.planner.barrier_ps)
                if rec is not None:
                    rec.span("schedule", 2, t_start, self.env.now, ("phase", g, -1, t, t + 1))
            else:
                net.count(bits)
                if work.phase_ps[a + t]:
                    yield self.env.timeout(int(work.phase_ps[a + t]))
            done.succeed()

    def _core(self, work: TokenWork, g: int, c: int, phases: list, tile_ready: dict):
        """Compute unit c's share of group g: its tiles, timestep by timestep."""
        core = self.system.cores[c]
        T = len(phases)
        rec = self.recorder
        for k in self.core_tiles[g][c]:
            k = int(k)
            ready = tile_ready.get(k)
            if ready is not None and not ready.processed:
                yield ready
            i0 = int(work.item_offsets[k])
            end = self.env.now  # when the work booked so far is done
            t0 = 0  # first timestep of the work booked since the unit last waited
            for t in range(T):
                if not phases[t].processed:
                    if end > self.env.now:
                        if rec is not None:
                            rec.span("compute", c, self.env.now, end, ("compute", g, k, t0, t))
                        yield from core.compute(end - self.env.now)
                    yield phases[t]
                    end = self.env.now
                    t0 = t
                if work.item_ps[i0 + t]:
                    if rec is not None:
                        rec.label = ("convert", g, k, t, t + 1)
                    end = core.item_end(work, i0 + t, end)
            if rec is not None and end > self.env.now:
                rec.span("compute", c, self.env.now, end, ("compute", g, k, t0, T))
            yield from core.compute(end - self.env.now, core.tile_events(work, i0, T))
            self.system.onchip.release(int(work.tile_fetch_bytes[k]))
            if rec is not None and work.tile_fetch_bytes[k]:
                rec.fill(self.env.now, self.system.onchip.in_use)
        g_counts = self._epilogue_counts(g, c)
        if rec is not None and work.epilogue_ps[g, c]:
            end = self.env.now + int(work.epilogue_ps[g, c])
            rec.span("compute", c, self.env.now, end, ("epilogue", g, -1, -1, -1))
        yield from core.finish_layer(int(work.epilogue_ps[g, c]), *g_counts)

    def _epilogue_counts(self, g: int, c: int) -> tuple[int, int]:
        """Neuron updates and state updates unit c performs at the end of group g."""
        pl = self.planner
        if pl.graph.groups[g].attention is not None and pl.placement.state_resident and c == 0:
            self.system.onchip.read(pl.state_block_bytes * 8)
            self.system.onchip.write(pl.state_block_bytes * 8)
        return int(pl.neuron_updates_gc[g, c]), int(pl.state_updates_gc[g, c])
