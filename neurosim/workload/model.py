"""Expand a workload description into the ordered groups of work one token needs.

A *group* is one spike-coded site instance (e.g. block 3's attention input) together
with the linear layers that read it. Groups run in order; inside a group, every
linear accumulates the site's spikes over the site's timesteps.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction

from neurosim.config.per_layer import EMBEDDING, LM_HEAD, weight_bytes
from neurosim.config.workload import CodingConfig, LinearAttentionConfig, Workload
from neurosim.workload.mixers import MixerState, mixer_state


@dataclass(frozen=True, slots=True)
class Linear:
    """One linear layer instance: `in_features` inputs, each fanning out to `out_features`,
    its weights stored at `bits` (exact) bits each."""

    name: str
    in_features: int
    out_features: int
    bits: Fraction

    @property
    def weights(self) -> int:
        """Number of weights."""
        return self.in_features * self.out_features

    @property
    def weight_bytes(self) -> int:
        """Bytes of its weights, packed end to end."""
        return weight_bytes(self.weights, self.bits)


@dataclass(frozen=True, slots=True)
class Group:
    """A site instance and the linears it feeds."""

    index: int
    name: str
    site: str
    width: int
    levels: int
    timesteps: int
    linears: tuple[Linear, ...]
    state: MixerState | None  # the block's recurrent state, updated after this group

    @property
    def out_features(self) -> int:
        """Outputs of all linears of the group together."""
        return sum(lin.out_features for lin in self.linears)


@functools.cache
def timesteps_for(levels: int, scheme: str) -> int:
    """Timesteps needed to send counts 0..levels-1: L-1 (binary) or ceil(log2 L) (bitwise)."""
    if scheme not in ("binary", "bitwise"):
        raise ValueError(f"unknown coding scheme {scheme!r}; known: binary, bitwise")
    return CodingConfig(scheme=scheme).timesteps(levels)


@dataclass(frozen=True)
class ModelGraph:
    """All groups of one decoded token, in execution order, plus model-level sizes."""

    workload: Workload
    groups: tuple[Group, ...]
    host_head: Linear | None = None  # the LM head when the host CPU runs it, not the chip

    @property
    def head_on_chip(self) -> bool:
        """True when the LM head is the last group (not placed on the host)."""
        return self.host_head is None

    @property
    def weight_bits(self) -> Fraction:
        """Bits per stored weight of the model, before per-layer overrides."""
        return self.workload.weights.exact_bits()

    @property
    def embedding_bits(self) -> Fraction:
        """Bits per embedding weight (the LM head's when the two are tied)."""
        weights = self.workload.weights
        if self.workload.embedding.tied_to_head:
            return weights.bits_for(LM_HEAD)
        return weights.bits_for(EMBEDDING)

    @property
    def embedding_row_bytes(self) -> int:
        """Bytes of one embedding row, the lookup of one token."""
        return weight_bytes(self.workload.embedding.dim, self.embedding_bits)

    @property
    def weight_bytes(self) -> int:
        """Bytes of all stored weights: linears plus an untied embedding table."""
        emb = self.workload.embedding
        extra = 0 if emb.tied_to_head else weight_bytes(emb.vocab * emb.dim, self.embedding_bits)
        if self.host_head is not None:
            extra += self.host_head.weight_bytes
        return sum(lin.weight_bytes for g in self.groups for lin in g.linears) + extra

    @property
    def linear_parameters(self) -> int:
        """Weights in all linear layers (including the LM head)."""
        head = self.host_head.weights if self.host_head is not None else 0
        return sum(lin.weights for g in self.groups for lin in g.linears) + head

    @property
    def parameters(self) -> int:
        """All parameters: linears plus the embedding table unless it is tied to the head."""
        emb = self.workload.embedding
        extra = 0 if emb.tied_to_head else emb.vocab * emb.dim
        return self.linear_parameters + extra

    @property
    def linear_attention(self) -> LinearAttentionConfig | None:
        """The blocks' linear attention, if the run uses it (None under softmax)."""
        blocks = self.workload.blocks
        return blocks.linear_attention if blocks.attention_kind == "linear" else None

    @property
    def block_mixers(self) -> tuple[str | None, ...]:
        """The token mixer of every block (a hybrid's pattern, else the run's attention)."""
        blocks = self.workload.blocks
        return tuple(blocks.mixer_of(b) for b in range(blocks.count))

    @property
    def softmax_groups(self) -> tuple[int, ...]:
        """Index of the attention-input group of every block that runs softmax attention
        (its queries, keys and values come out of that group's linears)."""
        per_block = self._groups_per_block
        return tuple(b * per_block for b, m in enumerate(self.block_mixers) if m == "softmax")

    @property
    def _groups_per_block(self) -> int:
        blocks = self.workload.blocks
        return (len(self.groups) - (1 if self.head_on_chip else 0)) // blocks.count

    @property
    def block_states(self) -> tuple[MixerState, ...]:
        """The recurrent state of every block that keeps one (not softmax blocks)."""
        return tuple(g.state for g in self.groups if g.state is not None)

    @property
    def state_elements_per_block(self) -> int:
        """Recurrent-state elements of the largest block state (0 without one)."""
        return max((s.elements for s in self.block_states), default=0)

    @property
    def state_bytes(self) -> int:
        """Recurrent state of all blocks, in bytes."""
        return sum(s.bytes for s in self.block_states)


def build_model_graph(workload: Workload, head_on_host: bool = False) -> ModelGraph:
    """Order the site instances of every block, then the head, into groups; with
    `head_on_host` the head is kept apart (`host_head`) instead of being the last group."""
    blocks = workload.blocks
    scheme = workload.coding.scheme
    states = {kind: mixer_state(blocks, kind) for kind in set(map(blocks.mixer_of,
                                                                   range(blocks.count)))}
    site_order: list[str] = []
    for lin in blocks.linears:
        if lin.site not in site_order:
            site_order.append(lin.site)
    groups: list[Group] = []
    for b in range(blocks.count):
        for pos, site_name in enumerate(site_order):
            site = blocks.sites[site_name]
            levels = blocks.site_levels(site_name, b)
            linears = tuple(
                Linear(
                    f"b{b:02d}.{lin.name}", site.width, lin.out,
                    workload.weights.bits_for(lin.name, b),
                )
                for lin in blocks.linears
                if lin.site == site_name
            )
            groups.append(
                Group(
                    index=len(groups),
                    name=f"b{b:02d}.{site_name}",
                    site=site_name,
                    width=site.width,
                    levels=levels,
                    timesteps=timesteps_for(levels, scheme),
                    linears=linears,
                    state=states[blocks.mixer_of(b)] if pos == 0 else None,
                )
            )
    head = workload.head
    lm_head = Linear(LM_HEAD, head.site.width, head.out, workload.weights.bits_for(LM_HEAD))
    if head_on_host:
        return ModelGraph(workload=workload, groups=tuple(groups), host_head=lm_head)
    groups.append(
        Group(
            index=len(groups),
            name="head",
            site="head",
            width=head.site.width,
            levels=head.site.levels,
            timesteps=timesteps_for(head.site.levels, scheme),
            linears=(lm_head,),
            state=None,
        )
    )
    return ModelGraph(workload=workload, groups=tuple(groups))
