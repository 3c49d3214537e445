"""Workload description: a spiking LLM's layers, coding and spike source, validated.

A model is a stack of identical blocks plus an embedding and an LM head. Inside a
block, *sites* are the activations that get spike-coded (each with its own number of
integer levels L, i.e. mixed timesteps) and *linears* are the MatMul-free layers that
accumulate a site's spikes into their outputs.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from neurosim.config.attention import SoftmaxAttentionConfig
from neurosim.config.base import StrictModel
from neurosim.units import Fraction


class SiteConfig(StrictModel):
    """A spike-coded activation: its width and its integer levels L (counts 0..L-1)."""

    width: int = Field(gt=0)
    levels: int = Field(ge=2, le=65536, description="integer spike levels L; counts in 0..L-1")


class LinearConfig(StrictModel):
    """A MatMul-free linear layer fed by one site."""

    name: str = Field(min_length=1)
    site: str = Field(min_length=1)
    out: int = Field(gt=0, description="output features (fan-out of each input spike)")


class LinearAttentionConfig(StrictModel):
    """Spike-based linear attention: a fixed recurrent state per head (O(1) per token)."""

    heads: int = Field(gt=0)
    key_dim: int = Field(gt=0)
    value_dim: int = Field(gt=0)
    state_bits: int = Field(gt=0, le=64)


class BlockConfig(StrictModel):
    """One repeated block: token mixer (linear attention) and channel mixer."""

    count: int = Field(gt=0)
    sites: dict[str, SiteConfig] = Field(min_length=1)
    linears: list[LinearConfig] = Field(min_length=1)
    linear_attention: LinearAttentionConfig | None = None
    softmax_attention: SoftmaxAttentionConfig | None = Field(
        default=None, description="softmax attention's heads and KV cache format"
    )
    attention: Literal["linear", "softmax"] | None = Field(
        default=None,
        description="token mixer the run uses; none: linear if linear_attention is given, "
        "else softmax if softmax_attention is given",
    )
    norms: int = Field(ge=0, description="normalisation layers per block (element-wise work)")

    @property
    def attention_kind(self) -> str | None:
        """The token mixer in use: 'linear', 'softmax' or None (neither is described)."""
        if self.attention is not None:
            return self.attention
        if self.linear_attention is not None:
            return "linear"
        return "softmax" if self.softmax_attention is not None else None

    @model_validator(mode="after")
    def _attention_described(self) -> BlockConfig:
        section = {"linear": self.linear_attention, "softmax": self.softmax_attention}
        if self.attention is not None and section[self.attention] is None:
            raise ValueError(
                f"attention: {self.attention} attention needs blocks.{self.attention}_attention "
                + (
                    "(heads, kv_heads, head_dim, kv_bits)"
                    if self.attention == "softmax"
                    else "(heads, key_dim, value_dim, state_bits)"
                )
            )
        return self

    @model_validator(mode="after")
    def _linears_use_known_sites(self) -> BlockConfig:
        names = [lin.name for lin in self.linears]
        if len(set(names)) != len(names):
            dup = next(i for i, n in enumerate(names) if names.index(n) != i)
            raise ValueError(
                f"linears[{dup}].name: linear names must be unique within a block; got {names}"
            )
        for i, lin in enumerate(self.linears):
            if lin.site not in self.sites:
                raise ValueError(
                    f"linears[{i}].site: linear {lin.name!r} reads site {lin.site!r}, which is "
                    f"not in sites (known sites: {', '.join(sorted(self.sites))})"
                )
        unused = sorted(set(self.sites) - {lin.site for lin in self.linears})
        if unused:
            raise ValueError(f"sites.{unused[0]}: sites {unused} feed no linear layer")
        return self


class EmbeddingConfig(StrictModel):
    """Token embedding table: one row is read per token."""

    vocab: int = Field(gt=0)
    dim: int = Field(gt=0)
    tied_to_head: bool = Field(description="shares its weights with the LM head")


class HeadConfig(StrictModel):
    """LM head: the last site and its projection to the vocabulary."""

    site: SiteConfig
    out: int = Field(gt=0)


class WeightConfig(StrictModel):
    """Stored weight format."""

    bits: int = Field(gt=0, le=32, description="bits per stored weight")
    zero_fraction: Fraction = Field(description="fraction of weights that are exactly zero")


class CodingConfig(StrictModel):
    """How an integer count becomes binary spikes over timesteps."""

    scheme: Literal["binary", "bitwise"] = Field(
        description="binary: T = L-1 steps, count c -> c spikes; "
        "bitwise: T = ceil(log2 L) steps, one bit per step"
    )
    signed: bool = Field(
        default=True,
        description="counts carry a sign (ternary spikes): same work, add or subtract",
    )

    def timesteps(self, levels: int) -> int:
        """Timesteps that send counts 0..levels-1: L-1 (binary) or ceil(log2 L) (bitwise)."""
        if self.scheme == "binary":
            return levels - 1
        return max(1, math.ceil(math.log2(levels)))


MAX_GROUPS_PER_TOKEN = 100_000
"""Most spike-coded site instances (blocks x sites + head) a model may have per token."""
MAX_PHASES_PER_TOKEN = 50_000
"""Most (site instance, timestep) spike phases per token; the presets need ~2,300, and a
run costs time and memory in proportion."""
MAX_NEURON_STEPS_PER_TOKEN = 30_000_000
"""Most (neuron, timestep) spike slots per token, summed over site instances; the presets
need up to ~3 million, and the per-token spike arrays hold 8 bytes per slot."""


class SiteFiringConfig(StrictModel):
    """Per-site count statistics for the synthetic generator."""

    silent_fraction: Fraction = Field(description="probability that a neuron's count is 0")
    mean_active_count: float = Field(
        gt=1.0, description="mean count among non-silent neurons (before clipping at L-1)"
    )
    neuron_spread: float = Field(
        ge=0.0, description="sigma of a per-neuron log-normal rate factor (heterogeneity)"
    )


class SyntheticSpikesConfig(StrictModel):
    """Seeded generator of per-token, per-site integer spike counts."""

    default: SiteFiringConfig
    sites: dict[str, SiteFiringConfig] = Field(default_factory=dict)

    def for_site(self, site: str) -> SiteFiringConfig:
        """Statistics for a site (block site name, or 'head')."""
        return self.sites.get(site, self.default)


class SpikeSourceConfig(StrictModel):
    """Where spikes come from when no trace file is given."""

    kind: Literal["synthetic"] = "synthetic"
    synthetic: SyntheticSpikesConfig


class Workload(StrictModel):
    """A whole spiking LLM workload."""

    name: str = Field(min_length=1)
    description: str = ""
    embedding: EmbeddingConfig
    blocks: BlockConfig
    head: HeadConfig
    weights: WeightConfig
    coding: CodingConfig
    spikes: SpikeSourceConfig
    context_tokens: int = Field(default=0, ge=0, description="prompt length before decoding")
    provenance: dict[str, str] = Field(min_length=1)

    @model_validator(mode="after")
    def _bounded_token_work(self) -> Workload:
        blocks = self.blocks
        used = {lin.site for lin in blocks.linears}
        groups = blocks.count * len(used) + 1
        if groups > MAX_GROUPS_PER_TOKEN:
            raise ValueError(
                f"blocks.count, blocks.sites: {blocks.count} blocks x {len(used)} sites = "
                f"{groups} spike-coded site instances per token, more than the "
                f"{MAX_GROUPS_PER_TOKEN} a run can hold"
            )
        steps = self.coding.timesteps
        per_block = sum(steps(blocks.sites[name].levels) for name in used)
        phases = blocks.count * per_block + steps(self.head.site.levels)
        if phases > MAX_PHASES_PER_TOKEN:
            raise ValueError(
                f"blocks.count, blocks.sites: one token has {phases} spike "
                f"phases (site instances x timesteps), more than {MAX_PHASES_PER_TOKEN}; "
                f"lower the levels L, use bitwise coding or fewer blocks"
            )
        slots = blocks.count * sum(
            blocks.sites[name].width * steps(blocks.sites[name].levels) for name in used
        ) + self.head.site.width * steps(self.head.site.levels)
        if slots > MAX_NEURON_STEPS_PER_TOKEN:
            raise ValueError(
                f"blocks.count, blocks.sites: one token has {slots} neuron-timesteps (site "
                f"widths x timesteps), more than {MAX_NEURON_STEPS_PER_TOKEN} "
                f"(~{MAX_NEURON_STEPS_PER_TOKEN * 8 // 2**20} MiB of spike arrays)"
            )
        return self

    @model_validator(mode="after")
    def _known_firing_sites(self) -> Workload:
        known = set(self.blocks.sites) | {"head"}
        unknown = sorted(set(self.spikes.synthetic.sites) - known)
        if unknown:
            raise ValueError(
                f"spikes.synthetic.sites.{unknown[0]}: spike statistics for {unknown}, not "
                f"sites of this model (known: {', '.join(sorted(known))})"
            )
        emb, head = self.embedding, self.head
        if emb.tied_to_head and (emb.vocab != head.out or emb.dim != head.site.width):
            key = "embedding.vocab" if emb.vocab != head.out else "head.site.width"
            raise ValueError(
                f"{key}: a tied embedding (tied_to_head) needs vocab x dim "
                f"({emb.vocab} x {emb.dim}) to equal head out x site width "
                f"({head.out} x {head.site.width})"
            )
        return self
