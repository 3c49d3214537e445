"""Place a model on a system: weight tiles on compute units, on chip or streamed from DRAM.

Every linear layer's output columns are split evenly over the compute units, and each
unit's share is cut into tiles of at most `mapping.tile_bytes`. Tiles that fit stay
resident on chip (pinned in priority order); the rest stream from DRAM each token,
assigned to the channel that would finish them earliest. Site neurons are owned by
compute units in even contiguous slices; a site's spikes are multicast from their
owners to the units holding the next group.

On a multi-chip system `mapping.chip_partition` says what each chip holds: `columns`
splits every linear over all chips' units (every chip holds a slice of every layer);
`layers` gives whole groups, in execution order, to consecutive chips balanced by bytes,
so spikes cross chips only where one chip's last group feeds the next chip's first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np
from numba import njit

from neurosim.architecture import Architecture
from neurosim.errors import ConfigError, SimulationError
from neurosim.workload.model import ModelGraph

MAX_SIMULATED_UNITS = 4096  # beyond this, routes and tiles no longer fit a sweep's budget
MAX_ROUTED_NODES = 2048  # routes are n x n arrays over all chips' nodes (~100 MB at 2048)
MAX_TILES = 500_000  # the presets need at most ~120k; memory and time grow per tile


def even_split(total: int, parts: int) -> np.ndarray:
    """Boundaries (length parts+1) of `total` items split into `parts` contiguous slices."""
    return (np.arange(parts + 1, dtype=np.int64) * total) // parts


@dataclass(frozen=True)
class Placement:
    """Where every weight tile lives and which unit computes it (arrays in execution order).

    Units are numbered chip-major: unit u sits on chip u // compute.count.
    """

    chips: int
    units: int
    tile_group: np.ndarray
    tile_linear: np.ndarray
    tile_core: np.ndarray
    tile_cols: np.ndarray
    tile_rows: np.ndarray
    tile_bytes: np.ndarray
    tile_nnz_per_row: np.ndarray
    tile_resident: np.ndarray
    tile_channel: np.ndarray
    group_tiles: np.ndarray
    site_owner_bounds: tuple[np.ndarray, ...]
    linear_names: tuple[str, ...]
    state_resident: bool
    resident_weight_bytes: int
    streamed_weight_bytes: int
    onchip_capacity_bytes: int
    stream_buffer_bytes: int
    array_cols: tuple[np.ndarray, ...] = ()
    array_counts: tuple[np.ndarray, ...] = ()
    array_row_chunk: int = 0
    arrays: int = 0
    array_tile: np.ndarray | None = None  # (arrays,) planner tile of each array
    array_chunk: np.ndarray | None = None  # (arrays,) row chunk within its group
    array_phys_cols: np.ndarray | None = None  # (arrays,) physical columns in use
    array_slot: np.ndarray | None = None  # (arrays,) global slot: unit * arrays_per_tile + i
    chip_partition: str = "columns"
    group_chips: np.ndarray | None = None  # (groups, 2) first chip and chip count (layers)
    chips_added_for_layers: int = 0  # chips beyond `chips_needed` that layer granularity needs

    @property
    def n_tiles(self) -> int:
        """Number of weight tiles."""
        return int(self.tile_group.size)

    def summary(self, arch: Architecture) -> dict:
        """A readable report of the placement."""
        per_channel = {
            ch.name: int(self.tile_bytes[self.tile_channel == i].sum())
            for i, ch in enumerate(arch.dram_channels)
        }
        per_core = np.bincount(
            self.tile_core, weights=self.tile_bytes, minlength=arch.compute.count
        )
        extra = {"arrays": self.arrays, "array_rows": self.array_row_chunk} if self.arrays else {}
        if self.chip_partition != "columns":
            extra |= {
                "chip_partition": self.chip_partition,
                "groups_per_chip": groups_per_chip(self.group_chips, self.chips),
                "chips_added_for_layers": self.chips_added_for_layers,
            }
        return extra | {
            "chips": self.chips,
            "compute_units": self.units,
            "tiles": self.n_tiles,
            "resident_tiles": int(self.tile_resident.sum()),
            "resident_weight_bytes": self.resident_weight_bytes,
            "streamed_weight_bytes": self.streamed_weight_bytes,
            "streamed_bytes_per_channel": per_channel,
            "weight_bytes_per_core": [int(x) for x in per_core],
            "recurrent_state_on_chip": self.state_resident,
            "onchip_capacity_bytes": self.onchip_capacity_bytes,
            "stream_buffer_bytes": self.stream_buffer_bytes,
        }


def groups_per_chip(group_chips: np.ndarray, chips: int) -> list[str]:
    """Per chip, the groups (positions in execution order) it holds as compact ranges
    ("0-5", "6", "7-9,12"), or "" for a chip that holds none."""
    held: list[list[int]] = [[] for _ in range(chips)]
    for g, (first, span) in enumerate(group_chips):
        for c in range(int(first), int(first + span)):
            held[c].append(g)
    out = []
    for groups in held:
        runs: list[str] = []
        for g in groups:
            if runs and int(runs[-1].split("-")[-1]) == g - 1:
                runs[-1] = f"{runs[-1].split('-')[0]}-{g}"
            else:
                runs.append(str(g))
        out.append(",".join(runs))
    return out


def _fill(sizes: np.ndarray, limit: int) -> np.ndarray:
    """Groups of `sizes` filled in order onto chips of `limit` each: a group that does
    not fit what is left starts the next chip; one larger than `limit` takes
    ceil(size / limit) chips of its own. Returns (groups, 2) first chip and chip count."""
    spans = np.zeros((sizes.size, 2), dtype=np.int64)
    chip, load = 0, 0
    for g, size in enumerate(int(b) for b in sizes):
        if size > limit:
            chip += 1 if load else 0
            span = -(-size // limit)
            spans[g] = chip, span
            chip, load = chip + span, 0
            continue
        if load + size > limit:
            chip, load = chip + 1, 0
        spans[g] = chip, 1
        load += size
    return spans


def _chips_used(spans: np.ndarray) -> int:
    return int((spans[:, 0] + spans[:, 1]).max(initial=1))


def partition_layers(
    sizes: np.ndarray, chips: int, capacity: int | None
) -> tuple[np.ndarray, int]:
    """Contiguous groups per chip with the smallest largest chip load (bytes or arrays)
    that fits `capacity` per chip (None: no limit) on `chips` chips, or on the fewest
    more chips if whole groups need them. Returns (groups, 2) first chip and chip count,
    and the chips used."""
    sizes = np.asarray(sizes, dtype=np.int64)
    total = max(1, int(sizes.sum()))
    hi = total if capacity is None else max(1, int(capacity))
    chips = max(chips, _chips_used(_fill(sizes, hi)))
    lo = max(1, -(-total // chips))
    while lo < hi:  # the fill's chip count never grows with the limit
        mid = (lo + hi) // 2
        if _chips_used(_fill(sizes, mid)) <= chips:
            hi = mid
        else:
            lo = mid + 1
    return _fill(sizes, hi), chips


def _group_units(graph: ModelGraph, per_chip: int, group_chips: np.ndarray | None, cores: int):
    """Per group, (first unit, unit count) its linears are split over."""
    n = len(graph.groups)
    if group_chips is None:
        return np.zeros(n, dtype=np.int64), np.full(n, cores, dtype=np.int64)
    return group_chips[:, 0] * per_chip, group_chips[:, 1] * per_chip


def _expected_fetch_fraction(graph: ModelGraph, sparse: bool) -> np.ndarray:
    """Per group, the expected fraction of weight rows fetched per token."""
    if not sparse:
        return np.ones(len(graph.groups))
    synthetic = graph.workload.spikes.synthetic
    return np.array([1.0 - synthetic.for_site(g.site).silent_fraction for g in graph.groups])


def model_bytes_on_chip(graph: ModelGraph, sequences: int = 1) -> int:
    """Bytes a weight-stationary system must hold on chip: every weight plus the state of
    each of `sequences` sequences."""
    weights = sum(lin.weight_bytes for g in graph.groups for lin in g.linears)
    return weights + graph.state_bytes * sequences


def array_bits(bits: Fraction) -> int:
    """Bits an array cell slice stores per weight: a packed format unpacks to whole bits."""
    return math.ceil(bits)


def is_array_kind(arch: Architecture) -> bool:
    """True for in-memory-compute tiles, whose weights live in crossbar or SRAM arrays."""
    return arch.compute.weight_stationary


def columns_per_weight(arch: Architecture, weight_bits: Fraction | int) -> int:
    """Array columns one weight occupies: bit slices over multi-bit cells, or one per bit
    (a packed fractional format is stored in whole bits per weight in an array)."""
    return arch.compute.columns_per_weight(array_bits(Fraction(weight_bits)))


def _linear_arrays(arch: Architecture, in_features: int, out_features: int, bits: Fraction):
    """Row chunks, and the physical columns of each column chunk, of one linear's arrays."""
    R, C = arch.compute.rows, arch.compute.cols
    weight_cols = out_features * columns_per_weight(arch, bits)
    n_rows = -(-in_features // R)
    col_chunks = np.minimum(C, weight_cols - np.arange(0, weight_cols, C))
    return n_rows, col_chunks


def arrays_needed(arch: Architecture, graph: ModelGraph) -> int:
    """Arrays that hold every weight of the model."""
    total = 0
    for g in graph.groups:
        for lin in g.linears:
            n_rows, col_chunks = _linear_arrays(arch, lin.in_features, lin.out_features, lin.bits)
            total += n_rows * col_chunks.size
    return total


def chips_needed(arch: Architecture, graph: ModelGraph, where: str, sequences: int = 1) -> int:
    """Chips the system uses: the configured count, or (for 'auto') as many as the weights
    and the `sequences` recurrent states need when there is no DRAM to stream them from.
    Raise ConfigError if too few."""
    per_chip = int(arch.onchip_memory.capacity_bytes)
    need = 1
    on_chip = model_bytes_on_chip(graph, sequences)
    if is_array_kind(arch):
        per_chip_arrays = arch.compute.count * arch.compute.arrays_per_tile
        need = max(1, -(-arrays_needed(arch, graph) // per_chip_arrays))
        need = max(need, -(-(graph.state_bytes * sequences) // per_chip))
    elif arch.dram is None:
        need = max(1, -(-on_chip // per_chip))
    if arch.chips is None:
        if need > 1:
            raise ConfigError.single(
                where,
                "onchip_memory.capacity_bytes",
                f"the model needs {on_chip} B on chip but one chip holds "
                f"{per_chip} B and there is no DRAM: it needs {need} chips; add a `chips:` "
                f"section (count: {need} or auto) with its chip-to-chip links",
            )
        return 1
    if arch.chips.count == "auto":
        return need
    if arch.chips.count < need:
        raise ConfigError.single(
            where,
            "chips.count",
            f"the model needs {need} chips ({on_chip} B on chip, "
            f"{per_chip} B per chip) but chips.count is {arch.chips.count}",
        )
    return arch.chips.count


def _tile_count(arch: Architecture, graph: ModelGraph, cores: int) -> int:
    """Tiles `place` will cut (spiking cores), counted without building them."""
    total = 0
    for group in graph.groups:
        for lin in group.linears:
            num, den = lin.bits.numerator, lin.bits.denominator
            max_cols = max(1, int(arch.mapping.tile_bytes * 8) * den // (lin.in_features * num))
            widest = -(-lin.out_features // cores)
            total += cores * -(-widest // max_cols)
    return total


def _check_size(arch: Architecture, graph: ModelGraph, chips: int, where: str) -> None:
    """Refuse, before any array is built, a system too large to route or a model that
    cannot fit in the on-chip memory and DRAM together."""
    nodes = chips * arch.interconnect.topology.nodes
    if nodes > MAX_ROUTED_NODES:
        raise ConfigError.single(
            where,
            "chips.count" if arch.chips is not None else "interconnect.topology",
            f"{chips} chip(s) x {arch.interconnect.topology.nodes} interconnect nodes = "
            f"{nodes} nodes for {graph.workload.name}, more than the {MAX_ROUTED_NODES} a run "
            "routes; `neurosim capacity` answers the chip count and link cost",
        )
    if is_array_kind(arch):
        return
    tiles = _tile_count(arch, graph, arch.compute.count * chips)
    if tiles > MAX_TILES:
        raise ConfigError.single(
            where,
            "mapping.tile_bytes",
            f"{graph.workload.name} would be cut into {tiles} weight tiles of at most "
            f"{int(arch.mapping.tile_bytes)} B, more than the {MAX_TILES} a run holds; "
            "raise mapping.tile_bytes",
        )
    if arch.dram is None:
        return
    weights = model_bytes_on_chip(graph) - graph.state_bytes
    onchip = int(arch.onchip_memory.capacity_bytes) * chips
    pinned = (
        max(0, onchip - int(arch.mapping.stream_buffer_bytes)) if arch.mapping.pin_weights else 0
    )
    dram = int(sum(ch.capacity_bytes for ch in arch.dram_channels))
    if weights > pinned + dram:
        raise ConfigError.single(
            where,
            "dram.channels",
            f"{graph.workload.name} has {weights} B of weights but the on-chip memory "
            f"({pinned} B for weights) and DRAM ({dram} B) hold {pinned + dram} B",
        )


def linear_bits(graph: ModelGraph) -> tuple[np.ndarray, np.ndarray]:
    """Per linear in execution order: its bits per weight as (numerator, denominator)."""
    bits = [lin.bits for g in graph.groups for lin in g.linears]
    return (
        np.array([b.numerator for b in bits], dtype=np.int64),
        np.array([b.denominator for b in bits], dtype=np.int64),
    )


def _cut_tiles(
    graph: ModelGraph, first_unit: np.ndarray, unit_count: np.ndarray, tile_bits: int
):
    """The tiles of every group, in execution order: each linear's output columns split
    evenly over its group's units (`unit_count[g]` from `first_unit[g]`), each unit's
    share cut into tiles of at most `tile_bits`; a group's tiles go round by round (every
    unit's r-th tile, unit by unit), and a unit's tiles in a group follow its linears.

    Returns per tile its columns, core, linear and group, then the group offsets and the
    linear names.
    """
    linears = [(g, lin) for g in graph.groups for lin in g.linears]
    n_groups = len(graph.groups)
    position = np.array([i for i, g in enumerate(graph.groups) for _ in g.linears], np.int64)
    group_index = np.array([g.index for g in graph.groups], dtype=np.int64)
    out_f = np.array([lin.out_features for _, lin in linears], dtype=np.int64)
    in_f = np.array([lin.in_features for _, lin in linears], dtype=np.int64)
    count = unit_count[position]  # (linears,) units each linear is split over
    cores = int(unit_count.max(initial=1))  # columns of the (linear, local unit) tables
    local = np.minimum(np.arange(cores + 1, dtype=np.int64)[None, :], count[:, None])
    bounds = (local * out_f[:, None]) // count[:, None]
    widths = np.diff(bounds, axis=1)  # (linears, cores): 0 past a linear's own units
    num, den = linear_bits(graph)
    max_cols = np.maximum(1, tile_bits * den // (in_f * num))  # (linears,)
    per_core = -(-widths // max_cols[:, None])
    # tiles each core already holds in the group when a linear starts
    running = np.cumsum(per_core, axis=0) - per_core
    first_of_group = np.searchsorted(position, np.arange(n_groups))
    group_start = np.zeros((n_groups, cores), dtype=np.int64)
    has = first_of_group < position.size
    group_start[has] = running[first_of_group[has]]
    before = running - group_start[position]
    counts = per_core.ravel()
    n = int(counts.sum())
    cell = np.repeat(np.arange(counts.size, dtype=np.int64), counts)  # (linear, core) cell
    linear, core = np.divmod(cell, cores)
    j = np.arange(n, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    cols = np.minimum(max_cols[linear], widths[linear, core] - j * max_cols[linear])
    rounds = before[linear, core] + j
    order = np.lexsort((core, rounds, position[linear]))  # by group, round, then core
    core = core + first_unit[position[linear]]
    tile_position = position[linear[order]]
    group_tiles = np.concatenate(([0], np.cumsum(np.bincount(tile_position, minlength=n_groups))))
    return (
        cols[order],
        core[order],
        linear[order],
        group_index[tile_position],
        group_tiles.astype(np.int64),
        tuple(lin.name for _, lin in linears),
    )


@njit(cache=True, nogil=True)
def _assign_channels(streamed, tile_bytes, bandwidth):
    """Give each streamed tile, in order, the DRAM channel that would finish it earliest
    (the first such channel on a tie). Returns (channel per tile or -1, bytes per channel)."""
    tile_channel = np.full(tile_bytes.size, -1, dtype=np.int64)
    assigned = np.zeros(bandwidth.size)
    for i in streamed:
        best = 0
        best_finish = (assigned[0] + tile_bytes[i]) / bandwidth[0]
        for ch in range(1, bandwidth.size):
            finish = (assigned[ch] + tile_bytes[i]) / bandwidth[ch]
            if finish < best_finish:
                best, best_finish = ch, finish
        tile_channel[i] = best
        assigned[best] += tile_bytes[i]
    return tile_channel, assigned


def place(
    arch: Architecture, graph: ModelGraph, source: str | None = None, sequences: int = 1
) -> Placement:
    """Split, place and assign every weight tile; raise ConfigError if the model cannot fit.

    `source` names the architecture's file in errors (default: its name); `sequences`
    recurrent states (one per sequence of a batch) compete with the weights for the chip.
    """
    where = source or arch.name
    chips = chips_needed(arch, graph, where, sequences)
    group_chips, added = None, 0
    if arch.mapping.chip_partition == "layers":
        group_chips, layered = _layer_chips(arch, graph, chips, sequences)
        added = layered - chips
        if added and arch.chips is not None and arch.chips.count != "auto":
            raise ConfigError.single(
                where,
                "chips.count",
                f"with mapping.chip_partition: layers, whole groups of {graph.workload.name} "
                f"need {layered} chips but chips.count is {arch.chips.count}; raise it, "
                "set it to auto, or use chip_partition: columns",
            )
        chips = layered
    units = chips * arch.compute.count
    if units > MAX_SIMULATED_UNITS:
        raise SimulationError(
            f"{arch.name} needs {chips} chips ({units} compute units) for "
            f"{graph.workload.name}: too many to simulate pair by pair (limit "
            f"{MAX_SIMULATED_UNITS} units); `neurosim capacity` answers the chip count and "
            "link cost"
        )
    _check_size(arch, graph, chips, where)
    if is_array_kind(arch):
        placement = _place_arrays(arch, graph, chips, group_chips)
        return replace(placement, **_partition_fields(arch, group_chips, added))
    cores = arch.compute.count * chips
    zero_fraction = graph.workload.weights.zero_fraction
    mapping = arch.mapping
    first_unit, unit_count = _group_units(graph, arch.compute.count, group_chips, cores)
    cols, core, linear, group_of, group_tiles, linear_names = _cut_tiles(
        graph, first_unit, unit_count, int(mapping.tile_bytes * 8)
    )
    rows = np.array([g.width for g in graph.groups], dtype=np.int64)[group_of]
    num, den = linear_bits(graph)
    # packed end to end: ceil(weights x bits / 8) bytes, bits = num / den exactly
    tile_bytes = -(-rows * cols * num[linear] // (8 * den[linear]))
    if arch.compute.skip_zero_weights:
        nnz = np.maximum(0, np.rint(cols * (1.0 - zero_fraction))).astype(np.int64)
    else:
        nnz = cols.copy()
    tile_group = group_of

    capacity = int(arch.onchip_memory.capacity_bytes) * chips
    buffer = int(mapping.stream_buffer_bytes) if arch.dram is not None else 0
    if buffer > capacity:
        raise ConfigError.single(
            where,
            "mapping.stream_buffer_bytes",
            f"stream buffer ({buffer} B) is larger than on-chip memory ({capacity} B)",
        )
    if group_chips is None:  # the whole system's memory is one pool
        budget = np.array([capacity - buffer], dtype=np.int64)
        state = np.array([graph.state_bytes * sequences], dtype=np.int64)
        tile_pool = np.zeros(rows.size, dtype=np.int64)
    else:  # each chip pins its own groups' tiles next to its own groups' state
        per_chip = int(arch.onchip_memory.capacity_bytes)
        budget = np.full(chips, per_chip - buffer // chips, dtype=np.int64)
        state = _chip_shares(_group_state_bytes(graph, sequences), group_chips, chips)
        tile_pool = core // arch.compute.count
    state_resident = bool(np.all(state <= budget))
    if state_resident:
        budget = budget - state

    resident = np.zeros(rows.size, dtype=bool)
    if mapping.pin_weights:
        priority = _expected_fetch_fraction(graph, mapping.sparse_weight_fetch)[tile_group]
        order = np.lexsort((np.arange(rows.size), -priority, tile_pool))
        cumulative = np.cumsum(tile_bytes[order])
        pool = tile_pool[order]
        pool_start = np.searchsorted(pool, pool)  # first position of each tile's pool
        before = np.where(pool_start > 0, cumulative[pool_start - 1], 0)
        resident[order[cumulative - before <= budget[pool]]] = True

    streamed = ~resident
    if streamed.any():
        largest = int(tile_bytes[streamed].max())
        if largest > buffer:
            raise ConfigError.single(
                where,
                "mapping.stream_buffer_bytes",
                f"stream buffer ({buffer} B) cannot hold the largest streamed tile "
                f"({largest} B); raise it or lower mapping.tile_bytes",
            )
    channels = arch.dram_channels
    bandwidth = np.array([ch.sustained_bandwidth_bytes_per_s for ch in channels], dtype=float)
    tile_channel, assigned = _assign_channels(np.flatnonzero(streamed), tile_bytes, bandwidth)
    for ch, used in zip(channels, assigned, strict=True):
        if used > ch.capacity_bytes:
            raise ConfigError.single(
                where,
                "dram.channels",
                f"channel {ch.name} would hold {int(used)} B of weights but has "
                f"{int(ch.capacity_bytes)} B",
            )

    owner_bounds = tuple(even_split(g.width, cores) for g in graph.groups)
    return Placement(
        chips=chips,
        units=cores,
        tile_group=tile_group,
        tile_linear=linear,
        tile_core=core,
        tile_cols=cols,
        tile_rows=rows,
        tile_bytes=tile_bytes,
        tile_nnz_per_row=nnz,
        tile_resident=resident,
        tile_channel=tile_channel,
        group_tiles=group_tiles,
        site_owner_bounds=owner_bounds,
        linear_names=linear_names,
        state_resident=state_resident,
        resident_weight_bytes=int(tile_bytes[resident].sum()),
        streamed_weight_bytes=int(tile_bytes[streamed].sum()),
        onchip_capacity_bytes=capacity,
        stream_buffer_bytes=buffer,
        **_partition_fields(arch, group_chips, added),
    )


def _partition_fields(arch: Architecture, group_chips: np.ndarray | None, added: int) -> dict:
    if group_chips is None:
        return {}
    return {
        "chip_partition": arch.mapping.chip_partition,
        "group_chips": group_chips,
        "chips_added_for_layers": added,
    }


def _group_state_bytes(graph: ModelGraph, sequences: int) -> np.ndarray:
    """Recurrent-state bytes each group's block keeps for `sequences` sequences."""
    return np.array(
        [0 if g.state is None else g.state.bytes * sequences for g in graph.groups],
        dtype=np.int64,
    )


def _chip_shares(per_group: np.ndarray, group_chips: np.ndarray, chips: int) -> np.ndarray:
    """Bytes per chip when each group's bytes are split evenly over its chips."""
    out = np.zeros(chips, dtype=np.int64)
    for b, (first, span) in zip(per_group, group_chips, strict=True):
        out[first : first + span] += -(-int(b) // int(span))
    return out


def _layer_chips(
    arch: Architecture, graph: ModelGraph, chips: int, sequences: int
) -> tuple[np.ndarray, int]:
    """Chips of every group under `chip_partition: layers`, and the chips that takes:
    balanced by arrays on in-memory-compute tiles (each chip holds its arrays), else by
    weight bytes plus, without DRAM to hold it, recurrent state (each chip's must fit)."""
    if is_array_kind(arch):
        sizes = np.array(
            [
                sum(
                    n_rows * col_chunks.size
                    for lin in g.linears
                    for n_rows, col_chunks in [
                        _linear_arrays(arch, lin.in_features, lin.out_features, lin.bits)
                    ]
                )
                for g in graph.groups
            ],
            dtype=np.int64,
        )
        per_chip_arrays = arch.compute.count * arch.compute.arrays_per_tile
        # arrays fill their chips in order, so a group takes consecutive slots from its
        # chip's first free one: pack to the chip's capacity (no balancing) so they match
        spans = _fill(sizes, per_chip_arrays)
        return spans, max(chips, _chips_used(spans))
    sizes = np.array(
        [sum(lin.weight_bytes for lin in g.linears) for g in graph.groups], dtype=np.int64
    )
    if arch.dram is not None:
        return partition_layers(sizes, chips, None)
    sizes = sizes + _group_state_bytes(graph, sequences)
    return partition_layers(sizes, chips, int(arch.onchip_memory.capacity_bytes))


def _place_arrays(
    arch: Architecture, graph: ModelGraph, chips: int, group_chips: np.ndarray | None = None
) -> Placement:
    """Weight-stationary placement on in-memory-compute arrays.

    Each linear is cut into arrays (row chunks x column chunks of bit-sliced weights);
    arrays fill the tiles in execution order, `arrays_per_tile` per tile, so groups are
    already contiguous but may straddle a chip boundary. With `group_chips` (layers) a
    group starts on its own first chip instead. One planner tile stands for all arrays of
    one group on one compute unit: they read in parallel.
    """
    cfg = arch.compute
    R = cfg.rows
    units = cfg.count * chips
    cursor = 0
    tile_group, tile_core, tile_bytes, tile_cols, tile_rows = [], [], [], [], []
    array_cols, array_counts = [], []
    a_unit, a_group, a_chunk, a_cols, a_slot = [], [], [], [], []
    group_tiles = [0]
    linear_names: list[str] = []
    per_chip_arrays = cfg.count * cfg.arrays_per_tile
    for position, group in enumerate(graph.groups):
        if group_chips is not None:
            cursor = max(cursor, int(group_chips[position, 0]) * per_chip_arrays)
        chunks = -(-group.width // R)
        unit_cols: dict[int, np.ndarray] = {}
        unit_counts: dict[int, np.ndarray] = {}
        unit_bytes: dict[int, int] = {}
        for lin in group.linears:
            linear_names.append(lin.name)
            bits = array_bits(lin.bits)
            n_rows, col_chunks = _linear_arrays(arch, lin.in_features, lin.out_features, bits)
            for r in range(n_rows):
                rows_here = min(R, lin.in_features - r * R)
                for pc in col_chunks:
                    u = cursor // cfg.arrays_per_tile
                    a_slot.append(cursor)
                    cursor += 1
                    a_unit.append(u)
                    a_group.append(group.index)
                    a_chunk.append(r)
                    a_cols.append(int(pc))
                    unit_cols.setdefault(u, np.zeros(chunks, dtype=np.int64))[r] += int(pc)
                    unit_counts.setdefault(u, np.zeros(chunks, dtype=np.int64))[r] += 1
                    weights = rows_here * int(pc) // columns_per_weight(arch, bits)
                    unit_bytes[u] = unit_bytes.get(u, 0) + (weights * bits + 7) // 8
        for u in sorted(unit_cols):
            tile_group.append(group.index)
            tile_core.append(u)
            tile_bytes.append(unit_bytes[u])
            tile_cols.append(int(unit_cols[u].sum()))
            tile_rows.append(group.width)
        array_cols.append(np.array([unit_cols[u] for u in sorted(unit_cols)], dtype=np.int64))
        array_counts.append(np.array([unit_counts[u] for u in sorted(unit_counts)], np.int64))
        group_tiles.append(len(tile_group))
    if cursor > units * cfg.arrays_per_tile:
        raise ConfigError.single(
            arch.name,
            "chips.count",
            f"the model needs {cursor} arrays but {chips} chip(s) hold "
            f"{units * cfg.arrays_per_tile}",
        )
    n = len(tile_group)
    tile_bytes_a = np.array(tile_bytes, dtype=np.int64)
    tile_of = {(g, u): k for k, (g, u) in enumerate(zip(tile_group, tile_core, strict=True))}
    array_tile = np.array(
        [tile_of[(g, u)] for g, u in zip(a_group, a_unit, strict=True)], dtype=np.int64
    )
    owner_bounds = tuple(even_split(g.width, units) for g in graph.groups)
    return Placement(
        chips=chips,
        units=units,
        tile_group=np.array(tile_group, dtype=np.int64),
        tile_linear=np.zeros(n, dtype=np.int64),
        tile_core=np.array(tile_core, dtype=np.int64),
        tile_cols=np.array(tile_cols, dtype=np.int64),
        tile_rows=np.array(tile_rows, dtype=np.int64),
        tile_bytes=tile_bytes_a,
        tile_nnz_per_row=np.zeros(n, dtype=np.int64),
        tile_resident=np.ones(n, dtype=bool),
        tile_channel=np.full(n, -1, dtype=np.int64),
        group_tiles=np.array(group_tiles, dtype=np.int64),
        site_owner_bounds=owner_bounds,
        linear_names=tuple(linear_names),
        state_resident=True,
        resident_weight_bytes=int(tile_bytes_a.sum()),
        streamed_weight_bytes=0,
        onchip_capacity_bytes=int(arch.onchip_memory.capacity_bytes) * chips,
        stream_buffer_bytes=0,
        array_cols=tuple(array_cols),
        array_counts=tuple(array_counts),
        array_row_chunk=R,
        arrays=len(a_slot),
        array_tile=array_tile,
        array_chunk=np.array(a_chunk, dtype=np.int64),
        array_phys_cols=np.array(a_cols, dtype=np.int64),
        array_slot=np.array(a_slot, dtype=np.int64),
    )
