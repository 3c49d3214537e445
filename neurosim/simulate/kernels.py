"""Compiled inner loops of per-token planning: spikes per owner and timestep, and the
bits each spike phase puts on each link. Integer arithmetic throughout, so they give
exactly what the numpy formulations they replace gave."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def binary_spikes_by_owner(counts, owner, levels, n_groups, n_cores, t_max, levels_max):
    """Spikes each owner fires at each timestep under binary coding, and a validity flag.

    Neuron i (count c, owned by row `owner[i]` = group * n_cores + core) fires at every
    timestep t < c. Returns (S, ok): S is (groups, t_max, cores); ok is False if some
    count is outside 0 .. levels[i] - 1 (the caller then explains which).
    """
    hist = np.zeros((n_groups * n_cores, levels_max), dtype=np.int64)
    ok = True
    for i in range(counts.size):
        c = np.int64(counts[i])
        if c < 0 or c >= levels[i]:
            ok = False
            continue
        hist[owner[i], c] += 1
    S = np.zeros((n_groups, t_max, n_cores), dtype=np.int64)
    width = min(t_max, levels_max - 1)
    for row in range(n_groups * n_cores):
        g, core = row // n_cores, row % n_cores
        above = 0
        for c in range(levels_max - 1, 0, -1):
            above += hist[row, c]
            if c - 1 < width:
                S[g, c - 1, core] = above
    return S, ok


@njit(cache=True, nogil=True)
def multicast_link_bits(S, group_pattern, indptr, links, uses, n_links, msg_bits):
    """Bits on each link at each (group, timestep): every spike an owner fires goes to the
    group's destinations over the links of pattern `group_pattern[g]`, each link `uses`
    times per spike, `msg_bits` per message. Pattern p's rows: indptr[p, core] ..
    indptr[p, core + 1] index `links` and `uses`. Returns (groups, t_max, links)."""
    n_groups, t_max, n_cores = S.shape
    out = np.zeros((n_groups, t_max, n_links), dtype=np.int64)
    for g in range(n_groups):
        p = group_pattern[g]
        for t in range(t_max):
            for c in range(n_cores):
                s = S[g, t, c]
                if s == 0:
                    continue
                bits = s * msg_bits
                for j in range(indptr[p, c], indptr[p, c + 1]):
                    out[g, t, links[j]] += bits * uses[j]
    return out


@njit(cache=True, nogil=True)
def link_busy_ps(link_bits, ps_per_bit):
    """Per link: the sum over phases of ceil(bits x ps per bit), as a phase occupies it."""
    n_groups, t_max, n_links = link_bits.shape
    out = np.zeros(n_links)
    for g in range(n_groups):
        for t in range(t_max):
            for k in range(n_links):
                b = link_bits[g, t, k]
                if b:
                    out[k] += np.ceil(b * ps_per_bit[k])
    return out
