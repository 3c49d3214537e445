"""Binary spike coding of integer counts (the NSLLM / Int2Spike recipe).

`binary`: a count c in 0..L-1 becomes c spikes over T = L-1 timesteps; the neuron fires
at every step until its residual count reaches zero, so neuron i fires at step t iff
c_i > t. `bitwise`: one bit of c per step, most significant first, T = ceil(log2 L).
"""

from __future__ import annotations

import numpy as np


def spikes_per_timestep(counts: np.ndarray, timesteps: int, scheme: str) -> np.ndarray:
    """Number of neurons firing at each timestep (int64 array of length `timesteps`)."""
    counts = np.asarray(counts)
    if scheme == "binary":
        hist = np.bincount(counts.ravel(), minlength=timesteps + 1)[: timesteps + 1]
        # firing at t <=> count > t: reverse cumulative sum of the histogram
        above = np.cumsum(hist[::-1])[::-1]
        return above[1:].astype(np.int64)
    if scheme == "bitwise":
        c = counts.astype(np.int64).ravel()
        bits = [(c >> (timesteps - 1 - t)) & 1 for t in range(timesteps)]
        return np.array([int(b.sum()) for b in bits], dtype=np.int64)
    raise ValueError(f"unknown coding scheme {scheme!r}; known: binary, bitwise")


def spike_trains(counts: np.ndarray, timesteps: int, scheme: str) -> np.ndarray:
    """Full binary spike raster (timesteps x neurons) of a count vector, for inspection."""
    c = np.asarray(counts).astype(np.int64).ravel()
    steps = np.arange(timesteps)[:, None]
    if scheme == "binary":
        return (c[None, :] > steps).astype(np.uint8)
    if scheme == "bitwise":
        return ((c[None, :] >> (timesteps - 1 - steps)) & 1).astype(np.uint8)
    raise ValueError(f"unknown coding scheme {scheme!r}; known: binary, bitwise")


def decode_spike_trains(trains: np.ndarray, scheme: str) -> np.ndarray:
    """Invert `spike_trains`: recover the counts from a raster."""
    trains = np.asarray(trains, dtype=np.int64)
    if scheme == "binary":
        return trains.sum(axis=0)
    if scheme == "bitwise":
        timesteps = trains.shape[0]
        weights = 1 << np.arange(timesteps - 1, -1, -1, dtype=np.int64)
        return (trains * weights[:, None]).sum(axis=0)
    raise ValueError(f"unknown coding scheme {scheme!r}; known: binary, bitwise")
