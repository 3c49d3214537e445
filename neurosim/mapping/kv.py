"""Where softmax attention's KV cache lives: on-chip memory, DRAM, or spilled across both.

The cache is sized for the longest context of the run (every sequence of the batch at its
last token). Weights and recurrent state are placed first (`mapping.placement`); the cache
takes the on-chip memory they leave (`mapping.kv_cache: auto`), the rest spills to DRAM,
striped over the channels by sustained bandwidth. Every layer's cache is split the same
way, so a fraction `onchip_fraction` of each layer's K/V traffic stays on chip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.architecture import Architecture
from neurosim.errors import CapabilityError
from neurosim.mapping.interleave import bandwidth_share
from neurosim.mapping.placement import Placement, is_array_kind
from neurosim.workload.attention import KvShape


@dataclass(frozen=True)
class KvPlacement:
    """The KV cache's size and where each share of it lives."""

    shape: KvShape
    tokens: int  # cached tokens per sequence the cache is sized for
    sequences: int
    onchip_fraction: float
    channel_share: np.ndarray  # (channels,) share of the DRAM part on each channel

    @property
    def total_bytes(self) -> float:
        """The whole cache at its largest."""
        return self.shape.cache_bytes(self.tokens, self.sequences)

    @property
    def where(self) -> str:
        """'onchip', 'dram' or 'spilled' (both)."""
        if self.onchip_fraction >= 1.0:
            return "onchip"
        return "dram" if self.onchip_fraction <= 0.0 else "spilled"

    def summary(self) -> dict:
        """What the placement report shows."""
        total = self.total_bytes
        return {
            "kv_cache_bytes": total,
            "kv_cache_bytes_per_token": self.shape.bytes_per_token,
            "kv_cache_tokens_per_sequence": self.tokens,
            "kv_cache_sequences": self.sequences,
            "kv_cache_where": self.where,
            "kv_cache_onchip_bytes": total * self.onchip_fraction,
            "kv_cache_dram_bytes": total * (1.0 - self.onchip_fraction),
        }


def onchip_free_bytes(arch: Architecture, placement: Placement, state_bytes: int) -> int:
    """On-chip memory left after the stream buffer, resident weight tiles and the recurrent
    state (in-memory arrays hold their weights in the arrays, not in this memory)."""
    used = placement.stream_buffer_bytes
    if not is_array_kind(arch):
        used += placement.resident_weight_bytes
    if placement.state_resident:
        used += state_bytes
    return max(0, placement.onchip_capacity_bytes - used)


def place_kv(
    arch: Architecture,
    placement: Placement,
    shape: KvShape,
    tokens: int,
    sequences: int,
    state_bytes: int,
    files: str,
) -> KvPlacement:
    """Place a cache of `tokens` tokens for each of `sequences` sequences; `files` names the
    architecture and workload in errors (CapabilityError when it fits nowhere)."""
    total = shape.cache_bytes(tokens, sequences)
    free = onchip_free_bytes(arch, placement, state_bytes)
    channels = arch.dram_channels
    dram_free = np.array(
        [
            ch.capacity_bytes - int(placement.tile_bytes[placement.tile_channel == i].sum())
            for i, ch in enumerate(channels)
        ],
        dtype=float,
    )
    share = bandwidth_share(channels)
    mode = arch.mapping.kv_cache
    need = (
        f"a KV cache of {total / 2**20:.4g} MiB ({shape.bytes_per_token:g} B per token x "
        f"{tokens} tokens x {sequences} sequence(s))"
    )
    if mode == "dram" and not channels:
        raise CapabilityError(
            f"{files}: mapping.kv_cache is 'dram' but the architecture has no dram section "
            f"for {need}"
        )
    if mode == "onchip" or (mode == "auto" and not channels):
        if total > free:
            raise CapabilityError(
                f"{files}: {need} does not fit: {free / 2**20:.4g} MiB of on-chip memory is "
                "left after weights, state and stream buffer"
                + ("" if channels else " and the architecture has no DRAM to spill to")
                + "; shorten the context (--context-tokens, --prompt-tokens, --tokens), lower "
                "--batch or blocks.softmax_attention.kv_bits, or add memory"
            )
        fraction = 1.0
    elif mode == "dram":
        fraction = 0.0
    else:
        fraction = min(1.0, free / total) if total > 0 else 1.0
    spilled = total * (1.0 - fraction)
    if spilled > 0 and np.any(spilled * share > dram_free):
        raise CapabilityError(
            f"{files}: {need} does not fit: {spilled / 2**30:.4g} GiB go to DRAM, more than "
            f"its {max(0.0, dram_free.sum()) / 2**30:.4g} GiB left after the weights"
        )
    return KvPlacement(
        shape=shape,
        tokens=tokens,
        sequences=sequences,
        onchip_fraction=fraction,
        channel_share=share,
    )
