"""Workload description: a spiking LLM's layers, coding and spike source, validated.

A model is a stack of identical blocks plus an embedding and an LM head. Inside a
block, *sites* are the activations that get spike-coded (each with its own number of
integer levels L, i.e. mixed timesteps) and *linears* are the MatMul-free layers that
accumulate a site's spikes into their outputs.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_serializer, model_validator

from neurosim.config.attention import SoftmaxAttentionConfig
from neurosim.config.base import StrictModel
from neurosim.config.per_layer import EMBEDDING, LM_HEAD, BlockRangeConfig, WeightConfig
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


class GatedRecurrenceConfig(StrictModel):
    """HGRN-style gated linear recurrence (MatMul-free LM): one state value per channel,
    h_t = f_t * h_{t-1} + (1 - f_t) * c_t, the gates coming out of the block's linears."""

    channels: int = Field(gt=0, description="hidden channels, one state value each")
    state_bits: int = Field(gt=0, le=64)


class SelectiveSsmConfig(StrictModel):
    """Mamba-style selective state space model: a d_inner x d_state state per block, a
    causal conv1d of width d_conv, per-token discretisation, scan update and readout."""

    d_inner: int = Field(gt=0, description="inner channels (expanded width)")
    d_state: int = Field(gt=0, description="state size per inner channel")
    d_conv: int = Field(ge=1, description="conv1d width (keeps d_conv - 1 past inputs)")
    state_bits: int = Field(gt=0, le=64)


MIXERS = ("linear", "softmax", "hgrn", "ssm")
MixerKind = Literal["linear", "softmax", "hgrn", "ssm"]
MIXER_SECTION = {
    "linear": ("linear_attention", "(heads, key_dim, value_dim, state_bits)"),
    "softmax": ("softmax_attention", "(heads, kv_heads, head_dim, kv_bits)"),
    "hgrn": ("gated_recurrence", "(channels, state_bits)"),
    "ssm": ("selective_ssm", "(d_inner, d_state, d_conv, state_bits)"),
}


class BlockConfig(StrictModel):
    """One repeated block: token mixer (attention or a recurrence) and channel mixer."""

    count: int = Field(gt=0)
    sites: dict[str, SiteConfig] = Field(min_length=1)
    linears: list[LinearConfig] = Field(min_length=1)
    linear_attention: LinearAttentionConfig | None = None
    softmax_attention: SoftmaxAttentionConfig | None = Field(
        default=None, description="softmax attention's heads and KV cache format"
    )
    gated_recurrence: GatedRecurrenceConfig | None = Field(
        default=None, description="HGRN-style gated linear recurrence (mixer hgrn)"
    )
    selective_ssm: SelectiveSsmConfig | None = Field(
        default=None, description="Mamba-style selective state space model (mixer ssm)"
    )
    attention: MixerKind | None = Field(
        default=None,
        description="token mixer the run uses (linear, softmax, hgrn or ssm); none: linear "
        "if linear_attention is given, else softmax if softmax_attention is given",
    )
    mixer_pattern: list[MixerKind] = Field(
        default_factory=list,
        description="hybrid models: the mixer of block b is mixer_pattern[b % len], e.g. "
        "[linear, linear, linear, softmax]; empty: every block uses `attention`",
    )
    norms: int = Field(ge=0, description="normalisation layers per block (element-wise work)")
    overrides: list[BlockRangeConfig] = Field(
        default_factory=list,
        description="site levels that differ in a block range, later entries win: "
        "e.g. {blocks: '0-3', sites: {attn_in: {levels: 32}}}",
    )

    @model_serializer(mode="wrap")
    def _plain_blocks_dump_as_before(self, handler, info):
        """Unset recurrent mixers and an empty pattern stay out of the JSON dump, so a model
        without them keeps its config hash (and every stored sweep point)."""
        data = handler(self)
        if info.mode == "json" and isinstance(data, dict):
            for key in ("gated_recurrence", "selective_ssm", "mixer_pattern"):
                if not getattr(self, key):
                    data.pop(key, None)
        return data

    def site_levels(self, site: str, block: int) -> int:
        """Levels L of `site` in block `block`, after the block-range overrides."""
        levels = self.sites[site].levels
        for override in self.overrides:
            first, last = override.block_range()
            if first <= block <= last and site in override.sites:
                levels = override.sites[site].levels
        return levels

    @property
    def attention_kind(self) -> str | None:
        """The token mixer in use: 'linear', 'softmax' or None (neither is described)."""
        if self.attention is not None:
            return self.attention
        if self.linear_attention is not None:
            return "linear"
        return "softmax" if self.softmax_attention is not None else None

    def mixer_of(self, block: int) -> str | None:
        """The token mixer of block `block`: the pattern's entry, else `attention_kind`."""
        if self.mixer_pattern:
            return self.mixer_pattern[block % len(self.mixer_pattern)]
        return self.attention_kind

    @model_validator(mode="after")
    def _attention_described(self) -> BlockConfig:
        if self.attention is not None:
            section, keys = MIXER_SECTION[self.attention]
            if getattr(self, section) is None:
                raise ValueError(
                    f"attention: {self.attention} attention needs blocks.{section} {keys}"
                )
        for i, kind in enumerate(self.mixer_pattern):
            section, keys = MIXER_SECTION[kind]
            if getattr(self, section) is None:
                raise ValueError(f"mixer_pattern[{i}]: mixer {kind} needs blocks.{section} {keys}")
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
        for i, override in enumerate(self.overrides):
            first, last = override.block_range()
            if last >= self.count:
                raise ValueError(
                    f"overrides[{i}].blocks: blocks {first}-{last} but the model has blocks "
                    f"0-{self.count - 1}"
                )
            unknown = sorted(set(override.sites) - set(self.sites))
            if unknown:
                raise ValueError(
                    f"overrides[{i}].sites.{unknown[0]}: not a site of the block (known "
                    f"sites: {', '.join(sorted(self.sites))})"
                )
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


