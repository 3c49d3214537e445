"""Placement of an imported spiking network on neuromorphic cores, under per-core limits.

Populations are placed in evaluation order, each on cores of its own, filling a core with
consecutive neurons while the core's limits hold: neurons, distinct presynaptic sources
(input axons, `fan_in_per_core`) and synaptic memory (synapses x `synapse_bits`). A core
that then needs more outgoing routes than `routes_per_core` is split by placing its
population again with fewer neurons per core. Cores are numbered across chips (chip
`core // cores_per_chip`), so a network larger than one chip spills onto the next.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from neurosim.architecture import Architecture
from neurosim.errors import UsageError
from neurosim.workload.nir_import import SnnNetwork

__all__ = ["SnnPlacement", "place_network"]


@dataclass
class SnnPlacement:
    """Where every neuron sits and what each core holds."""

    cores_per_chip: int
    chips: int
    core_of: list[np.ndarray | None]  # per population: core of each neuron (None: off core)
    core_population: np.ndarray  # population index of each used core
    neurons: np.ndarray  # per core
    synapses: np.ndarray  # per core
    fan_in: np.ndarray  # per core: distinct presynaptic sources
    routes: np.ndarray  # per core: outgoing routes
    dest_indptr: list[np.ndarray]  # per population: neuron -> (destination core, synapses)
    dest_core: list[np.ndarray]
    dest_synapses: list[np.ndarray]

    @property
    def cores(self) -> int:
        """Cores used."""
        return int(self.neurons.size)

    def utilisation(self, limits) -> dict[str, np.ndarray]:
        """Per core: the fraction of each limit used."""
        return {
            "neurons": self.neurons / limits.neurons_per_core,
            "synapse_memory": self.synapses / limits.synapses_per_core,
            "fan_in": self.fan_in / limits.fan_in_per_core,
            "routes": self.routes / limits.routes_per_core,
        }


@numba.njit(cache=True)
def _by_post(n_post, post, pre):  # pragma: no cover - jit
    """Counting sort of (pre, post) pairs by post: CSR of presynaptic ids per neuron."""
    indptr = np.zeros(n_post + 1, dtype=np.int64)
    for k in range(post.size):
        indptr[post[k] + 1] += 1
    for i in range(n_post):
        indptr[i + 1] += indptr[i]
    fill = indptr[:-1].copy()
    out = np.empty(post.size, dtype=np.int64)
    for k in range(post.size):
        out[fill[post[k]]] = pre[k]
        fill[post[k]] += 1
    return indptr, out


@numba.njit(cache=True)
def _chunk(
    indptr, pre, group, caps, n_sources, max_neurons, max_fan_in, max_synapses
):  # pragma: no cover
    """Greedy consecutive filling of cores by neurons in order (consecutive populations
    share a core while it has room; at most caps[group] neurons of one group per core).
    Returns (core of each neuron, distinct sources of each core, -1 or the first neuron
    that alone breaks a limit, which: 1 fan-in, 2 synapses)."""
    n = indptr.size - 1
    mark = np.full(n_sources, -1, dtype=np.int64)
    core_of = np.empty(n, dtype=np.int64)
    fan_in_of = np.zeros(n, dtype=np.int64)
    core, count, in_group, fan_in, syn = 0, 0, 0, 0, 0
    for i in range(n):
        if i > 0 and group[i] != group[i - 1]:
            in_group = 0
        deg = indptr[i + 1] - indptr[i]
        new = 0
        for k in range(indptr[i], indptr[i + 1]):
            if mark[pre[k]] != core:
                new += 1
        full = count + 1 > max_neurons or in_group + 1 > caps[group[i]]
        if count > 0 and (full or fan_in + new > max_fan_in or syn + deg > max_synapses):
            core += 1
            count, in_group, fan_in, syn = 0, 0, 0, 0
            new = 0
            for k in range(indptr[i], indptr[i + 1]):
                if mark[pre[k]] != core:
                    mark[pre[k]] = core  # distinct sources of the neuron alone
                    new += 1
            for k in range(indptr[i], indptr[i + 1]):
                mark[pre[k]] = -1
        if new > max_fan_in:
            return core_of, fan_in_of, i, 1
        if deg > max_synapses:
            return core_of, fan_in_of, i, 2
        for k in range(indptr[i], indptr[i + 1]):
            mark[pre[k]] = core
        count += 1
        in_group += 1
        fan_in += new
        syn += deg
        core_of[i] = core
        fan_in_of[core] = fan_in
    n_cores = core + 1 if n else 0
    return core_of, fan_in_of[:n_cores].copy(), -1, 0


@numba.njit(cache=True)
def _destinations(indptr, post, core_of_post, n_cores):  # pragma: no cover - jit
    """Per presynaptic neuron: its distinct destination cores and synapses on each."""
    n = indptr.size - 1
    stamp = np.full(n_cores, -1, dtype=np.int64)
    slot = np.zeros(n_cores, dtype=np.int64)
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    cores = np.empty(post.size, dtype=np.int64)
    syn = np.zeros(post.size, dtype=np.int64)
    m = 0
    for j in range(n):
        for k in range(indptr[j], indptr[j + 1]):
            c = core_of_post[post[k]]
            if c < 0:
                continue
            if stamp[c] != j:
                stamp[c] = j
                slot[c] = m
                cores[m] = c
                m += 1
            syn[slot[c]] += 1
        out_ptr[j + 1] = m
    return out_ptr, cores[:m].copy(), syn[:m].copy()


def _limits(arch: Architecture):
    limits = arch.neuron_cores
    if limits is None:
        raise UsageError(
            f"{arch.name} has no neuron_cores section (per-core limits), so a spiking network "
            "cannot be placed on it; the neuromorphic presets (loihi, loihi2, truenorth, "
            "spinnaker2, brainscales2) have one"
        )
    return limits


def _incoming(net, i, offsets):
    """Presynaptic ids (global) of each neuron of population i, as CSR by neuron."""
    pres, posts = [], []
    for pr in net.projections:
        if pr.target == i:
            pres.append(pr.pre.astype(np.int64) + offsets[pr.source])
            posts.append(pr.post.astype(np.int64))
    pre = np.concatenate(pres) if pres else np.zeros(0, np.int64)
    post = np.concatenate(posts) if posts else np.zeros(0, np.int64)
    return _by_post(net.populations[i].size, post, pre)


def _fill(net, offsets, limits, caps, placed_pops, csr):
    """Core of every placed neuron, per-core fan-in and synapses."""
    indptr = np.concatenate(
        [[0], np.cumsum(np.concatenate([np.diff(csr[i][0]) for i in placed_pops]))]
    ).astype(np.int64)
    pre = np.concatenate([csr[i][1] for i in placed_pops])
    group = np.concatenate([np.full(net.populations[i].size, i) for i in placed_pops])
    cap = np.array([caps.get(i, 1) for i in range(len(net.populations))], dtype=np.int64)
    core_of, fan_in, bad, which = _chunk(
        indptr, pre, group, cap, int(offsets[-1]), limits.neurons_per_core,
        limits.fan_in_per_core, limits.synapses_per_core,
    )  # fmt: skip
    if bad >= 0:
        i = int(group[bad])
        local = bad - int(np.flatnonzero(group == i)[0])
        row = pre[indptr[bad] : indptr[bad + 1]]
        what = (
            f"{np.unique(row).size} distinct presynaptic sources, above the core's "
            f"fan_in_per_core {limits.fan_in_per_core}"
            if which == 1
            else f"{row.size} synapses, above the {limits.synapses_per_core} a core stores "
            f"({limits.synapse_memory_bytes:g} B of synapse_memory_bytes at "
            f"{limits.synapse_bits} bits each)"
        )
        raise UsageError(
            f"population '{net.populations[i].name}': neuron {local} has {what}; the network "
            "cannot be placed without splitting that neuron's inputs, which neurosim does not do"
        )
    synapses = np.bincount(core_of, weights=np.diff(indptr), minlength=fan_in.size)
    return core_of, group, fan_in, synapses.astype(np.int64)


def place_network(net: SnnNetwork, arch: Architecture) -> SnnPlacement:
    """Place `net` on `arch`'s cores; a network needing more chips than the preset allows
    is a UsageError saying how many it needs."""
    limits = _limits(arch)
    cores_per_chip = arch.compute.count * limits.cores_per_unit
    sizes = np.array([p.size for p in net.populations], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    caps = {i: min(limits.neurons_per_core, p.size) for i, p in enumerate(net.populations)}
    csr = {i: _incoming(net, i, offsets) for i, p in enumerate(net.populations) if p.placed}
    for _attempt in range(20):
        placed = _assign(net, offsets, limits, caps, csr)
        by_population = _routes(placed, net, limits)
        routes = by_population.sum(axis=1)
        over = np.flatnonzero(routes > limits.routes_per_core)
        if over.size == 0:
            break
        for c in over:  # fewer neurons per core of the population sending the most routes
            i = int(by_population[c].argmax())
            own = int(by_population[c, i])
            room = max(1, limits.routes_per_core - (int(routes[c]) - own))
            on_core = int(np.count_nonzero(placed["core_of"][i] == c))
            caps[i] = max(1, min(caps[i] - 1, math.floor(on_core * room / own)))
    else:
        c = int(over[0])
        raise UsageError(
            f"population '{net.populations[int(placed['core_population'][c])].name}' needs "
            f"{int(routes[c])} outgoing routes on one core even with a neuron per core, above "
            f"routes_per_core {limits.routes_per_core}"
        )
    n_cores = placed["neurons"].size
    chips = max(1, math.ceil(n_cores / cores_per_chip))
    allowed = _chip_limit(arch)
    if chips > allowed:
        raise UsageError(
            f"the network needs {n_cores} cores = {chips} {arch.name} chips "
            f"({cores_per_chip} cores each), but the preset "
            + (
                "is one chip (it has no chips section)"
                if arch.chips is None
                else f"has chips.count {arch.chips.count}; set it to {chips} or 'auto'"
            )
        )
    return SnnPlacement(
        cores_per_chip=cores_per_chip,
        chips=chips,
        core_of=placed["core_of"],
        core_population=placed["core_population"],
        neurons=placed["neurons"],
        synapses=placed["synapses"],
        fan_in=placed["fan_in"],
        routes=routes,
        dest_indptr=placed["dest_indptr"],
        dest_core=placed["dest_core"],
        dest_synapses=placed["dest_synapses"],
    )


def _chip_limit(arch: Architecture) -> int:
    if arch.chips is None:
        return 1
    return 4096 if arch.chips.count == "auto" else int(arch.chips.count)


def _assign(net, offsets, limits, caps, csr) -> dict:
    placed_pops = [i for i, p in enumerate(net.populations) if p.placed]
    core_of: list[np.ndarray | None] = [None] * len(net.populations)
    if placed_pops:
        cores, group, fan_in, synapses = _fill(net, offsets, limits, caps, placed_pops, csr)
    else:
        cores = group = fan_in = synapses = np.zeros(0, np.int64)
    start = 0
    for i in placed_pops:
        core_of[i] = cores[start : start + net.populations[i].size]
        start += net.populations[i].size
    n_cores = fan_in.size
    first = np.r_[True, cores[1:] != cores[:-1]] if cores.size else np.zeros(0, bool)
    neurons = np.bincount(cores, minlength=n_cores) if cores.size else np.zeros(0, np.int64)
    pairs = np.unique(np.stack([cores, group], axis=1), axis=0) if cores.size else None
    pops = group[first]
    dest = []
    for i, pop in enumerate(net.populations):
        outgoing = [pr for pr in net.projections if pr.source == i]
        parts = []
        for pr in outgoing:
            target = core_of[pr.target]
            if target is None:  # into an Output: read out by the host, no synapses
                continue
            parts.append(_destinations(pr.indptr, pr.post, target, n_cores))
        dest.append(_merge_destinations(parts, pop.size))
    return {
        "core_of": core_of,
        "core_population": pops,
        "core_groups": pairs,
        "neurons": neurons,
        "fan_in": fan_in,
        "synapses": synapses,
        "dest_indptr": [d[0] for d in dest],
        "dest_core": [d[1] for d in dest],
        "dest_synapses": [d[2] for d in dest],
    }


def _merge_destinations(parts, n):
    """One (neuron -> destination cores) list from several projections out of a population."""
    if not parts:
        return np.zeros(n + 1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    if len(parts) == 1:
        return parts[0]
    neuron = np.concatenate([np.repeat(np.arange(n), np.diff(p[0])) for p in parts])
    core = np.concatenate([p[1] for p in parts])
    syn = np.concatenate([p[2] for p in parts])
    order = np.lexsort((core, neuron))
    neuron, core, syn = neuron[order], core[order], syn[order]
    first = np.flatnonzero(np.r_[True, (neuron[1:] != neuron[:-1]) | (core[1:] != core[:-1])])
    syn = np.add.reduceat(syn, first)
    neuron, core = neuron[first], core[first]
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(neuron, minlength=n), out=indptr[1:])
    return indptr, core, syn


def _routes(placed: dict, net: SnnNetwork, limits) -> np.ndarray:
    """Outgoing routes per (core, population): one per (neuron, destination core) without
    multicast, one per distinct destination set with tree multicast."""
    n_cores = placed["neurons"].size
    routes = np.zeros((n_cores, len(net.populations)), dtype=np.int64)
    for i, cores in enumerate(placed["core_of"]):
        if cores is None:
            continue
        ptr, dest = placed["dest_indptr"][i], placed["dest_core"][i]
        per_neuron = np.diff(ptr)
        if limits.multicast == "none":
            routes[:, i] = np.bincount(cores, weights=per_neuron, minlength=n_cores)
            continue
        sets = _set_keys(ptr, dest)
        pairs = np.unique(np.stack([cores, sets], axis=1)[per_neuron > 0], axis=0)
        routes[:, i] = np.bincount(pairs[:, 0], minlength=n_cores)
    return routes


def _set_keys(ptr: np.ndarray, members: np.ndarray) -> np.ndarray:
    """An id per neuron naming its set of members (equal sets, equal ids)."""
    rng = np.random.default_rng(12345)  # fixed: hashing only, results do not depend on it
    n_members = int(members.max()) + 1 if members.size else 1
    coef = rng.integers(1, 2**62, size=(2, n_members), dtype=np.int64)
    owner = np.repeat(np.arange(ptr.size - 1), np.diff(ptr))
    keys = np.zeros((ptr.size - 1, 2), dtype=np.int64)
    for r in range(2):
        np.add.at(keys[:, r], owner, coef[r][members])
    _, ids = np.unique(keys, axis=0, return_inverse=True)
    return ids.ravel()
