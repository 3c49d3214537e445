"""Turn one token's spike counts and a placement into timed work items and event counts.

Both fidelities consume the same `TokenWork`: integer picosecond durations for every
spike-delivery phase, DRAM transfer, weight delivery over the NoC and compute item,
plus the named event counts each component charges. Computing it once, with
vectorised numpy, is what keeps the two fidelities equal when contention is off.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neurosim.architecture import Architecture
from neurosim.components.dram import bytes_moved, transfer_ps_per_channel
from neurosim.components.dram import transfer_ps as dram_transfer_ps
from neurosim.components.interconnect import link_parameters, route_latency_ps
from neurosim.components.routing import CHIP_LINK, Routing
from neurosim.engine import PS_PER_S, seconds_to_ps
from neurosim.errors import TraceError
from neurosim.mapping.interleave import bandwidth_share, interleaved_bytes
from neurosim.mapping.kv import KvPlacement
from neurosim.mapping.placement import Placement, even_split, is_array_kind, linear_bits
from neurosim.simulate.attention_work import KvWork, plan_kv
from neurosim.simulate.kernels import binary_spikes_by_owner, multicast_link_bits
from neurosim.workload.model import ModelGraph
from neurosim.workload.spikes import TokenSpikes


@dataclass(frozen=True)
class AdcRequests:
    """Conversions of every (tile, timestep) item: entries offsets[i]:offsets[i+1] are the
    arrays item i reads, each with its ADC bank, conversion time (ps) and columns, sorted
    by bank within the item. `arrays_per_bank` > 1: arrays take turns on shared banks."""

    offsets: np.ndarray
    bank: np.ndarray
    conversion_ps: np.ndarray
    columns: np.ndarray
    read_ps: int
    arrays_per_bank: int = 1

    def bank_serial_ps(self) -> np.ndarray:
        """Per item: the read plus its busiest bank's conversions one after another (what
        an item takes when arrays sharing a bank queue for it; 0 for items that read
        nothing). A capacity bound for a fidelity without queueing."""
        n_items = self.offsets.size - 1
        per_item = np.diff(self.offsets)
        if self.bank.size == 0:
            return np.zeros(n_items, dtype=np.int64)
        item = np.repeat(np.arange(n_items), per_item)
        # entries are sorted by item, then bank: each run of equal (item, bank) is one queue
        new_run = np.ones(item.size, dtype=bool)
        new_run[1:] = (item[1:] != item[:-1]) | (self.bank[1:] != self.bank[:-1])
        first = np.flatnonzero(new_run)
        load = np.add.reduceat(self.conversion_ps.astype(np.int64), first)
        busiest = np.zeros(n_items, dtype=np.int64)
        np.maximum.at(busiest, item[first], load)
        return np.where(per_item > 0, self.read_ps + busiest, 0)

    def unqueued_ps(self) -> np.ndarray:
        """Per item: the read plus its slowest entry's conversions (0 for items that read
        nothing), what an item takes when nobody queues."""
        n_items = self.offsets.size - 1
        per_item = np.diff(self.offsets)
        item = np.repeat(np.arange(n_items), per_item)
        slowest = np.zeros(n_items, dtype=np.int64)
        np.maximum.at(slowest, item, self.conversion_ps.astype(np.int64))
        return np.where(per_item > 0, self.read_ps + slowest, 0)

    def bank_busy_ps(self, n_banks: int) -> np.ndarray:
        """Per bank: its conversion time over all items (its busy time in the token)."""
        busy = np.bincount(self.bank, weights=self.conversion_ps, minlength=n_banks)
        return busy[:n_banks]


@dataclass
class TokenWork:
    """Everything one token does, as arrays in execution order (times in ps)."""

    group_timesteps: np.ndarray  # (G,)
    phase_offsets: np.ndarray  # (G+1,) into phase_ps
    phase_ps: np.ndarray  # spike delivery time of each (group, timestep)
    spike_bits: np.ndarray  # (G, Tmax, spike links): bits carried, zero past T_g
    spike_links: np.ndarray  # the links spikes can use (the others carry none)
    n_links: int  # links of the system
    phase_latency_ps: np.ndarray  # per (group, timestep): route latency part
    tile_dram_ps: np.ndarray  # (tiles,) 0 for resident tiles
    tile_noc_ps: np.ndarray  # (tiles,) weight delivery over the NoC
    tile_fetch_bytes: np.ndarray  # (tiles,) bytes read from DRAM this token
    item_offsets: np.ndarray  # (tiles+1,) into item_ps; T_g items per tile
    item_ps: np.ndarray  # compute time of (tile, timestep)
    item_synops: np.ndarray  # synaptic ops of (tile, timestep)
    item_events: dict[tuple[str, str], np.ndarray]  # events each item charges
    adc: AdcRequests | None  # conversions each item asks of the ADC banks (crossbars)
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
    chip_link_bytes: int = 0
    # the recurrent state kept off chip: (G, channels) bytes each channel moves each way,
    # and the time that takes (empty rows for groups without, or with their state on chip)
    state_bytes: np.ndarray | None = None
    state_ps: np.ndarray | None = None
    vectors: int = 1  # token vectors the step processes (prompt tokens x sequences, batch)
    kv: KvWork | None = None  # softmax attention after each block's first group

    @property
    def post_group_ps(self) -> np.ndarray:
        """(G,) time after each group's compute: state traffic, then softmax attention."""
        return self.extra_ps if self.kv is None else self.extra_ps + self.kv.group_ps

    def phase_link_bits(self, g: int) -> np.ndarray:
        """(T_g, links): bits each spike phase of group g carries on every link."""
        bits = np.zeros((int(self.group_timesteps[g]), self.n_links), dtype=np.int64)
        bits[:, self.spike_links] = self.spike_bits[g, : bits.shape[0]]
        return bits


