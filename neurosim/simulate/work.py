"""Turn one token's spike counts and a placement into timed work items and event counts.

Both fidelities consume the same `TokenWork`: integer picosecond durations for every
spike-delivery phase, DRAM transfer, weight delivery over the NoC and compute item,
plus the named event counts each component charges. Computing it once, with
vectorised numpy, is what keeps the two fidelities equal when contention is off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from neurosim.config.architecture import Architecture
from neurosim.mapping import Placement
from neurosim.topology import Routing
from neurosim.workload.model import ModelGraph
from neurosim.workload.spikes import TokenSpikes

PS_PER_S = 1_000_000_000_000


def seconds_to_ps(seconds: float) -> int:
    """Convert seconds to integer picoseconds (rounded to nearest)."""
    return int(round(seconds * PS_PER_S))


def _ceil_div(a: np.ndarray, b: float) -> np.ndarray:
    return np.ceil(np.asarray(a, dtype=np.float64) / b).astype(np.int64)


@dataclass
class TokenWork:
    """Everything one token does, as arrays in execution order (times in ps)."""

    group_timesteps: np.ndarray  # (G,)
    phase_offsets: np.ndarray  # (G+1,) into phase_ps
    phase_ps: np.ndarray  # spike delivery time of each (group, timestep)
    phase_link_bits: list[np.ndarray]  # per group: (T, links) bits carried
    phase_latency_ps: np.ndarray  # per (group, timestep): route latency part
    tile_dram_ps: np.ndarray  # (tiles,) 0 for resident tiles
    tile_noc_ps: np.ndarray  # (tiles,) weight delivery over the NoC
    tile_fetch_bytes: np.ndarray  # (tiles,) bytes read from DRAM this token
    item_offsets: np.ndarray  # (tiles+1,) into item_ps; T_g items per tile
    item_ps: np.ndarray  # compute time of (tile, timestep)
    item_synops: np.ndarray  # synaptic ops of (tile, timestep)
    epilogue_ps: np.ndarray  # (G, cores) drain + neuron updates + state ops
    extra_ps: np.ndarray  # (G,) state traffic to DRAM after the group
    prologue_ps: int  # embedding row fetch before the first group
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    spikes: int = 0
    synops: int = 0
    dram_read_bytes: dict[str, int] = field(default_factory=dict)
    dram_write_bytes: dict[str, int] = field(default_factory=dict)
    onchip_read_bytes: int = 0
    onchip_write_bytes: int = 0
    noc_bytes: int = 0


class WorkPlanner:
    """Precomputes everything that does not depend on the token, then plans tokens."""

    def __init__(
        self, arch: Architecture, graph: ModelGraph, placement: Placement, routing: Routing
    ) -> None:
        self.arch = arch
        self.graph = graph
        self.placement = placement
        self.routing = routing
        core = arch.compute
        self.cores = core.count
        self.cycle_ps = seconds_to_ps(1.0 / core.clock_hz)
        self.scheme = graph.workload.coding.scheme
        self.bits = graph.weight_bits
        net = arch.interconnect
        self.link_ps_per_bit = PS_PER_S / (net.link_bandwidth_bytes_per_s * 8)
        self.hop_ps = seconds_to_ps(net.hop_latency_s)
        self.msg_bits = net.spike_message_bits
        nodes = np.array(arch.core_nodes, dtype=np.int64)
        self.core_nodes = nodes
        inc = routing.incidence[np.ix_(nodes, nodes)]  # (cores, cores, links)
        self.multicast = inc.sum(axis=1)  # (cores, links)
        self.multicast_hops = routing.hops[np.ix_(nodes, nodes)].max(axis=1)
        mem = arch.onchip_memory
        self.core_mem_ps_per_byte = PS_PER_S / (mem.bandwidth_bytes_per_s / self.cores)
        self.owner_index = [
            np.repeat(np.arange(self.cores), np.diff(b)) for b in placement.site_owner_bounds
        ]
        self._plan_tiles()
        self._plan_state_and_embedding()

    def _dram_ps(self, channel: int, nbytes: np.ndarray) -> np.ndarray:
        ch = self.arch.dram.channels[channel]
        bursts = -(-np.asarray(nbytes, dtype=np.int64) // ch.burst_bytes)
        ps_per_byte = PS_PER_S / ch.sustained_bandwidth_bytes_per_s
        moved = bursts * ch.burst_bytes
        out = seconds_to_ps(ch.latency_s) + np.ceil(moved * ps_per_byte).astype(np.int64)
        return np.where(moved > 0, out, 0)

    def _plan_tiles(self) -> None:
        p = self.placement
        streamed = ~p.tile_resident
        attach = np.array([c.attach_node for c in self.arch.dram.channels], dtype=np.int64)
        src = np.where(streamed, attach[np.maximum(p.tile_channel, 0)], 0)
        dst = self.core_nodes[p.tile_core]
        self.tile_hops = np.where(streamed, self.routing.hops[src, dst], 0)
        self.tile_src_node = src
        self.tile_dst_node = dst
        self.tile_row_bits = p.tile_cols * self.bits

    def _plan_state_and_embedding(self) -> None:
        g = self.graph
        att = g.workload.blocks.linear_attention
        self.state_block_bytes = (
            0 if att is None else g.state_elements_per_block * att.state_bits // 8
        )
        emb = g.workload.embedding
        self.embedding_row_bytes = math.ceil(emb.dim * self.bits / 8)
        head_tiles = self.placement.tile_group == len(g.groups) - 1
        head_resident = bool(self.placement.tile_resident[head_tiles].all())
        self.embedding_from_dram = not (emb.tied_to_head and head_resident)

    def fetch_bytes(self, tiles: np.ndarray, active_rows: np.ndarray | None) -> np.ndarray:
        """Bytes read from DRAM for `tiles`: whole tiles, or bursts touched by active rows."""
        p = self.placement
        if active_rows is None:
            return p.tile_bytes[tiles]
        out = np.zeros(tiles.size, dtype=np.int64)
        cache: dict[tuple[int, int], int] = {}
        rows = np.flatnonzero(active_rows).astype(np.int64)
        for i, k in enumerate(tiles):
            ch = self.arch.dram.channels[p.tile_channel[k]]
            key = (int(self.tile_row_bits[k]), ch.burst_bytes)
            if key not in cache:
                row_bits, burst_bits = key[0], key[1] * 8
                starts = rows * row_bits // burst_bits
                ends = ((rows + 1) * row_bits - 1) // burst_bits
                prev_end = np.concatenate(([-1], ends[:-1]))
                new = ends - np.maximum(starts, prev_end + 1) + 1
                cache[key] = int(np.maximum(new, 0).sum()) * key[1]
            out[i] = cache[key]
        return out

    def plan(self, token: TokenSpikes) -> TokenWork:
        """Durations and event counts of one token."""
        p = self.placement
        arch = self.arch
        groups = self.graph.groups
        n_groups = len(groups)
        sparse = arch.mapping.sparse_weight_fetch
        lanes = arch.compute.lanes

        group_T = np.array([g.timesteps for g in groups], dtype=np.int64)
        phase_offsets = np.concatenate(([0], np.cumsum(group_T)))
        phase_ps = np.zeros(phase_offsets[-1], dtype=np.int64)
        phase_latency = np.zeros_like(phase_ps)
        phase_link_bits: list[np.ndarray] = []
        n_tiles = p.n_tiles
        tile_fetch = np.where(p.tile_resident, 0, p.tile_bytes).astype(np.int64)
        item_counts = group_T[p.tile_group]
        item_offsets = np.concatenate(([0], np.cumsum(item_counts)))
        item_ps = np.zeros(item_offsets[-1], dtype=np.int64)
        item_synops = np.zeros(item_offsets[-1], dtype=np.int64)
        epilogue = np.zeros((n_groups, self.cores), dtype=np.int64)
        extra = np.zeros(n_groups, dtype=np.int64)
        spikes_total = 0
        neuron_updates = 0
        state_updates = 0
        spike_bit_hops = 0
        depth_ps = arch.compute.pipeline_depth_cycles * self.cycle_ps
        nupc = arch.compute.neuron_updates_per_cycle
        state_read_bytes = 0
        state_write_bytes = 0

        for g, group in enumerate(groups):
            counts = token.counts[g]
            T = group.timesteps
            owner = self.owner_index[g]
            S = self._spikes_by_owner(counts, owner, T, group.levels)  # (T, cores)
            s_t = S.sum(axis=1)
            spikes_total += int(s_t.sum())
            # spike delivery phases
            link_bits = (S @ self.multicast) * self.msg_bits  # (T, links)
            phase_link_bits.append(link_bits)
            spike_bit_hops += int(link_bits.sum())
            serial = np.ceil(link_bits.max(axis=1) * self.link_ps_per_bit).astype(np.int64)
            senders = S > 0
            lat = np.where(senders, self.multicast_hops[None, :], 0).max(axis=1) * self.hop_ps
            lat = np.where(link_bits.max(axis=1) > 0, lat, 0)
            a, b = phase_offsets[g], phase_offsets[g + 1]
            phase_ps[a:b] = serial + lat
            phase_latency[a:b] = lat
            # compute items
            t0, t1 = p.group_tiles[g], p.group_tiles[g + 1]
            syn = p.tile_nnz_per_row[t0:t1, None] * s_t[None, :]  # (tiles, T)
            cycles_ps = _ceil_div(syn, lanes) * self.cycle_ps
            mem_ps = np.ceil(syn * (self.bits / 8) * self.core_mem_ps_per_byte).astype(np.int64)
            dur = np.maximum(cycles_ps, mem_ps)
            i0, i1 = item_offsets[t0], item_offsets[t1]
            item_ps[i0:i1] = dur.ravel()
            item_synops[i0:i1] = syn.ravel()
            # epilogue: pipeline drain, neuron updates of this site, recurrent state work
            owned = np.bincount(owner, minlength=self.cores)
            nu = owned * T
            neuron_updates += int(nu.sum())
            has_tiles = np.bincount(p.tile_core[t0:t1], minlength=self.cores) > 0
            ep = np.where(has_tiles, depth_ps, 0) + _ceil_div(nu, nupc) * self.cycle_ps
            if group.attention is not None:
                ops = 2 * self.graph.state_elements_per_block
                state_updates += ops
                per_core_ops = -(-ops // self.cores)
                ep = ep + (-(-per_core_ops // lanes)) * self.cycle_ps
                if p.state_resident:
                    state_read_bytes += self.state_block_bytes
                    state_write_bytes += self.state_block_bytes
                else:
                    extra[g] = 2 * int(self._dram_ps(0, np.array([self.state_block_bytes]))[0])
            epilogue[g] = ep
            if sparse:
                streamed = np.flatnonzero(~p.tile_resident[t0:t1]) + t0
                if streamed.size:
                    tile_fetch[streamed] = self.fetch_bytes(streamed, counts > 0)

        # DRAM and NoC time of streamed tiles
        tile_dram = np.zeros(n_tiles, dtype=np.int64)
        read_bytes: dict[str, int] = {}
        write_bytes: dict[str, int] = {}
        for ci, ch in enumerate(arch.dram.channels):
            sel = p.tile_channel == ci
            tile_dram[sel] = self._dram_ps(ci, tile_fetch[sel])
            read_bytes[ch.name] = int(tile_fetch[sel].sum())
            write_bytes[ch.name] = 0
        fetched_bits = tile_fetch * 8
        tile_noc = np.where(
            tile_fetch > 0,
            np.ceil(fetched_bits * self.link_ps_per_bit).astype(np.int64)
            + self.tile_hops * self.hop_ps,
            0,
        )
        weight_bit_hops = int((fetched_bits * self.tile_hops).sum())
        ch0 = arch.dram.channels[0].name
        if not p.state_resident:
            blocks_with_state = int(sum(1 for g in groups if g.attention is not None))
            read_bytes[ch0] += blocks_with_state * self.state_block_bytes
            write_bytes[ch0] += blocks_with_state * self.state_block_bytes
        prologue = 0
        if self.embedding_from_dram:
            read_bytes[ch0] += self.embedding_row_bytes
            prologue = int(self._dram_ps(0, np.array([self.embedding_row_bytes]))[0])

        synops = int(item_synops.sum())
        onchip_read_bits = synops * self.bits + state_read_bytes * 8
        onchip_write = int(tile_fetch.sum()) + state_write_bytes
        counts = {
            ("compute", "synop"): synops,
            ("compute", "neuron_update"): neuron_updates,
            ("compute", "state_update"): state_updates,
            ("onchip_memory", "read_bit"): onchip_read_bits,
            ("onchip_memory", "write_bit"): onchip_write * 8,
            ("interconnect", "bit_hop"): spike_bit_hops + weight_bit_hops,
        }
        for ch in arch.dram.channels:
            counts[(f"dram.{ch.name}", "read_bit")] = read_bytes[ch.name] * 8
            counts[(f"dram.{ch.name}", "write_bit")] = write_bytes[ch.name] * 8
        return TokenWork(
            group_timesteps=group_T,
            phase_offsets=phase_offsets,
            phase_ps=phase_ps,
            phase_link_bits=phase_link_bits,
            phase_latency_ps=phase_latency,
            tile_dram_ps=tile_dram,
            tile_noc_ps=tile_noc,
            tile_fetch_bytes=tile_fetch,
            item_offsets=item_offsets,
            item_ps=item_ps,
            item_synops=item_synops,
            epilogue_ps=epilogue,
            extra_ps=extra,
            prologue_ps=prologue,
            counts=counts,
            spikes=spikes_total,
            synops=synops,
            dram_read_bytes=read_bytes,
            dram_write_bytes=write_bytes,
            onchip_read_bytes=onchip_read_bits // 8,
            onchip_write_bytes=onchip_write,
            noc_bytes=(spike_bit_hops + weight_bit_hops) // 8,
        )

    def _spikes_by_owner(
        self, counts: np.ndarray, owner: np.ndarray, T: int, levels: int
    ) -> np.ndarray:
        """Spikes fired at each timestep by the neurons each core owns: (T, cores)."""
        c = counts.astype(np.int64)
        if self.scheme == "binary":
            hist = np.bincount(owner * levels + c, minlength=self.cores * levels)
            hist = hist.reshape(self.cores, levels)
            above = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1]  # count >= v
            return above[:, 1 : T + 1].T.copy()
        out = np.empty((T, self.cores), dtype=np.int64)
        for t in range(T):
            bit = (c >> (T - 1 - t)) & 1
            out[t] = np.bincount(owner, weights=bit, minlength=self.cores).astype(np.int64)
        return out
