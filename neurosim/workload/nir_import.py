"""Import a NIR graph (Neuromorphic Intermediate Representation) as a spiking network.

NIR nodes are either neuron populations (Input, LIF, CubaLIF, IF, LI, Integrator,
Threshold, Output) or stateless linear maps (Affine, Linear, Scale, Conv1d, Conv2d, Flatten,
SumPool2d, AvgPool2d). Every chain of linear maps between two populations is composed into
one sparse synapse matrix (a projection) plus a constant bias current; the populations are
put in evaluation order, and a projection whose source comes at or after its target in
that order (a recurrent edge) reads the source's output of the previous timestep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np

from neurosim.errors import UsageError

__all__ = [
    "LINEAR_KINDS",
    "POPULATION_KINDS",
    "SUPPORTED_NODES",
    "Population",
    "Projection",
    "SnnNetwork",
    "load_nir",
    "network_from_graph",
]

POPULATION_KINDS = {
    "Input": "input",
    "LIF": "lif",
    "CubaLIF": "cubalif",
    "IF": "if",
    "LI": "li",
    "I": "integrator",
    "Integrator": "integrator",
    "Threshold": "threshold",
    "Output": "output",
}
"""NIR class name -> population kind."""

LINEAR_KINDS = (
    "Affine",
    "Linear",
    "Scale",
    "Conv1d",
    "Conv2d",
    "Flatten",
    "SumPool2d",
    "AvgPool2d",
)
SUPPORTED_NODES = tuple(sorted({*POPULATION_KINDS, *LINEAR_KINDS} - {"I"})) + ("I",)
SPIKING_KINDS = frozenset({"input", "lif", "cubalif", "if", "threshold"})
"""Population kinds whose output is a binary spike (the others pass on a value)."""

_PARAMS = {
    "lif": ("tau", "r", "v_leak", "v_threshold", "v_reset"),
    "cubalif": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"),
    "if": ("r", "v_threshold", "v_reset"),
    "li": ("tau", "r", "v_leak"),
    "integrator": ("r",),
    "threshold": ("threshold",),
}
_DEFAULTS = {"v_reset": 0.0, "w_in": 1.0}  # fields older NIR versions do not have


@dataclass
class Population:
    """One neuron population (or the network's input or output), flattened to 1-D."""

    name: str
    kind: str
    shape: tuple[int, ...]
    params: dict[str, np.ndarray] = field(default_factory=dict)
    bias: np.ndarray | None = None

    @property
    def size(self) -> int:
        """Neurons (or values) in the population."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def spiking(self) -> bool:
        """True if its output is a binary spike."""
        return self.kind in SPIKING_KINDS

    @property
    def placed(self) -> bool:
        """True if its neurons occupy cores (inputs and outputs live off the cores)."""
        return self.kind not in ("input", "output")


@dataclass
class Projection:
    """Synapses from population `source` to `target`, sorted by presynaptic neuron."""

    source: int
    target: int
    indptr: np.ndarray  # int64, source.size + 1: synapses of pre j are indptr[j]:indptr[j+1]
    post: np.ndarray  # int32 target neuron of each synapse
    weight: np.ndarray  # float64
    delayed: bool  # True: reads the source's output of the previous timestep

    @property
    def synapses(self) -> int:
        """Stored synapses (nonzero weights)."""
        return int(self.post.size)

    @property
    def pre(self) -> np.ndarray:
        """Presynaptic neuron of each synapse."""
        return np.repeat(np.arange(self.indptr.size - 1, dtype=np.int32), np.diff(self.indptr))


@dataclass
class SnnNetwork:
    """An imported spiking network: populations in evaluation order and their projections."""

    name: str
    populations: list[Population]
    projections: list[Projection]

    def index(self, name: str) -> int:
        """Position of the population called `name`."""
        return next(i for i, p in enumerate(self.populations) if p.name == name)

    @property
    def neurons(self) -> int:
        """Neurons on cores (inputs and outputs excluded)."""
        return sum(p.size for p in self.populations if p.placed)

    @property
    def synapses(self) -> int:
        """Synapses into placed populations."""
        return sum(pr.synapses for pr in self.projections if self.populations[pr.target].placed)

    @property
    def inputs(self) -> list[Population]:
        """The Input populations."""
        return [p for p in self.populations if p.kind == "input"]


# ---------------------------------------------------------------- sparse linear maps


@dataclass
class _Coo:
    """Synapses from one population into a node's output: (pre, post, weight)."""

    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    n_post: int
    identity: bool = False  # a population's own outputs, unchanged


@dataclass
class _Map:
    """A linear node as a sparse matrix (in -> out) plus a bias; `injective`: each input
    reaches at most one output and no two inputs share one (no duplicates to merge)."""

    n_in: int
    n_out: int
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    injective: bool = False


def _compose(a: _Coo, m: _Map) -> _Coo:
    """Synapses `a` followed by the map `m`."""
    if a.identity:
        return _Coo(m.src, m.dst, m.weight, m.n_out)
    if m.injective:
        lookup = np.full(m.n_in, -1, dtype=np.int64)
        lookup[m.src] = np.arange(m.src.size)
        k = lookup[a.post]
        keep = k >= 0
        return _Coo(
            a.pre[keep],
            m.dst[k[keep]].astype(np.int32),
            a.weight[keep] * m.weight[k[keep]],
            m.n_out,
        )
    order = np.argsort(m.src, kind="stable")
    src_sorted = m.src[order]
    starts = np.searchsorted(src_sorted, np.arange(m.n_in + 1))
    counts = starts[a.post + 1] - starts[a.post]
    total = int(counts.sum())
    rep = np.repeat(np.arange(a.post.size), counts)
    offset = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    pos = order[starts[a.post][rep] + offset]
    return _merge(
        _Coo(a.pre[rep], m.dst[pos].astype(np.int32), a.weight[rep] * m.weight[pos], m.n_out)
    )


def _merge(c: _Coo) -> _Coo:
    """Sum duplicate (pre, post) entries and drop zeros."""
    key = c.pre.astype(np.int64) * c.n_post + c.post
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else key
    weight = np.add.reduceat(c.weight[order], first) if key.size else c.weight
    keep = weight != 0
    pre, post = np.divmod(key[first][keep], c.n_post)
    return _Coo(pre.astype(np.int32), post.astype(np.int32), weight[keep], c.n_post)


def _apply_to_bias(m: _Map, bias: np.ndarray | None) -> np.ndarray | None:
    out = None
    if bias is not None and np.any(bias):
        out = np.bincount(m.dst, weights=m.weight * bias[m.src], minlength=m.n_out)
    if m.bias is not None and np.any(m.bias):
        out = m.bias.astype(np.float64) if out is None else out + m.bias
    return out


def _pair(value, name: str, where: str) -> tuple[int, int]:
    arr = np.atleast_1d(np.asarray(value)).astype(np.int64)
    if arr.size == 1:
        return int(arr[0]), int(arr[0])
    if arr.size != 2:
        raise UsageError(f"{where}: {name} must be one or two integers; got {value!r}")
    return int(arr[0]), int(arr[1])


def _conv_padding(padding, kernel, dilation, where: str) -> list[int]:
    if isinstance(padding, str):
        if padding == "valid":
            return [0] * len(kernel)
        return [d * (k - 1) // 2 for k, d in zip(kernel, dilation, strict=True)]
    arr = np.atleast_1d(np.asarray(padding)).astype(np.int64)
    if arr.size == 1:
        return [int(arr[0])] * len(kernel)
    if arr.size != len(kernel):
        raise UsageError(f"{where}: padding {padding!r} does not match a {len(kernel)}-d kernel")
    return [int(x) for x in arr]


@numba.njit(cache=True)
def _window_entries(
    in_ch, out_ch, offsets, weights, in_sp, out_sp, stride, pad
):  # pragma: no cover
    """Entries of a windowed map over a (channels, h, w) grid (1-d maps use h = 1)."""
    n_out = out_sp[0] * out_sp[1]
    cap = weights.size * n_out
    src = np.empty(cap, dtype=np.int64)
    dst = np.empty(cap, dtype=np.int32)
    w = np.empty(cap, dtype=np.float64)
    m = 0
    for e in range(weights.size):
        for oy in range(out_sp[0]):
            iy = oy * stride[0] - pad[0] + offsets[e, 0]
            if iy < 0 or iy >= in_sp[0]:
                continue
            for ox in range(out_sp[1]):
                ix = ox * stride[1] - pad[1] + offsets[e, 1]
                if ix < 0 or ix >= in_sp[1]:
                    continue
                src[m] = (in_ch[e] * in_sp[0] + iy) * in_sp[1] + ix
                dst[m] = (out_ch[e] * out_sp[0] + oy) * out_sp[1] + ox
                w[m] = weights[e]
                m += 1
    return src[:m], dst[:m], w[:m]


def _window_map(
    in_shape: tuple[int, ...],
    out_ch_of: np.ndarray,
    in_ch_of: np.ndarray,
    offsets: np.ndarray,
    weights: np.ndarray,
    out_spatial: tuple[int, ...],
    stride: tuple[int, ...],
    pad: tuple[int, ...],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries of a windowed map (convolution or pooling): kernel entry e joins input
    channel in_ch_of[e] at spatial offset offsets[e] to output channel out_ch_of[e]."""
    spatial = tuple(in_shape[1:])
    offsets = np.asarray(offsets, dtype=np.int64).reshape(weights.size, -1)
    if len(spatial) == 1:  # a 1-d map is a 2-d one of height 1
        spatial, out_spatial = (1, *spatial), (1, *out_spatial)
        stride, pad = (1, *stride), (0, *pad)
        offsets = np.concatenate([np.zeros((weights.size, 1), np.int64), offsets], axis=1)
    return _window_entries(
        np.asarray(in_ch_of, np.int64), np.asarray(out_ch_of, np.int64), offsets,
        np.asarray(weights, np.float64), np.array(spatial, np.int64),
        np.array(out_spatial, np.int64), np.array(stride, np.int64), np.array(pad, np.int64),
    )  # fmt: skip


def _conv_map(node, in_shape: tuple[int, ...], dims: int, where: str) -> tuple[_Map, tuple]:
    weight = np.asarray(node.weight, dtype=np.float64)
    if weight.ndim != dims + 2:
        raise UsageError(f"{where}: weight must have {dims + 2} dimensions; got {weight.shape}")
    groups = int(node.groups)
    c_out, c_in_g = weight.shape[:2]
    kernel = weight.shape[2:]
    if node.input_shape is not None:
        spatial = tuple(int(x) for x in np.atleast_1d(node.input_shape))
        in_shape = (c_in_g * groups, *spatial)
    if len(in_shape) != dims + 1 or in_shape[0] != c_in_g * groups:
        raise UsageError(
            f"{where}: input of shape {in_shape} does not fit a weight of shape "
            f"{weight.shape} with {groups} group(s) (expected {c_in_g * groups} channels "
            f"x {dims} spatial dimension(s))"
        )
    stride = tuple(np.broadcast_to(np.atleast_1d(np.asarray(node.stride)), (dims,)).tolist())
    dilation = tuple(np.broadcast_to(np.atleast_1d(np.asarray(node.dilation)), (dims,)).tolist())
    pad = tuple(_conv_padding(node.padding, kernel, dilation, where))
    out_spatial = tuple(
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, p, d, k, s in zip(in_shape[1:], pad, dilation, kernel, stride, strict=True)
    )
    if min(out_spatial) < 1:
        raise UsageError(f"{where}: the kernel is larger than the padded input {in_shape}")
    nz = np.nonzero(weight)
    co, ci_local, offs = nz[0], nz[1], np.stack(nz[2:], axis=1) * np.asarray(dilation)
    ci = (co // (c_out // groups)) * c_in_g + ci_local
    src, dst, w = _window_map(in_shape, co, ci, offs, weight[nz], out_spatial, stride, pad)
    out_shape = (c_out, *out_spatial)
    bias = None
    if getattr(node, "bias", None) is not None and np.size(node.bias):
        bias = np.repeat(np.asarray(node.bias, dtype=np.float64).ravel(), np.prod(out_spatial))
    n_in, n_out = int(np.prod(in_shape)), int(np.prod(out_shape))
    return _Map(n_in, n_out, src, dst, w, bias), out_shape


def _pool_map(node, in_shape: tuple[int, ...], average: bool, where: str) -> tuple[_Map, tuple]:
    if len(in_shape) != 3:
        raise UsageError(
            f"{where}: pooling needs a (channels, height, width) input; got {in_shape}"
        )
    kernel = _pair(node.kernel_size, "kernel_size", where)
    stride = _pair(node.stride, "stride", where)
    pad = _pair(node.padding, "padding", where)
    out_spatial = tuple(
        (n + 2 * p - k) // s + 1
        for n, p, k, s in zip(in_shape[1:], pad, kernel, stride, strict=True)
    )
    channels = in_shape[0]
    ky, kx = np.meshgrid(np.arange(kernel[0]), np.arange(kernel[1]), indexing="ij")
    offs = np.tile(np.stack([ky.ravel(), kx.ravel()], axis=1), (channels, 1))
    ch = np.repeat(np.arange(channels), kernel[0] * kernel[1])
    value = 1.0 / (kernel[0] * kernel[1]) if average else 1.0
    weights = np.full(ch.size, value)
    src, dst, w = _window_map(in_shape, ch, ch, offs, weights, out_spatial, stride, pad)
    out_shape = (channels, *out_spatial)
    return _Map(int(np.prod(in_shape)), int(np.prod(out_shape)), src, dst, w, None), out_shape


def _flatten_shape(node, in_shape: tuple[int, ...]) -> tuple[int, ...]:
    n = len(in_shape)
    start = int(node.start_dim) % n if n else 0
    end = int(node.end_dim) % n if n else 0
    if start > end:
        return in_shape
    return (*in_shape[:start], int(np.prod(in_shape[start : end + 1])), *in_shape[end + 1 :])


def _linear_map(kind: str, node, in_shape: tuple[int, ...], where: str) -> tuple[_Map, tuple]:
    n_in = int(np.prod(in_shape))
    if kind in ("Affine", "Linear"):
        weight = np.asarray(node.weight, dtype=np.float64)
        if weight.ndim != 2 or weight.shape[1] != n_in:
            raise UsageError(
                f"{where}: weight of shape {weight.shape} does not take an input of "
                f"{n_in} values (expected (out, {n_in}))"
            )
        dst, src = np.nonzero(weight)
        bias = np.asarray(node.bias, dtype=np.float64).ravel() if kind == "Affine" else None
        if bias is not None and bias.size not in (1, weight.shape[0]):
            raise UsageError(f"{where}: bias has {bias.size} values for {weight.shape[0]} outputs")
        if bias is not None:
            bias = np.broadcast_to(bias, (weight.shape[0],)).copy()
        return _Map(n_in, weight.shape[0], src, dst, weight[dst, src], bias), (weight.shape[0],)
    if kind == "Scale":
        scale = np.asarray(node.scale, dtype=np.float64).ravel()
        if scale.size not in (1, n_in):
            raise UsageError(f"{where}: scale has {scale.size} values for an input of {n_in}")
        scale = np.broadcast_to(scale, (n_in,))
        idx = np.arange(n_in)
        return _Map(n_in, n_in, idx, idx, scale.copy(), None, injective=True), in_shape
    if kind == "Flatten":
        idx = np.arange(n_in)
        out = _flatten_shape(node, in_shape)
        return _Map(n_in, n_in, idx, idx, np.ones(n_in), None, injective=True), out
    if kind in ("Conv1d", "Conv2d"):
        return _conv_map(node, in_shape, 1 if kind == "Conv1d" else 2, where)
    return _pool_map(node, in_shape, kind == "AvgPool2d", where)


# ---------------------------------------------------------------- the graph


def _kind_name(node) -> str:
    return type(node).__name__


def _unsupported(name: str, kind: str, source: str) -> UsageError:
    return UsageError(
        f"{source}: node '{name}' is a {kind}, which neurosim does not simulate; supported "
        f"node types: {', '.join(SUPPORTED_NODES)}"
    )


def _io_shape(node, attr: str, where: str) -> tuple[int, ...]:
    types = getattr(node, attr, None) or {}
    shape = next(iter(types.values()), None) if types else None
    if shape is None:
        raise UsageError(f"{where}: has no shape ({attr} is empty)")
    return tuple(int(x) for x in np.atleast_1d(np.asarray(shape)))


def _population(name: str, node, kind: str, in_shape, where: str) -> Population:
    if kind == "input":
        return Population(name, kind, _io_shape(node, "input_type", where))
    if kind == "output":
        shape = in_shape
        if shape is None:
            shape = _io_shape(node, "output_type", where)
        return Population(name, kind, tuple(shape))
    values = {}
    for p in _PARAMS[kind]:
        raw = getattr(node, p, None)
        if raw is None and p in _DEFAULTS:
            raw = _DEFAULTS[p]
        if raw is None:
            raise UsageError(f"{where}: parameter {p} is missing")
        values[p] = np.asarray(raw, dtype=np.float64)
    sizes = {p: v.size for p, v in values.items()}
    shape = max(
        (v.shape for v in values.values() if v.size > 1), key=lambda s: int(np.prod(s)), default=()
    )
    if in_shape is not None and int(np.prod(in_shape)) > 1 and not shape:
        shape = tuple(in_shape)
    shape = tuple(shape) or (1,)
    n = int(np.prod(shape))
    params = {}
    for p, v in values.items():
        if v.size not in (1, n):
            raise UsageError(
                f"{where}: parameter {p} has {v.size} values but the population has {n} "
                f"neurons (sizes: {sizes})"
            )
        params[p] = np.broadcast_to(v.ravel(), (n,)).astype(np.float64).copy()
    for p in ("tau", "tau_mem", "tau_syn"):
        if p in params and np.any(params[p] <= 0):
            raise UsageError(f"{where}: {p} must be positive; got {params[p].min():g}")
    return Population(name, kind, shape, params)


def network_from_graph(graph, source: str = "NIR graph") -> SnnNetwork:
    """Lower a `nir.NIRGraph` to populations and composed projections."""
    nodes = dict(graph.nodes)
    for name, node in nodes.items():
        kind = _kind_name(node)
        if kind not in POPULATION_KINDS and kind not in LINEAR_KINDS:
            raise _unsupported(
                name, "NIRGraph (nested subgraph)" if kind == "NIRGraph" else kind, source
            )
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    pred: dict[str, list[str]] = {n: [] for n in nodes}
    for edge in graph.edges:
        src, dst = (str(e).split(".")[0] for e in edge[:2])
        for end in (src, dst):
            if end not in nodes:
                raise UsageError(
                    f"{source}: edge {edge!r} names node '{end}', which is not in "
                    f"the graph (nodes: {', '.join(nodes)})"
                )
        succ[src].append(dst)
        pred[dst].append(src)
    inputs = [n for n, node in nodes.items() if _kind_name(node) == "Input"]
    if not inputs:
        raise UsageError(f"{source}: the graph has no Input node")
    # depth-first from the inputs: reverse postorder, and the edges closing cycles
    order, state, back = [], {}, set()
    for root in inputs:
        stack = [(root, iter(succ[root]))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                state[node] = 2
                order.append(node)
            elif state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))
    order.reverse()
    unreached = [n for n in nodes if n not in state]
    if unreached:
        raise UsageError(
            f"{source}: node(s) {', '.join(unreached)} cannot be reached from an Input node"
        )
    shapes: dict[str, tuple[int, ...]] = {}
    maps: dict[str, _Map] = {}
    pops: dict[str, Population] = {}
    for name in order:
        node, kind = nodes[name], _kind_name(nodes[name])
        where = f"{source}: node '{name}' ({kind})"
        fed = [p for p in pred[name] if (p, name) not in back]
        in_shape = None
        if fed:
            in_shape = shapes[fed[0]]
            for p in fed[1:]:
                if int(np.prod(shapes[p])) != int(np.prod(in_shape)):
                    raise UsageError(
                        f"{where}: its inputs differ in size ({fed[0]}: {in_shape}, "
                        f"{p}: {shapes[p]})"
                    )
        if kind in POPULATION_KINDS:
            pop = _population(name, node, POPULATION_KINDS[kind], in_shape, where)
            if in_shape is not None and int(np.prod(in_shape)) != pop.size:
                raise UsageError(
                    f"{where}: receives {int(np.prod(in_shape))} values but has {pop.size} neurons"
                )
            pops[name] = pop
            shapes[name] = pop.shape
        else:
            if in_shape is None:
                raise UsageError(f"{where}: no input reaches it")
            maps[name], shapes[name] = _linear_map(kind, node, in_shape, where)
    pop_order = [n for n in order if n in pops]
    position = {n: i for i, n in enumerate(pop_order)}

    memo: dict[str, tuple[dict[str, _Coo], np.ndarray | None]] = {}
    visiting: set[str] = set()

    def reach(name: str) -> tuple[dict[str, _Coo], np.ndarray | None]:
        """Synapses from each population into `name`'s output, and its bias."""
        if name in pops:
            n = pops[name].size
            idx = np.arange(n, dtype=np.int32)
            return {name: _Coo(idx, idx, np.ones(n), n, identity=True)}, None
        if name in memo:
            return memo[name]
        if name in visiting:
            raise UsageError(
                f"{source}: node '{name}' is on a cycle of linear nodes with no "
                "neuron on it (an algebraic loop)"
            )
        visiting.add(name)
        coos, bias = _incoming(name)
        m = maps[name]
        out = {s: _compose(c, m) for s, c in coos.items()}
        memo[name] = out, _apply_to_bias(m, bias)
        visiting.discard(name)
        return memo[name]

    def _incoming(name: str) -> tuple[dict[str, _Coo], np.ndarray | None]:
        parts: dict[str, list[_Coo]] = {}
        bias = None
        for p in pred[name]:
            coos, b = reach(p)
            for s, c in coos.items():
                parts.setdefault(s, []).append(c)
            if b is not None:
                bias = b if bias is None else bias + b
        merged = {}
        for s, cs in parts.items():
            if len(cs) == 1:
                merged[s] = cs[0]
            else:
                merged[s] = _merge(
                    _Coo(
                        *(
                            np.concatenate(x)
                            for x in zip(*((c.pre, c.post, c.weight) for c in cs), strict=True)
                        ),
                        cs[0].n_post,
                    )
                )
        return merged, bias

    projections = []
    for name in pop_order:
        pop = pops[name]
        if pop.kind == "input":
            continue
        coos, bias = _incoming(name)
        pop.bias = bias
        for s, c in coos.items():
            projections.append(_projection(position[s], position[name], pops[s].size, c))
    populations = [pops[n] for n in pop_order]
    return SnnNetwork(getattr(graph, "name", None) or "nir", populations, projections)


@numba.njit(cache=True)
def _rows(n_rows, rows, cols, values):  # pragma: no cover - jit
    """Counting sort of (row, col, value) entries by row, stable: CSR."""
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    for k in range(rows.size):
        indptr[rows[k] + 1] += 1
    for r in range(n_rows):
        indptr[r + 1] += indptr[r]
    fill = indptr[:-1].copy()
    out_cols = np.empty(cols.size, dtype=np.int32)
    out_values = np.empty(values.size, dtype=np.float64)
    for k in range(rows.size):
        at = fill[rows[k]]
        out_cols[at] = cols[k]
        out_values[at] = values[k]
        fill[rows[k]] = at + 1
    return indptr, out_cols, out_values


def _projection(src: int, dst: int, n_pre: int, c: _Coo) -> Projection:
    indptr, post, weight = _rows(
        n_pre,
        c.pre.astype(np.int64, copy=False),
        c.post.astype(np.int32, copy=False),
        c.weight.astype(np.float64, copy=False),
    )
    return Projection(
        source=src, target=dst, indptr=indptr, post=post, weight=weight, delayed=src >= dst
    )


def load_nir(path: Path) -> SnnNetwork:
    """Read a .nir file (HDF5) and lower it; a bad file is a UsageError naming it."""
    import nir

    try:
        graph = nir.read(str(path))
    except (OSError, KeyError, ValueError, TypeError) as err:
        raise UsageError(f"{path}: not a readable NIR file ({type(err).__name__}: {err})") from None
    net = network_from_graph(graph, str(path))
    net.name = Path(path).stem
    return net