@dataclass(frozen=True)
class _TokenPart:
    """What one token vector's spikes decide within a step."""

    counts: np.ndarray
    spike_bits: np.ndarray  # (G, Tmax, spike links)
    latency: np.ndarray  # (G, Tmax) route latency of each spike phase
    item_ps: np.ndarray
    item_synops: np.ndarray
    item_events: dict[tuple[str, str], np.ndarray]
    adc: AdcRequests | None
    spikes: int


def _scaled_sum(arrays: list[np.ndarray], scale: float) -> np.ndarray:
    """The element-wise sum of `arrays` times `scale`, as integers (the array itself for a
    single array at scale 1, so a one-vector step is exactly a token's plan)."""
    total = arrays[0] if len(arrays) == 1 else np.sum(arrays, axis=0)
    if scale == 1:
        return total
    return np.rint(total * scale).astype(np.int64)


def _merged_adc(requests: list[AdcRequests], scale: float, vectors: int) -> AdcRequests:
    """The conversions of several vectors on the same items: the arrays read each vector in
    turn (`vectors` reads), and each bank converts the columns of all of them."""
    n_items = requests[0].offsets.size - 1
    item = np.concatenate([np.repeat(np.arange(n_items), np.diff(r.offsets)) for r in requests])
    bank = np.concatenate([r.bank for r in requests])
    conv = np.concatenate([r.conversion_ps for r in requests]).astype(np.int64)
    cols = np.concatenate([r.columns for r in requests]).astype(np.int64)
    key = item * (int(bank.max(initial=0)) + 1) + bank
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    conv = np.rint(np.bincount(inverse, weights=conv) * scale).astype(np.int64)
    cols = np.rint(np.bincount(inverse, weights=cols) * scale).astype(np.int64)
    item_of = item[first]
    offsets = np.concatenate(([0], np.cumsum(np.bincount(item_of, minlength=n_items))))
    return AdcRequests(
        offsets=offsets,
        bank=bank[first],
        conversion_ps=conv,
        columns=cols,
        read_ps=requests[0].read_ps * vectors,
        arrays_per_bank=requests[0].arrays_per_bank,
    )


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
        self.cores = placement.units
        self.cycle_ps = seconds_to_ps(1.0 / core.clock_hz)
        self.scheme = graph.workload.coding.scheme
        num, den = linear_bits(graph)
        if not is_array_kind(arch):
            # bits per weight of every tile, exactly num / den (packed formats are fractional)
            self.tile_bits_num = num[placement.tile_linear]
            self.tile_bits_den = den[placement.tile_linear]
            self.tile_weight_bits = (self.tile_bits_num / self.tile_bits_den)[:, None]
        net = arch.interconnect
        self.msg_bits = net.spike_message_bits
        # (ps per bit, latency ps) of every link: computed once, also used to build the DES
        self.link_params = link_parameters(arch, routing)
        self.link_ps_per_bit = self.link_params[0]
        self.chip_link = routing.link_class == CHIP_LINK
        per_chip = net.topology.nodes
        nodes = np.array(
            [c * per_chip + n for c in range(placement.chips) for n in arch.core_nodes],
            dtype=np.int64,
        )
        self.core_nodes = nodes
        mem = arch.onchip_memory
        # a chip's memory bandwidth is shared by that chip's units only
        self.core_mem_ps_per_byte = PS_PER_S / (mem.bandwidth_bytes_per_s / core.count)
        self._plan_spike_routes()
        self._plan_arrays()
        self._plan_tiles()
        self._plan_state_and_embedding()
        self._plan_static()
        self._dense_fetch: tuple | None = None  # the weight fetch of every dense token

    def _plan_arrays(self) -> None:
        """Row chunks of every site, for in-memory-compute arrays (one chunk = array rows)."""
        self.array_kind = is_array_kind(self.arch)
        self.adc = None
        self.n_adc_banks = 0
        if not self.array_kind:
            return
        cfg, p = self.arch.compute, self.placement
        R = p.array_row_chunk
        chunks = [-(-g.width // R) for g in self.graph.groups]
        self.chunk_offsets = np.concatenate(([0], np.cumsum(chunks)))
        self.global_chunk = np.concatenate(
            [
                off + np.arange(g.width) // R
                for g, off in zip(self.graph.groups, self.chunk_offsets[:-1], strict=True)
            ]
        )
        self.activation_ps = cfg.activation_ps()
        self.adc = self.arch.adc if cfg.uses_adc else None
        if self.adc is not None:
            self.read_ps = self.activation_ps
            self.array_conv_ps = self.adc.array_conversion_ps(p.array_phys_cols)
            self.array_bank = p.array_slot // self.adc.arrays_per_bank
            self.n_adc_banks = p.units * cfg.arrays_per_tile // self.adc.arrays_per_bank
            self.array_gchunk = self.chunk_offsets[p.tile_group[p.array_tile]] + p.array_chunk

    def _adc_requests(self, fired: np.ndarray):
        """Per (tile, timestep) item: the arrays that read and what their converters do.

        An array whose row chunk fired reads, then its `count` converters take its
        columns (`columns_per_adc` each, one after another). Returns the item times
        without queueing (read + the slowest array's conversions) and, per item, the
        arrays' banks, conversion times and columns (sorted by item, then bank).
        """
        p = self.placement
        active = fired[self.array_gchunk] & self.item_mask[p.array_tile]  # (arrays, Tmax)
        a, t = np.nonzero(active)
        item = self.item_offsets[p.array_tile[a]] + t
        order = np.argsort(item, kind="stable")
        a, item = a[order], item[order]
        n_items = int(self.item_offsets[-1])
        conv = self.array_conv_ps[a]
        slowest = np.zeros(n_items, dtype=np.int64)
        np.maximum.at(slowest, item, conv)
        item_ps = np.where(np.bincount(item, minlength=n_items) > 0, self.read_ps + slowest, 0)
        offsets = np.concatenate(([0], np.cumsum(np.bincount(item, minlength=n_items))))
        return item_ps, AdcRequests(
            offsets=offsets,
            bank=self.array_bank[a],
            conversion_ps=conv,
            columns=p.array_phys_cols[a],
            read_ps=self.read_ps,
            arrays_per_bank=self.adc.arrays_per_bank,
        )

    def _array_items(self, counts: np.ndarray):
        """Durations and events of every (tile, timestep) on in-memory-compute arrays.

        All arrays of a tile that see a spike in their rows read in parallel: the item
        takes one activation (array read, then the column conversions) if any does.
        """
        p = self.placement
        n_chunks = int(self.chunk_offsets[-1])
        S = self._count_by_index(counts, self.global_chunk, n_chunks)  # (chunks, Tmax)
        ops = np.zeros((p.n_tiles, self.t_max), dtype=np.int64)
        cols_on = np.zeros_like(ops)
        rows_on = np.zeros_like(ops)
        active = np.zeros_like(ops)
        for g in range(len(self.graph.groups)):
            t0, t1 = p.group_tiles[g], p.group_tiles[g + 1]
            s = S[self.chunk_offsets[g] : self.chunk_offsets[g + 1]]  # (chunks_g, Tmax)
            fired = (s > 0).astype(np.int64)
            pc, na = p.array_cols[g], p.array_counts[g]
            ops[t0:t1] = pc @ s
            cols_on[t0:t1] = pc @ fired
            rows_on[t0:t1] = na @ s
            active[t0:t1] = (na @ fired) > 0
        mask = self.item_mask
        events = self.arch.compute.array_events(ops[mask], cols_on[mask], rows_on[mask])
        if self.adc is not None:
            item_ps, adc = self._adc_requests(S > 0)
        else:
            item_ps, adc = (active * self.activation_ps)[mask], None
        return item_ps, events, adc, ops[mask]

    def _plan_spike_routes(self) -> None:
        """Who sends each site's spikes to whom, and over which links.

        The units holding a group's weights receive its site's spikes; the site's neurons
        are owned, in even slices, by the units that computed the previous group (the
        first site by unit 0, which looks up the embedding). Each spike crosses a link once
        per destination routed over it (`interconnect.multicast: none`) or once if any
        destination is (`tree`: the packet is copied where the routes branch).
        """
        p, n_groups = self.placement, len(self.graph.groups)
        tree = self.arch.interconnect.multicast == "tree"
        tile_position = np.repeat(np.arange(n_groups), np.diff(p.group_tiles))
        holds = np.zeros((n_groups, self.cores), dtype=bool)
        holds[tile_position, p.tile_core] = True
        holders = [np.flatnonzero(row) for row in holds]
        cache: dict[tuple[bytes, bytes], tuple[int, np.ndarray]] = {}
        splits: dict[tuple[bytes, int], np.ndarray] = {}  # owner of each neuron, shared
        self.group_dests: list[np.ndarray] = []
        self.owner_index: list[np.ndarray] = []
        self.group_latency: list[np.ndarray] = []
        pattern_of_group = []
        indptr_rows: list[np.ndarray] = []  # per pattern: (cores + 1) offsets
        links_parts: list[np.ndarray] = []
        uses_parts: list[np.ndarray] = []
        nnz = 0
        for g, group in enumerate(self.graph.groups):
            owners = holders[g - 1] if g > 0 else np.array([0])
            dests = holders[g] if holders[g].size else np.arange(self.cores)
            split_key = (owners.tobytes(), group.width)
            if split_key not in splits:
                split = even_split(group.width, owners.size)
                splits[split_key] = np.repeat(owners, np.diff(split))
            self.owner_index.append(splits[split_key])
            self.group_dests.append(dests)
            key = (owners.tobytes(), dests.tobytes())
            if key not in cache:
                src, dst = self.core_nodes[owners], self.core_nodes[dests]
                m = self.routing.multicast(src, dst)  # (owners, links)
                lengths = np.zeros(self.cores, dtype=np.int64)
                lengths[owners] = (m != 0).sum(axis=1)
                indptr_rows.append(nnz + np.concatenate(([0], np.cumsum(lengths))))
                for i in np.argsort(owners):
                    used = np.flatnonzero(m[i])
                    links_parts.append(used)
                    # tree multicast: one copy of the packet on each link of the union
                    uses_parts.append(np.minimum(m[i, used], 1) if tree else m[i, used])
                nnz += int(lengths.sum())
                lat = np.zeros(self.cores, dtype=np.int64)
                lat[owners] = route_latency_ps(
                    self.arch, self.routing, src[:, None], dst[None, :]
                ).max(axis=1)
                cache[key] = (len(indptr_rows) - 1, lat)
            pattern, lat = cache[key]
            pattern_of_group.append(pattern)
            self.group_latency.append(lat)
        # each owner's multicast links, as sparse rows (CSR) per pattern of (owners, dests)
        self.group_pattern = np.array(pattern_of_group, dtype=np.int64)
        self.pattern_indptr = np.stack(indptr_rows)
        pattern_links = np.concatenate(links_parts or [[]]).astype(np.int64)
        # spike bits are kept only for the links some multicast uses
        self.spike_links = np.unique(pattern_links)
        self.pattern_links = np.searchsorted(self.spike_links, pattern_links)
        self.spike_link_ps_per_bit = self.link_ps_per_bit[self.spike_links]
        self.spike_chip_link = self.chip_link[self.spike_links]
        self.pattern_uses = np.concatenate(uses_parts or [[]]).astype(np.int64)
        self.latency_by_group = np.stack(self.group_latency)  # (G, units)
        multi = self.placement.chips > 1 and self.arch.chips is not None
        barrier = self.arch.chips.barrier_s if multi else self.arch.interconnect.barrier_s
        self.barrier_ps = seconds_to_ps(barrier)  # closes every timestep, spikes or not
        self.uniform_links = bool(np.all(self.link_ps_per_bit == self.link_ps_per_bit[0]))

    def _dram_ps(self, channel: int, nbytes: np.ndarray) -> np.ndarray:
        return dram_transfer_ps(self.arch.dram_channels[channel], nbytes)

    def _plan_tiles(self) -> None:
        p = self.placement
        streamed = ~p.tile_resident
        attach = np.array([c.attach_node for c in self.arch.dram_channels] or [0], dtype=np.int64)
        src = np.where(streamed, attach[np.maximum(p.tile_channel, 0)], 0)
        dst = self.core_nodes[p.tile_core]
        self.tile_hops = np.zeros(p.n_tiles, dtype=np.int64)
        self.tile_chip_hops = np.zeros(p.n_tiles, dtype=np.int64)
        self.tile_latency = np.zeros(p.n_tiles, dtype=np.int64)
        hops, chip_hops = self.routing.hop_counts(src[streamed], dst[streamed])
        self.tile_hops[streamed], self.tile_chip_hops[streamed] = hops, chip_hops
        self.tile_latency[streamed] = route_latency_ps(
            self.arch, self.routing, src[streamed], dst[streamed]
        )
        # the slowest link on each streamed tile's route, found once per (src, dst) pair
        slowest = np.zeros(p.n_tiles)
        pair = src[streamed] * self.routing.n_nodes + dst[streamed]
        pairs, tile_pair = np.unique(pair, return_inverse=True)
        n = self.routing.n_nodes
        route = self.routing.route_links
        per_pair = np.array(
            [self.link_ps_per_bit[route(*divmod(int(q), n))].max() for q in pairs], dtype=float
        )
        slowest[streamed] = per_pair[tile_pair]
        self.tile_ps_per_bit = slowest
        self.tile_src_node = src
        self.tile_dst_node = dst
        if not is_array_kind(self.arch):
            # one weight row of a tile, in units of 1/den bit (exact for packed formats)
            self.tile_row_units = p.tile_cols * self.tile_bits_num
        bursts = np.array([c.burst_bytes for c in self.arch.dram_channels] or [1], dtype=np.int64)
        burst = bursts[np.maximum(p.tile_channel, 0)]
        # a streamed tile moves whole bursts over the DRAM bus, the buffer and the NoC
        self.dense_fetch_bytes = np.where(streamed, -(-p.tile_bytes // burst) * burst, 0)

    def _plan_state_and_embedding(self) -> None:
        g = self.graph
        # recurrent state of each group's block (0 for groups without one)
        self.group_state_bytes = np.array(
            [0 if grp.state is None else grp.state.bytes for grp in g.groups], dtype=np.int64
        )
        self.state_block_bytes = int(self.group_state_bytes.max(initial=0))
        emb = g.workload.embedding
        self.embedding_row_bytes = g.embedding_row_bytes
        channels = self.arch.dram_channels
        self.embedding_fetch_bytes = (
            bytes_moved(channels[0], self.embedding_row_bytes) if channels else 0
        )
        self._channel_share = bandwidth_share(channels)
        self._state_traffic: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        head_tiles = self.placement.tile_group == len(g.groups) - 1
        head_resident = g.head_on_chip and bool(self.placement.tile_resident[head_tiles].all())
        on_host = "embedding" in self.arch.host.runs  # the host looks the row up
        self.embedding_from_dram = (
            bool(channels) and not on_host and not (emb.tied_to_head and head_resident)
        )

    def fetch_bytes(self, tiles: np.ndarray, active_rows: np.ndarray | None) -> np.ndarray:
        """Bytes read from DRAM for `tiles`: whole tiles, or bursts touched by active rows
        (rows are packed end to end, so a row may share its first and last burst)."""
        p = self.placement
        if active_rows is None:
            return p.tile_bytes[tiles]
        out = np.zeros(tiles.size, dtype=np.int64)
        cache: dict[tuple[int, int, int], int] = {}
        rows = np.flatnonzero(active_rows).astype(np.int64)
        for i, k in enumerate(tiles):
            ch = self.arch.dram_channels[p.tile_channel[k]]
            den = int(self.tile_bits_den[k])
            key = (int(self.tile_row_units[k]), ch.burst_bytes, den)
            if key not in cache:
                row_bits, burst_bits = key[0], key[1] * 8 * den
                starts = rows * row_bits // burst_bits
                ends = ((rows + 1) * row_bits - 1) // burst_bits
                prev_end = np.concatenate(([-1], ends[:-1]))
                new = ends - np.maximum(starts, prev_end + 1) + 1
                cache[key] = int(np.maximum(new, 0).sum()) * key[1]
            out[i] = cache[key]
        return out

    def _plan_static(self) -> None:
        """Token-independent parts: group epilogues, state traffic, neuron updates."""
        p, arch, groups = self.placement, self.arch, self.graph.groups
        n_groups = len(groups)
        self.group_T = np.array([g.timesteps for g in groups], dtype=np.int64)
        self.t_max = int(self.group_T.max())
        self.phase_offsets = np.concatenate(([0], np.cumsum(self.group_T)))
        self.phase_mask = np.arange(self.t_max)[None, :] < self.group_T[:, None]  # (G, Tmax)
        self.item_offsets = np.concatenate(([0], np.cumsum(self.group_T[p.tile_group])))
        self.item_mask = self.phase_mask[p.tile_group]  # (tiles, Tmax)
        self.levels_max = int(max(g.levels for g in groups))
        # global owner index of every neuron of every group: group * cores + core
        self.global_owner = np.concatenate(
            [g * self.cores + own for g, own in enumerate(self.owner_index)]
        )
        self.owner_key = self.global_owner * self.levels_max
        self.neuron_T = np.repeat(self.group_T, [g.width for g in groups])
        self.neuron_levels = np.repeat([g.levels for g in groups], [g.width for g in groups])
        layer_end_ps = arch.compute.layer_end_ps(self.cycle_ps)
        lanes = arch.compute.state_ops_per_cycle()
        epilogue = np.zeros((n_groups, self.cores), dtype=np.int64)
        self.neuron_updates_gc = np.zeros((n_groups, self.cores), dtype=np.int64)
        self.state_updates_gc = np.zeros((n_groups, self.cores), dtype=np.int64)
        self.neuron_updates = 0
        self.state_updates = 0
        self.state_onchip_bytes = 0
        # neuron updates and fill/drain of every (group, unit) at once
        nu = np.bincount(self.global_owner, minlength=n_groups * self.cores)
        nu = nu.reshape(n_groups, self.cores) * self.group_T[:, None]
        self.neuron_updates = int(nu.sum())
        self.neuron_updates_gc[:] = nu
        tile_position = np.repeat(np.arange(n_groups), np.diff(p.group_tiles))
        has_tiles = np.bincount(
            tile_position * self.cores + p.tile_core, minlength=n_groups * self.cores
        ).reshape(n_groups, self.cores) > 0
        epilogue[:] = np.where(has_tiles, layer_end_ps, 0)
        self.fill_drain_ps = epilogue.copy()
        self.state_lanes = lanes
        epilogue += arch.compute.neuron_update_cycles(nu) * self.cycle_ps
        shares: dict[tuple[bytes, int], np.ndarray] = {}  # state ops per unit
        for g, group in enumerate(groups):
            if group.state is not None:
                ops = group.state.ops_per_token
                self.state_updates += ops
                dests = self.group_dests[g]
                share = shares.get((dests.tobytes(), ops))
                if share is None:
                    share = np.zeros(self.cores, dtype=np.int64)
                    share[dests] = ops // dests.size
                    share[dests[: ops % dests.size]] += 1
                    shares[(dests.tobytes(), ops)] = share
                self.state_updates_gc[g] = share
                epilogue[g] += (-(-share // lanes)) * self.cycle_ps
                if p.state_resident:
                    self.state_onchip_bytes += int(self.group_state_bytes[g])
        self.epilogue = epilogue
        self._epilogues: dict[int, np.ndarray] = {1: epilogue}
        self.blocks_with_state = int(sum(1 for g in groups if g.state is not None))

    def _sparse_fetch_bytes(self, token: TokenSpikes, counts_raw: np.ndarray) -> np.ndarray:
        """Per tile: bytes read from DRAM when only the rows of active inputs are fetched."""
        p = self.placement
        tile_fetch = self.dense_fetch_bytes.copy()
        bounds = np.concatenate(([0], np.cumsum([c.size for c in token.counts])))
        for g in range(len(self.graph.groups)):
            t0, t1 = p.group_tiles[g], p.group_tiles[g + 1]
            streamed = np.flatnonzero(~p.tile_resident[t0:t1]) + t0
            if streamed.size:
                active = counts_raw[bounds[g] : bounds[g + 1]] > 0
                tile_fetch[streamed] = self.fetch_bytes(streamed, active)
        return tile_fetch

    def _weight_fetch(self, tile_fetch: np.ndarray) -> tuple:
        """What fetching `tile_fetch` bytes per tile costs: (tile_fetch, DRAM ps per tile,
        NoC ps per tile, chip-link bits, on-chip bit-hops, bytes read per channel). The
        arrays are read-only: a dense fetch shares them between tokens."""
        p, arch = self.placement, self.arch
        tile_dram = np.zeros(p.n_tiles, dtype=np.int64)
        read_bytes: dict[str, int] = {}
        for ci, ch in enumerate(arch.dram_channels):
            sel = p.tile_channel == ci
            tile_dram[sel] = self._dram_ps(ci, tile_fetch[sel])
            read_bytes[ch.name] = int(tile_fetch[sel].sum())
        fetched_bits = tile_fetch * 8
        tile_noc = np.where(
            tile_fetch > 0,
            np.ceil(fetched_bits * self.tile_ps_per_bit).astype(np.int64) + self.tile_latency,
            0,
        )
        weight_chip_bits = int((fetched_bits * self.tile_chip_hops).sum())
        weight_bit_hops = int((fetched_bits * self.tile_hops).sum()) - weight_chip_bits
        for a in (tile_fetch, tile_dram, tile_noc):
            a.flags.writeable = False
        return tile_fetch, tile_dram, tile_noc, weight_chip_bits, weight_bit_hops, read_bytes

    def plan(self, token: TokenSpikes) -> TokenWork:
        """Durations and event counts of one token (vectorised over all groups)."""
        return self.plan_step([token])

    def plan_step(
        self,
        tokens: list[TokenSpikes],
        vectors: int | None = None,
        sequences: int = 1,
        context: int = 0,
        kv: KvPlacement | None = None,
    ) -> TokenWork:
        """One step that processes `vectors` token vectors together (a batch of decoded
        tokens, or a prompt's tokens at prefill) for `sequences` sequences.

        Every weight tile is fetched once for the whole step and used by every vector;
        spikes, compute items, neuron and state updates and embedding rows are per vector;
        recurrent state moves to and from DRAM once per sequence. `tokens` are the vectors'
        spikes (default: one vector each); when fewer are given than `vectors`, their work
        stands for the rest, scaled by vectors / len(tokens). With a KV cache `kv`
        (softmax attention after each block's first group), each sequence has `context`
        tokens cached before the step and adds its vectors / sequences tokens.
        """
        parts = [self._token_part(t) for t in tokens]
        n_vectors = len(parts) if vectors is None else vectors
        scale = n_vectors / len(parts)
        p, arch = self.placement, self.arch
        spike_bits = _scaled_sum([q.spike_bits for q in parts], scale)
        spike_bits_sum = int(spike_bits.sum())
        chip = self.spike_chip_link
        spike_chip_bits = int(spike_bits[:, :, chip].sum()) if chip.any() else 0
        spike_bit_hops = spike_bits_sum - spike_chip_bits
        serial = self._serial_ps(spike_bits)
        lat = parts[0].latency if len(parts) == 1 else np.maximum.reduce([q.latency for q in parts])
        phase_ps = (serial + lat + self.barrier_ps)[self.phase_mask]
        phase_latency = lat[self.phase_mask]
        item_synops = _scaled_sum([q.item_synops for q in parts], scale)
        item_events = {
            key: _scaled_sum([q.item_events[key] for q in parts], scale)
            for key in parts[0].item_events
        }
        if parts[0].adc is not None and (len(parts) > 1 or scale != 1):
            adc_requests = _merged_adc([q.adc for q in parts], scale, n_vectors)
            item_ps = adc_requests.unqueued_ps()
        else:
            adc_requests = parts[0].adc
            item_ps = _scaled_sum([q.item_ps for q in parts], scale)
        # weight fetch: once per step; the same every step unless rows of silent inputs
        # are skipped (then the rows any vector needs)
        if arch.mapping.sparse_weight_fetch:
            active = parts[0].counts if len(parts) == 1 else np.maximum.reduce(
                [q.counts for q in parts]
            )
            fetch = self._weight_fetch(self._sparse_fetch_bytes(tokens[0], active))
        else:
            if self._dense_fetch is None:
                self._dense_fetch = self._weight_fetch(self.dense_fetch_bytes.copy())
            fetch = self._dense_fetch
        tile_fetch, tile_dram, tile_noc, weight_chip_bits, weight_bit_hops = fetch[:5]
        read_bytes, write_bytes = dict(fetch[5]), dict.fromkeys(fetch[5], 0)
        ch0 = arch.dram_channels[0].name if arch.dram_channels else ""
        state_moved, state_ps = self.state_traffic(sequences)
        for ci, ch in enumerate(arch.dram_channels):
            read_bytes[ch.name] += int(state_moved[:, ci].sum())
            write_bytes[ch.name] += int(state_moved[:, ci].sum())
        prologue = 0
        if self.embedding_from_dram:
            rows = n_vectors * self.embedding_fetch_bytes
            read_bytes[ch0] += rows
            nbytes = self.embedding_row_bytes if n_vectors == 1 else rows
            prologue = int(self._dram_ps(0, np.array([nbytes]))[0])

        synops = int(item_synops.sum())
        item_totals = {key: int(v.sum()) for key, v in item_events.items()}
        onchip_read_bits = item_totals.get(("onchip_memory", "read_bit"), 0)
        onchip_read_bits += self.state_onchip_bytes * 8 * n_vectors
        onchip_write = int(tile_fetch.sum()) + self.state_onchip_bytes * n_vectors
        counts = item_totals | {
            ("compute", "neuron_update"): self.neuron_updates * n_vectors,
            ("compute", "state_update"): self.state_updates * n_vectors,
            ("onchip_memory", "read_bit"): onchip_read_bits,
            ("onchip_memory", "write_bit"): onchip_write * 8,
            ("interconnect", "bit_hop"): spike_bit_hops + weight_bit_hops,
            ("chip_link", "bit"): spike_chip_bits + weight_chip_bits,
        }
        kv_work = None
        if kv is not None:
            queries = n_vectors // sequences
            kv_work = plan_kv(arch, self.graph, kv, p.chips, context, queries, sequences)
            for ci, ch in enumerate(arch.dram_channels):
                read_bytes[ch.name] += int(kv_work.read_bits[:, ci].sum()) // 8
                write_bytes[ch.name] += int(kv_work.write_bits[:, ci].sum()) // 8
            kv_read = int(kv_work.onchip_read_bits.sum())
            kv_write = int(kv_work.onchip_write_bits.sum())
            onchip_read_bits += kv_read
            onchip_write += kv_write // 8
            counts[("onchip_memory", "read_bit")] += kv_read
            counts[("onchip_memory", "write_bit")] += kv_write
            counts |= {("attention", name): int(n.sum()) for name, n in kv_work.events.items()}
        for ch in arch.dram_channels:
            counts[(f"dram.{ch.name}", "read_bit")] = read_bytes[ch.name] * 8
            counts[(f"dram.{ch.name}", "write_bit")] = write_bytes[ch.name] * 8
        return TokenWork(
            group_timesteps=self.group_T,
            phase_offsets=self.phase_offsets,
            phase_ps=phase_ps,
            spike_bits=spike_bits,
            spike_links=self.spike_links,
            n_links=self.routing.n_links,
            phase_latency_ps=phase_latency,
            tile_dram_ps=tile_dram,
            tile_noc_ps=tile_noc,
            tile_fetch_bytes=tile_fetch,
            item_offsets=self.item_offsets,
            item_ps=item_ps,
            item_synops=item_synops,
            item_events=item_events,
            adc=adc_requests,
            epilogue_ps=self.epilogue_for(n_vectors),
            extra_ps=2 * state_ps.max(axis=1, initial=0),  # read, then written back
            prologue_ps=prologue,
            counts=counts,
            spikes=int(round(sum(q.spikes for q in parts) * scale)),
            synops=synops,
            dram_read_bytes=read_bytes,
            dram_write_bytes=write_bytes,
            onchip_read_bytes=onchip_read_bits // 8,
            onchip_write_bytes=onchip_write,
            noc_bytes=(spike_bit_hops + weight_bit_hops) // 8,
            chip_link_bytes=(spike_chip_bits + weight_chip_bits) // 8,
            state_bytes=state_moved,
            state_ps=state_ps,
            vectors=n_vectors,
            kv=kv_work,
        )

    def state_traffic(self, sequences: int) -> tuple[np.ndarray, np.ndarray]:
        """(G, channels) bytes moved each way by the recurrent states of `sequences`
        sequences when they are kept off chip, and the time each channel takes for them
        (one transfer each way). The states are interleaved over the channels by
        bandwidth, as the KV cache is, so the channels move their shares at once."""
        cached = self._state_traffic.get(sequences)
        if cached is None:
            channels = self.arch.dram_channels
            moved = np.zeros((self.group_state_bytes.size, len(channels)), dtype=np.int64)
            ps = np.zeros_like(moved)
            if not self.placement.state_resident:
                for g, nbytes in enumerate(self.group_state_bytes.tolist()):
                    if nbytes:
                        moved[g] = interleaved_bytes(
                            channels, self._channel_share, nbytes * sequences
                        )
                        ps[g] = transfer_ps_per_channel(channels, moved[g])
            cached = self._state_traffic[sequences] = (moved, ps)
        return cached

    def epilogue_for(self, vectors: int) -> np.ndarray:
        """(G, units) fill/drain, neuron updates and state ops of a step of `vectors`
        token vectors: the pipeline fills once, every vector's neurons and state update."""
        cached = self._epilogues.get(vectors)
        if cached is None:
            nu = self.arch.compute.neuron_update_cycles(self.neuron_updates_gc * vectors)
            state = -(-(self.state_updates_gc * vectors) // self.state_lanes)
            cached = self.fill_drain_ps + (nu + state) * self.cycle_ps
            self._epilogues[vectors] = cached
        return cached

    def _serial_ps(self, spike_bits: np.ndarray) -> np.ndarray:
        """(G, Tmax) serialisation time of every spike phase on its busiest link."""
        n_groups = spike_bits.shape[0]
        if self.uniform_links and self.spike_links.size:
            return np.ceil(spike_bits.max(axis=2) * self.link_ps_per_bit[0]).astype(np.int64)
        if self.spike_links.size:
            return np.ceil((spike_bits * self.spike_link_ps_per_bit).max(axis=2)).astype(np.int64)
        return np.zeros((n_groups, self.t_max), dtype=np.int64)

    def _token_part(self, token: TokenSpikes) -> _TokenPart:
        """What one token vector's spikes decide: spike bits per link, phase latencies and
        its compute items."""
        p = self.placement
        arch = self.arch
        n_groups = len(self.graph.groups)
        # a trace records the head's counts too; with the head on the host they stay unused
        sites = token.counts
        if self.graph.host_head is not None and len(sites) == n_groups + 1:
            sites = sites[:n_groups]
        counts_raw = np.concatenate(sites)
        if counts_raw.size != self.neuron_levels.size:
            raise TraceError(self._count_problem(token))
        if self.scheme == "binary":
            S, ok = binary_spikes_by_owner(
                counts_raw,
                self.global_owner,
                self.neuron_levels,
                n_groups,
                self.cores,
                self.t_max,
                self.levels_max,
            )  # (G, Tmax, cores), zero beyond T_g
            if not ok:
                raise TraceError(self._count_problem(token))
        if self.scheme != "binary" or self.array_kind:
            counts_all = counts_raw.astype(np.int64)
        if self.scheme != "binary":
            if np.any(counts_all >= self.neuron_levels):
                raise TraceError(self._count_problem(token))
            S = self._spikes_by_owner_all(counts_all)
        s_t = S.sum(axis=2)  # (G, Tmax)
        # spike delivery phases: bits on every link at every (group, timestep)
        spike_bits = multicast_link_bits(
            S,
            self.group_pattern,
            self.pattern_indptr,
            self.pattern_links,
            self.pattern_uses,
            self.spike_links.size,
            self.msg_bits,
        )  # (G, Tmax, spike links)
        if self.spike_links.size:
            max_bits = spike_bits.max(axis=2)
        else:
            max_bits = np.zeros((n_groups, self.t_max), dtype=np.int64)
        lat = np.where(S > 0, self.latency_by_group[:, None, :], 0).max(axis=2)
        lat = np.where(max_bits > 0, lat, 0)
        # compute items: tile k at timestep t accumulates its rows' spikes into its outputs
        if self.array_kind:
            item_ps, item_events, adc_requests, item_synops = self._array_items(counts_all)
        else:
            spikes = s_t[p.tile_group]  # (tiles, Tmax) input spikes each tile receives
            syn = p.tile_nnz_per_row[:, None] * spikes
            cols = p.tile_cols[:, None]
            mask = self.item_mask
            bits = self.tile_weight_bits
            item_ps = arch.compute.item_ps(syn, spikes, cols, bits, self.core_mem_ps_per_byte)[
                mask
            ]
            item_synops = syn[mask]
            item_events = {
                key: v[mask]
                for key, v in arch.compute.item_events(syn, spikes, cols, bits).items()
            }
            adc_requests = None
        return _TokenPart(
            counts=counts_raw,
            spike_bits=spike_bits,
            latency=lat,
            item_ps=item_ps,
            item_synops=item_synops,
            item_events=item_events,
            adc=adc_requests,
            spikes=int(s_t.sum()),
        )

    def _count_problem(self, token: TokenSpikes) -> str:
        """Describe the first group whose counts do not fit the model (for TraceError)."""
        groups = self.graph.groups
        if len(token.counts) != len(groups):
            return (
                f"token {token.position}: {len(token.counts)} sites of counts, "
                f"the model has {len(groups)}"
            )
        for group, c in zip(groups, token.counts, strict=True):
            if c.size != group.width:
                return (
                    f"token {token.position}, site {group.name}: {c.size} counts, "
                    f"the model's width is {group.width}"
                )
            if c.size and int(c.max()) >= group.levels:
                return (
                    f"token {token.position}, site {group.name}: count {int(c.max())} "
                    f"outside 0..{group.levels - 1} (L = {group.levels})"
                )
        return f"token {token.position}: counts do not match the model"

    def _count_by_index(self, counts: np.ndarray, index: np.ndarray, n: int) -> np.ndarray:
        """Spikes fired at each timestep by the neurons with each `index` value: (n, Tmax).

        A neuron of a site with T timesteps never fires at t >= T, so rows mixing sites
        of different T stay exact.
        """
        t_max, L = self.t_max, self.levels_max
        S = np.zeros((n, t_max), dtype=np.int64)
        if self.scheme == "binary":
            key = self.owner_key if index is self.global_owner else index * L
            hist = np.bincount(key + counts, minlength=n * L)
            above = np.cumsum(hist.reshape(n, L)[:, ::-1], axis=1)[:, ::-1]
            width = min(t_max, L - 1)
            S[:, :width] = above[:, 1 : width + 1]  # fires at t <=> count > t
        else:
            for t in range(t_max):
                shift = self.neuron_T - 1 - t
                bit = np.where(shift >= 0, (counts >> np.maximum(shift, 0)) & 1, 0)
                S[:, t] = np.bincount(index, weights=bit, minlength=n)
        return S

    def _spikes_by_owner_all(self, counts: np.ndarray) -> np.ndarray:
        """Spikes fired at each timestep by the neurons each core owns, for every group.

        Returns (groups, Tmax, cores); entries at t >= T_g are zero.
        """
        n_groups = len(self.graph.groups)
        S = self._count_by_index(counts, self.global_owner, n_groups * self.cores)
        S = S.reshape(n_groups, self.cores, self.t_max).transpose(0, 2, 1)
        return np.ascontiguousarray(S)
