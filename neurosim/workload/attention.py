"""Softmax attention's KV cache and work, from a workload's block description.

Per block and per sequence, every token in context keeps one key and one value vector per
KV head: ``kv_heads x head_dim x 2 x kv_bits / 8`` bytes. A query token scores its
``heads x head_dim`` query against every cached key (one multiply-accumulate per element),
takes one exponential per head and cached token (the softmax), and sums the values
weighted by the probabilities (one more multiply-accumulate per element).
"""

from __future__ import annotations

from dataclasses import dataclass

from neurosim.config.workload import Workload


@dataclass(frozen=True, slots=True)
class KvShape:
    """Sizes of one model's softmax attention."""

    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    kv_bits: int

    @property
    def layer_bits_per_token(self) -> int:
        """Bits of K and V one token adds to one layer's cache."""
        return self.kv_heads * self.head_dim * 2 * self.kv_bits

    @property
    def layer_bytes_per_token(self) -> float:
        """Bytes of K and V one token adds to one layer's cache."""
        return self.layer_bits_per_token / 8

    @property
    def bytes_per_token(self) -> float:
        """Bytes of K and V one token adds to the whole model's cache (all layers)."""
        return self.layers * self.layer_bytes_per_token

    def cache_bytes(self, tokens: int, sequences: int = 1) -> float:
        """The whole cache holding `tokens` tokens of each of `sequences` sequences."""
        return self.bytes_per_token * tokens * sequences

    def score_macs(self, pairs: int) -> int:
        """Multiply-accumulates of q.k over `pairs` (query, cached token) pairs, one layer."""
        return self.heads * self.head_dim * pairs

    def exps(self, pairs: int) -> int:
        """Exponentials of the softmax over `pairs` (query, cached token) pairs, one layer."""
        return self.heads * pairs

    def weighted_sum_macs(self, pairs: int) -> int:
        """Multiply-accumulates of the probability-weighted sum of values, one layer."""
        return self.heads * self.head_dim * pairs


def attended_pairs(context: int, queries: int) -> int:
    """(query, key) pairs of `queries` new tokens attending causally to `context` cached
    tokens and to each other (each query also sees itself)."""
    return queries * context + queries * (queries + 1) // 2


def kv_shape(workload: Workload) -> KvShape | None:
    """The KV shape of the blocks that run softmax attention (all of them, or a hybrid's
    softmax blocks), else None."""
    blocks = workload.blocks
    layers = sum(blocks.mixer_of(b) == "softmax" for b in range(blocks.count))
    if not layers:
        return None
    att = blocks.softmax_attention
    return KvShape(
        layers=layers,
        heads=att.heads,
        kv_heads=att.kv_heads,
        head_dim=att.head_dim,
        kv_bits=att.kv_bits,
    )
