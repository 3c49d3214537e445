"""Data spread over the DRAM channels: addresses interleaved in proportion to bandwidth.

What every step reads and writes afresh (the KV cache, a recurrent state kept off chip)
is interleaved over all channels, so that each channel's share takes it the same time.
Weight tiles are placed tile by tile instead (`neurosim.mapping.placement`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurosim.components.dram import DramChannelConfig, bytes_moved


def bandwidth_share(channels: Sequence[DramChannelConfig]) -> np.ndarray:
    """(channels,) each channel's share of the sustained bandwidth (empty: no DRAM)."""
    bandwidth = np.array([ch.sustained_bandwidth_bytes_per_s for ch in channels], dtype=float)
    return bandwidth / bandwidth.sum() if channels else np.zeros(0)


def interleaved_bytes(
    channels: Sequence[DramChannelConfig], share: np.ndarray, nbytes: int
) -> np.ndarray:
    """(channels,) bytes moved on each channel (whole bursts) when `nbytes` are spread by
    `share`; the bytes a floor leaves over go to the channel with the largest share."""
    moved = np.zeros(len(channels), dtype=np.int64)
    if nbytes <= 0 or not len(channels):
        return moved
    shares = np.floor(share * nbytes).astype(np.int64)
    shares[int(np.argmax(share))] += nbytes - int(shares.sum())
    for ci, ch in enumerate(channels):
        moved[ci] = bytes_moved(ch, int(shares[ci])) if shares[ci] else 0
    return moved
