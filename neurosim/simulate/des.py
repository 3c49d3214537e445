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
from neurosim.simulate.attention_work import KvWork
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
                (
                    np.flatnonzero(p.tile_core[p.group_tiles[g] : p.group_tiles[g + 1]] == c)
                    + p.group_tiles[g]
                ).tolist()
                for c in range(planner.cores)
            ]
            for g in range(len(p.group_tiles) - 1)
        ]
        net = system.interconnect
        self.spike_links = planner.spike_links
        self.spike_chip = net.chip_link[self.spike_links]
        self.spike_ps_per_bit = net.ps_per_bit[self.spike_links]
        self._item_offsets: list[int] = planner.item_offsets.tolist()
        self._src_node: list[int] = planner.tile_src_node.tolist()
        self._dst_node: list[int] = planner.tile_dst_node.tolist()
        self._tile_ps: list[int] = []  # these four are per token
        self._item_cum: list[int] = []  # item times summed up to each item
        self._fetch_bytes: list[int] = []
        self._event_keys: list[tuple[str, str]] = []
        self._unit_sums: list[list[int]] = []

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
        tile_ready: dict[int, simpy.Event] = {k: simpy.Event(env) for k in fetched.tolist()}
        reserved: dict[int, simpy.Event] = {k: simpy.Event(env) for k in fetched.tolist()}
        self._tile_totals(work)
        env.process(self._allocate(work, fetched, reserved))
        for ci in range(len(sys.channels)):
            tiles = fetched[p.tile_channel[fetched] == ci]
            if tiles.size:
                env.process(self._dma(work, ci, tiles, reserved, tile_ready, group_started))
        rec = self.recorder
        if work.prologue_ps:
            emb_bytes = self.planner.embedding_fetch_bytes * work.vectors
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
                if rec is not None:
                    rec.label = ("state", g, -1, -1, -1)
                yield from self._state_traffic(work, g)
            if work.kv is not None and work.kv.group_ps[g]:
                if rec is not None:
                    rec.label = ("kv cache", g, -1, -1, -1)
                yield from self._attention(work.kv, g)
            if rec is not None:
                rec.span("schedule", 1, g_start, env.now, ("layer", g, -1, -1, -1))
        if env.now < start + floor_ps:
            yield env.timeout(start + floor_ps - env.now)
        return start

    def _state_traffic(self, work: TokenWork, g: int):
        """Group g's recurrent states, kept off chip: every channel reads its interleaved
        share at once, then writes it back."""
        env = self.env
        moved, ps = work.state_bytes[g].tolist(), work.state_ps[g].tolist()
        for direction in ("read_bits", "write_bits"):
            yield simpy.AllOf(env, [
                env.process(channel.transfer(ps[ci], **{direction: moved[ci] * 8}))
                for ci, channel in enumerate(self.system.channels)
                if moved[ci]
            ])

    def _attention(self, kv: KvWork, g: int):
        """Softmax attention after group g: the engine scores, normalises and sums while
        the DRAM channels deliver their share of the KV cache (the on-chip share is read at
        the memory's bandwidth), then the new keys and values are written back."""
        env, sys = self.env, self.system
        onchip = sys.onchip
        onchip.read(int(kv.onchip_read_bits[g]))
        onchip.write(int(kv.onchip_write_bits[g]))
        events = {name: int(n[g]) for name, n in kv.events.items()}
        procs = [env.process(sys.attention.run(int(kv.engine_ps[g]), events))]
        if kv.onchip_ps[g]:
            procs.append(env.timeout(int(kv.onchip_ps[g])))
        for ci, channel in enumerate(sys.channels):
            if kv.read_bits[g, ci]:
                procs.append(
                    env.process(
                        channel.transfer(int(kv.read_ps[g, ci]), read_bits=int(kv.read_bits[g, ci]))
                    )
                )
        yield simpy.AllOf(env, procs)
        writes = [
            env.process(
                channel.transfer(int(kv.write_ps[g, ci]), write_bits=int(kv.write_bits[g, ci]))
            )
            for ci, channel in enumerate(sys.channels)
            if kv.write_bits[g, ci]
        ]
        if writes:
            yield simpy.AllOf(env, writes)

    def _allocate(self, work: TokenWork, fetched: np.ndarray, reserved: dict):
        """Reserve stream-buffer space for fetched tiles in execution order."""
        onchip = self.system.onchip
        sizes = work.tile_fetch_bytes[fetched].tolist()
        rec = self.recorder
        for k, nbytes in zip(fetched.tolist(), sizes, strict=True):
            yield from onchip.reserve(nbytes)
            reserved[k].succeed()
            if rec is not None:
                rec.fill(self.env.now, onchip.in_use)

    def _dma(self, work, ci, tiles, reserved, tile_ready, group_started):
        """One channel's DMA: fetch its tiles in order, then send each over the NoC.

        A fetched tile's delivery is booked when the DMA next waits, which is where a
        process started for it would have run (first, before any other event at that
        time): the same order of link bookings and events, without a process per tile.
        The channel, the buffer and the links count their bits once, at the end.
        """
        env = self.env
        channel = self.system.channels[ci]
        group = self.placement.tile_group
        fetch_bytes = work.tile_fetch_bytes
        dram_ps = work.tile_dram_ps
        fetched: list[int] = []  # tiles whose delivery is not booked yet
        noc = [0, 0]  # bit-hops and chip-link bits of the deliveries booked
        for k in tiles.tolist():
            if not reserved[k].processed:
                self._deliver(work, fetched, tile_ready, noc)
                yield reserved[k]
            if self.sparse and not group_started[group[k]].processed:
                self._deliver(work, fetched, tile_ready, noc)
                yield group_started[group[k]]
            now = env.now
            if self.recorder is not None:
                self.recorder.label = ("fetch", int(group[k]), k, -1, -1)
            finish = channel.book(int(dram_ps[k]))
            if finish > now:
                done = simpy.Timeout(env, finish - now)
                self._deliver(work, fetched, tile_ready, noc)
                yield done
            fetched.append(k)
        self._deliver(work, fetched, tile_ready, noc)
        bits = int(fetch_bytes[tiles].sum()) * 8
        channel.count(read_bits=bits)
        self.system.onchip.write(bits)
        self.system.interconnect.charge(*noc)

    def _deliver(self, work: TokenWork, tiles: list[int], tile_ready: dict, noc: list) -> None:
        """Book the NoC delivery of fetched `tiles`, each tile's ready event to succeed
        when its weights reach its compute unit; adds the bits moved to `noc` (bit-hops,
        chip-link bits) and empties `tiles`."""
        env = self.env
        net = self.system.interconnect
        pl = self.planner
        for k in tiles:
            ready = tile_ready[k]
            bits = self._fetch_bytes[k] * 8
            if self.system.ctx.contention:
                links, durations, latency, bit_hops, chip = net.message(
                    self._src_node[k], self._dst_node[k], bits
                )
                noc[0] += bit_hops
                noc[1] += chip
                now = env.now
                if self.recorder is not None:
                    self.recorder.label = ("weights", int(self.placement.tile_group[k]), k, -1, -1)
                end = net.book(links, durations, latency)
                if end == now:
                    ready.succeed()
                    continue
                arrival = simpy.Timeout(env, end - now)
            else:
                chip = bits * int(pl.tile_chip_hops[k])
                noc[0] += bits * int(pl.tile_hops[k]) - chip
                noc[1] += chip
                arrival = simpy.Timeout(env, int(work.tile_noc_ps[k]))
            arrival.callbacks.append(ready.trigger)  # ready succeeds when arrival is processed
        tiles.clear()

    def _phases(self, work: TokenWork, g: int, phases: list):
        """Deliver each timestep's spikes of group g, one phase after another."""
        env = self.env
        net = self.system.interconnect
        a = int(work.phase_offsets[g])
        T = len(phases)
        bits = work.spike_bits[g, :T]  # (T, spike links)
        chip = bits[:, self.spike_chip].sum(axis=1).tolist()
        hops = (bits.sum(axis=1) - np.asarray(chip, dtype=np.int64)).tolist()
        if self.system.ctx.contention:
            # the loaded links of every phase, phase after phase, and their busy times
            t_of, on = np.nonzero(bits)
            links = self.spike_links[on]
            busy = np.ceil(bits[t_of, on] * self.spike_ps_per_bit[on]).astype(np.int64)
            bounds = np.searchsorted(t_of, np.arange(T + 1)).tolist()
            latency = work.phase_latency_ps[a : a + T].tolist()
            barrier = self.planner.barrier_ps
            rec = self.recorder
            for t, done in enumerate(phases):
                net.charge(hops[t], chip[t])
                lo, hi = bounds[t], bounds[t + 1]
                now = env.now
                if rec is not None:
                    rec.label = ("spikes", g, -1, t, t + 1)
                end = net.book(links[lo:hi], busy[lo:hi], latency[t])
                if end > now:
                    yield simpy.Timeout(env, end - now)
                if barrier:
                    yield simpy.Timeout(env, barrier)
                if rec is not None:
                    rec.span("schedule", 2, now, env.now, ("phase", g, -1, t, t + 1))
                done.succeed()
        else:
            phase_ps = work.phase_ps[a : a + T].tolist()
            for t, done in enumerate(phases):
                net.charge(hops[t], chip[t])
                if phase_ps[t]:
                    yield simpy.Timeout(env, phase_ps[t])
                done.succeed()

    def _core(self, work: TokenWork, g: int, c: int, phases: list, tile_ready: dict):
        """Compute unit c's share of group g: its tiles, timestep by timestep (a tile's
        items run back to back while their timesteps' spikes are in)."""
        env = self.env
        core = self.system.cores[c]
        release = self.system.onchip.release
        T = len(phases)
        last_phase = phases[T - 1]
        offsets, fetch_bytes, tile_ps, cum = (
            self._item_offsets, self._fetch_bytes, self._tile_ps, self._item_cum
        )
        rec = self.recorder
        for k in self.core_tiles[g][c]:
            ready = tile_ready.get(k)
            if ready is not None and not ready.processed:
                yield ready
            i0 = offsets[k]
            t = 0  # first timestep of the work booked since the unit last waited
            if last_phase.processed:  # every timestep's spikes are in: no waiting
                if rec is not None:
                    rec.label = ("convert", g, k, 0, T)
                end = core.items_end(work, i0, T, env.now, tile_ps[k])
            else:
                end = env.now  # the work booked so far ends at `end`
                while True:
                    u = t  # items t..u-1 have their spikes
                    while u < T and phases[u].processed:
                        u += 1
                    if rec is not None:
                        rec.label = ("convert", g, k, t, u)
                    end = core.items_end(work, i0 + t, u - t, end, cum[i0 + u] - cum[i0 + t])
                    if u == T:
                        break
                    if rec is not None and end > env.now:
                        rec.span("compute", c, env.now, end, ("compute", g, k, t, u))
                    done = core.hold(end - env.now)
                    if done is not None:
                        yield done
                    yield phases[u]
                    end, t = env.now, u
            if rec is not None and end > env.now:
                rec.span("compute", c, env.now, end, ("compute", g, k, t, T))
            done = core.hold(end - env.now)
            if done is not None:
                yield done
            release(fetch_bytes[k])
            if rec is not None and fetch_bytes[k]:
                rec.fill(env.now, self.system.onchip.in_use)
        core.count(self._unit_events(g, c))
        g_counts = self._epilogue_counts(g, c, work.vectors)
        if rec is not None and work.epilogue_ps[g, c]:
            end = env.now + int(work.epilogue_ps[g, c])
            rec.span("compute", c, env.now, end, ("epilogue", g, -1, -1, -1))
        yield from core.finish_layer(int(work.epilogue_ps[g, c]), *g_counts)

    def _tile_totals(self, work: TokenWork) -> None:
        """Per tile, its items' total time; per (group, unit), the item events the unit
        charges itself, summed over its tiles (counted once, when its group ends)."""
        offsets = work.item_offsets
        p = self.placement

        def per_tile(values: np.ndarray) -> np.ndarray:
            cum = np.concatenate(([0], np.cumsum(values, dtype=np.int64)))
            return cum[offsets[1:]] - cum[offsets[:-1]]

        self._tile_ps = per_tile(work.item_ps).tolist()
        self._item_cum = np.concatenate(([0], np.cumsum(work.item_ps))).tolist()
        self._fetch_bytes = work.tile_fetch_bytes.tolist()
        keys = self.system.cores[0].charged_events(work) if self.system.cores else []
        unit = p.tile_group * self.planner.cores + p.tile_core
        self._event_keys = keys
        self._unit_sums = []
        for key in keys:
            sums = np.zeros(len(p.group_tiles) * self.planner.cores, dtype=np.int64)
            np.add.at(sums, unit, per_tile(work.item_events[key]))
            self._unit_sums.append(sums.tolist())

    def _unit_events(self, g: int, c: int) -> dict[tuple[str, str], int]:
        """The item events unit c charges itself for its tiles of group g."""
        row = g * self.planner.cores + c
        return {key: sums[row] for key, sums in zip(self._event_keys, self._unit_sums, strict=True)}

    def _epilogue_counts(self, g: int, c: int, vectors: int) -> tuple[int, int]:
        """Neuron updates and state updates unit c performs at the end of group g, for
        `vectors` token vectors."""
        pl = self.planner
        if pl.graph.groups[g].state is not None and pl.placement.state_resident and c == 0:
            state_bits = int(pl.group_state_bytes[g]) * 8 * vectors
            self.system.onchip.read(state_bits)
            self.system.onchip.write(state_bits)
        return (
            int(pl.neuron_updates_gc[g, c]) * vectors,
            int(pl.state_updates_gc[g, c]) * vectors,
        )
