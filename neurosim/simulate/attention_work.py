"""Softmax attention's work in one step: KV cache traffic per memory and the engine's time.

After each block's first group (whose linears produce the queries, keys and values), every
sequence's new query tokens attend to its cached tokens and to each other. The cache is read
once per step (every query of the step uses each fetched key and value), the new keys and
values are written, and the attention engine computes scores, softmax and weighted sum while
the cache arrives. Byte counts are exact bits of K and V (rounded up to DRAM bursts per
channel); `neurosim.mapping.kv` decides the share on chip and on each channel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurosim.architecture import Architecture
from neurosim.components.dram import transfer_ps_per_channel
from neurosim.engine import PS_PER_S
from neurosim.mapping.interleave import interleaved_bytes
from neurosim.mapping.kv import KvPlacement
from neurosim.workload.attention import attended_pairs
from neurosim.workload.model import ModelGraph


@dataclass
class KvWork:
    """Softmax attention of one step, per group (zero for groups without attention): the
    KV cache read from and written to each DRAM channel, the part on chip, and the work of
    the attention engine. A group's attention reads the cache while the engine computes,
    then writes the new keys and values."""

    read_ps: np.ndarray  # (G, channels)
    write_ps: np.ndarray  # (G, channels)
    read_bits: np.ndarray  # (G, channels)
    write_bits: np.ndarray  # (G, channels)
    onchip_read_bits: np.ndarray  # (G,)
    onchip_write_bits: np.ndarray  # (G,)
    onchip_ps: np.ndarray  # (G,) on-chip part at the memory's full bandwidth
    engine_ps: np.ndarray  # (G,)
    events: dict[str, np.ndarray]  # attention engine event -> (G,) counts

    @property
    def group_ps(self) -> np.ndarray:
        """(G,) time the attention adds after each group, without queueing."""
        reads = self.read_ps.max(axis=1, initial=0)
        writes = self.write_ps.max(axis=1, initial=0)
        return np.maximum(np.maximum(reads, self.engine_ps), self.onchip_ps) + writes


def _split(arch: Architecture, kv: KvPlacement, layer_bits: int) -> tuple[int, np.ndarray]:
    """On-chip bits and bytes moved per DRAM channel (whole bursts) of one layer's
    `layer_bits` of K and V."""
    onchip_bits = int(round(layer_bits * kv.onchip_fraction))
    dram_bytes = math.ceil((layer_bits - onchip_bits) / 8)
    per_channel = interleaved_bytes(arch.dram_channels, kv.channel_share, dram_bytes)
    return onchip_bits, per_channel


def plan_kv(
    arch: Architecture,
    graph: ModelGraph,
    kv: KvPlacement,
    chips: int,
    context: int,
    queries: int,
    sequences: int,
) -> KvWork:
    """Attention of a step in which each of `sequences` sequences, with `context` tokens
    cached, adds `queries` tokens."""
    n_groups, n_ch = len(graph.groups), len(arch.dram_channels)
    shape = kv.shape
    read_onchip, read_ch = _split(arch, kv, shape.layer_bits_per_token * context * sequences)
    write_onchip, write_ch = _split(arch, kv, shape.layer_bits_per_token * queries * sequences)
    pairs = sequences * attended_pairs(context, queries)
    events = {
        "score_mac": shape.score_macs(pairs),
        "softmax_exp": shape.exps(pairs),
        "weighted_sum_mac": shape.weighted_sum_macs(pairs),
    }
    engine = arch.attention_engine
    engine_ps = engine.work_ps(
        events["score_mac"], events["softmax_exp"], events["weighted_sum_mac"], chips
    )
    bandwidth = arch.onchip_memory.bandwidth_bytes_per_s * chips
    onchip_ps = math.ceil(read_onchip / 8 * PS_PER_S / bandwidth) if read_onchip else 0
    rows = np.array(graph.softmax_groups, dtype=np.int64)

    def per_group(value, width: int | None = None) -> np.ndarray:
        shape_ = (n_groups,) if width is None else (n_groups, width)
        out = np.zeros(shape_, dtype=np.int64)
        out[rows] = value
        return out

    return KvWork(
        read_ps=per_group(transfer_ps_per_channel(arch.dram_channels, read_ch), n_ch),
        write_ps=per_group(transfer_ps_per_channel(arch.dram_channels, write_ch), n_ch),
        read_bits=per_group(read_ch * 8, n_ch),
        write_bits=per_group(write_ch * 8, n_ch),
        onchip_read_bits=per_group(read_onchip),
        onchip_write_bits=per_group(write_onchip),
        onchip_ps=per_group(onchip_ps),
        engine_ps=per_group(engine_ps),
        events={name: per_group(n) for name, n in events.items()},
    )
