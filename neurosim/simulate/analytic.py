"""Analytic fidelity: the token schedule as a max-plus recurrence, floored by the busiest resource.

The recurrence has no queueing behind other streams: a DRAM channel streams its tiles
back to back, weight delivery over the NoC never waits for a link, spike phases never
share links with weight traffic, and the stream buffer is unbounded. Alone, it equals
the DES with contention switched off. With contention on, crossbar arrays sharing an ADC
bank convert one after another within each item, and a token also lasts at least
as long as its busiest resource is busy (`neurosim.simulate.busy`): links shared by
many tiles can no longer carry more than they can, and the result stays a lower bound
on the DES.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from neurosim.simulate.work import TokenWork


@njit(cache=True, nogil=True)
def _schedule(
    start,
    sparse,
    group_T,
    phase_offsets,
    phase_ps,
    group_tiles,
    tile_core,
    tile_channel,
    tile_dram_ps,
    tile_noc_ps,
    item_offsets,
    item_ps,
    epilogue_ps,
    extra_ps,
    prologue_ps,
    n_channels,
):  # pragma: no cover - compiled
    n_groups = group_T.shape[0]
    n_cores = epilogue_ps.shape[1]
    chan_free = np.full(n_channels, start, dtype=np.int64)
    core_free = np.zeros(n_cores, dtype=np.int64)
    group_start = start + prologue_ps
    for g in range(n_groups):
        t0 = group_tiles[g]
        t1 = group_tiles[g + 1]
        avail = group_start if sparse else start
        ready = np.empty(t1 - t0, dtype=np.int64)
        for k in range(t0, t1):
            ch = tile_channel[k]
            if ch < 0 or tile_dram_ps[k] == 0:
                ready[k - t0] = start
            else:
                begin = max(chan_free[ch], avail)
                chan_free[ch] = begin + tile_dram_ps[k]
                ready[k - t0] = chan_free[ch] + tile_noc_ps[k]
        p0 = phase_offsets[g]
        T = group_T[g]
        phase_end = np.empty(T, dtype=np.int64)
        acc = group_start
        for t in range(T):
            acc += phase_ps[p0 + t]
            phase_end[t] = acc
        for c in range(n_cores):
            core_free[c] = group_start
        for k in range(t0, t1):
            c = tile_core[k]
            i0 = item_offsets[k]
            for t in range(T):
                begin = max(core_free[c], ready[k - t0], phase_end[t])
                core_free[c] = begin + item_ps[i0 + t]
        end = group_start
        for c in range(n_cores):
            core_free[c] += epilogue_ps[g, c]
            if core_free[c] > end:
                end = core_free[c]
        group_start = end + extra_ps[g]
    return group_start


def item_durations_ps(work: TokenWork, contention: bool) -> np.ndarray:
    """Each compute item's duration in the recurrence. With contention, crossbar arrays
    that share an ADC bank convert one after another, so an item takes its read plus its
    busiest bank's conversions (`AdcRequests.bank_serial_ps`), as in the DES."""
    adc = work.adc
    if not contention or adc is None or adc.arrays_per_bank == 1:
        return work.item_ps
    return np.maximum(work.item_ps, adc.bank_serial_ps())


def token_end_ps(
    work: TokenWork,
    placement,
    start_ps: int,
    sparse: bool,
    n_channels: int,
    floor_ps: int = 0,
    contention: bool = False,
) -> int:
    """End time (ps) of a token that starts at `start_ps` and lasts at least `floor_ps`;
    `contention`: arrays sharing an ADC bank take turns on it."""
    end = int(
        _schedule(
            np.int64(start_ps),
            sparse,
            work.group_timesteps,
            work.phase_offsets,
            work.phase_ps,
            placement.group_tiles,
            placement.tile_core,
            placement.tile_channel,
            work.tile_dram_ps,
            work.tile_noc_ps,
            work.item_offsets,
            item_durations_ps(work, contention),
            work.epilogue_ps,
            work.post_group_ps,
            np.int64(work.prologue_ps),
            n_channels,
        )
    )
    return max(end, start_ps + floor_ps)