class LearningConfig(StrictModel):
    """Weight updates while decoding: what changes the weights, how often, and where.

    `local`: a plasticity rule updates a synapse's weight after a synaptic event with
    probability `update_probability`; `finetune`: every `every_tokens` tokens a share
    `weight_fraction` of the weights (or a rank-`adapter_rank` adapter of every linear)
    is rewritten. The writes land on the memory that holds each weight.
    """

    rule: Literal["none", "local", "finetune"] = Field(
        default="none",
        description="none: frozen weights; local: per synaptic event, at a probability; "
        "finetune: periodic rewrite of a share of the weights or of a low-rank adapter",
    )
    update_probability: Fraction = Field(
        default=0.0, description="local: chance that one synaptic event rewrites its weight"
    )
    weight_fraction: Fraction = Field(
        default=0.0, description="finetune: share of all weights rewritten at each update"
    )
    adapter_rank: int = Field(
        default=0,
        ge=0,
        description="finetune: rewrite a rank-r adapter, r x (inputs + outputs) weights per "
        "linear, instead of weight_fraction (0: no adapter)",
    )
    updates_per_token: float = Field(
        default=0.0,
        ge=0.0,
        description="weights rewritten per token, instead of update_probability or "
        "weight_fraction: local spreads them over the weights by their synaptic events, "
        "finetune writes every_tokens x this many at each update (0: use the rule's own knob)",
    )
    every_tokens: int = Field(default=1, ge=1, description="finetune: tokens between updates")
    where: Literal["on_chip", "off_chip"] = Field(
        default="on_chip",
        description="on_chip: the units compute each update (one state update per written "
        "weight); off_chip: a host computes them (outside the model) and the chip only writes",
    )
    duty_cycle: Fraction = Field(
        default=1.0, description="share of wall-clock time the chip decodes, for lifetime_years"
    )
    wear_leveling: float = Field(
        default=1.0,
        ge=1.0,
        description="how many times wear levelling spreads the most-written cell's writes "
        "(1: none; never below the mean cell's rate)",
    )

    @model_validator(mode="after")
    def _rule_parameters(self) -> LearningConfig:
        if self.rule == "none":
            for key in ("update_probability", "weight_fraction", "adapter_rank",
                        "updates_per_token"):
                if getattr(self, key):
                    raise ValueError(
                        f"{key}: rule is none (frozen weights); set rule to local or finetune"
                    )
        elif self.rule == "local":
            for key in ("weight_fraction", "adapter_rank"):
                if getattr(self, key):
                    raise ValueError(f"{key}: only a finetune rule uses it; rule is local")
            if self.every_tokens != 1:
                raise ValueError("every_tokens: only a finetune rule uses it; rule is local")
            if self.update_probability and self.updates_per_token:
                raise ValueError(
                    "updates_per_token, update_probability: both set the rate of a local "
                    "rule; set one of them"
                )
        else:
            if self.update_probability:
                raise ValueError("update_probability: only a local rule uses it; rule is finetune")
            if sum(bool(x) for x in (self.weight_fraction, self.adapter_rank,
                                     self.updates_per_token)) > 1:
                raise ValueError(
                    "adapter_rank, weight_fraction, updates_per_token: a finetune rule rewrites "
                    "a share of the weights, an adapter or a number of weights; set one of them"
                )
        return self


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
    learning: LearningConfig = Field(
        default_factory=LearningConfig,
        description="weight updates while decoding (rule none: frozen weights)",
    )
    provenance: dict[str, str] = Field(min_length=1)

    @model_serializer(mode="wrap")
    def _frozen_dumps_as_before(self, handler, info):
        """A frozen workload's JSON dump leaves `learning` out, so its config hash (and every
        stored sweep point) is what it was before learning existed."""
        data = handler(self)
        if info.mode == "json" and self.learning.rule == "none" and isinstance(data, dict):
            data.pop("learning", None)
        return data

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
        order = [name for name in blocks.sites if name in used]
        block_steps = [
            [steps(blocks.site_levels(name, b)) for name in order] for b in range(blocks.count)
        ]
        phases = sum(map(sum, block_steps)) + steps(self.head.site.levels)
        if phases > MAX_PHASES_PER_TOKEN:
            raise ValueError(
                f"blocks.count, blocks.sites: one token has {phases} spike "
                f"phases (site instances x timesteps), more than {MAX_PHASES_PER_TOKEN}; "
                f"lower the levels L, use bitwise coding or fewer blocks"
            )
        widths = [blocks.sites[name].width for name in order]
        slots = sum(
            sum(w * t for w, t in zip(widths, row, strict=True)) for row in block_steps
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
        self._known_weight_layers()
        emb, head = self.embedding, self.head
        if emb.tied_to_head and (emb.vocab != head.out or emb.dim != head.site.width):
            key = "embedding.vocab" if emb.vocab != head.out else "head.site.width"
            raise ValueError(
                f"{key}: a tied embedding (tied_to_head) needs vocab x dim "
                f"({emb.vocab} x {emb.dim}) to equal head out x site width "
                f"({head.out} x {head.site.width})"
            )
        return self

    def _known_weight_layers(self) -> None:
        """Weight overrides name layers and blocks this model has."""
        known = {lin.name for lin in self.blocks.linears} | {LM_HEAD, EMBEDDING}
        for i, override in enumerate(self.weights.overrides):
            unknown = [name for name in override.layers if name not in known]
            if unknown:
                raise ValueError(
                    f"weights.overrides[{i}].layers: {unknown[0]!r} is not a layer of this "
                    f"model (known: {', '.join(sorted(known))})"
                )
            span = override.block_range()
            if span is not None and span[1] >= self.blocks.count:
                raise ValueError(
                    f"weights.overrides[{i}].blocks: blocks {span[0]}-{span[1]} but the model "
                    f"has blocks 0-{self.blocks.count - 1}"
                )
            if EMBEDDING in override.layers and self.embedding.tied_to_head:
                raise ValueError(
                    f"weights.overrides[{i}].layers: the embedding is tied to the LM head "
                    "(embedding.tied_to_head), so it is stored as lm_head; override lm_head"
                )
