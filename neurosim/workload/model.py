"""Expand a workload description into the ordered groups of work one token needs.

A *group* is one spike-coded site instance (e.g. block 3's attention input) together
with the linear layers that read it. Groups run in order; inside a group, every
linear accumulates the site's spikes over the site's timesteps.
"""

from __future__ import annotations

from dataclasses import dataclass

from neurosim.config.workload import CodingConfig, LinearAttentionConfig, Workload


@dataclass(frozen=True, slots=True)
class Linear:
    """One linear layer instance: `in_features` inputs, each fanning out to `out_features`."""

    name: str
    in_features: int
    out_features: int

    @property
    def weights(self) -> int:
        """Number of weights."""
        return self.in_features * self.out_features


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
    attention: LinearAttentionConfig | None

    @property
    def out_features(self) -> int:
        """Outputs of all linears of the group together."""
        return sum(lin.out_features for lin in self.linears)


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

    @property
    def weight_bits(self) -> int:
        """Bits per stored weight."""
        return self.workload.weights.bits

    @property
    def linear_parameters(self) -> int:
        """Weights in all linear layers (including the LM head)."""
        return sum(lin.weights for g in self.groups for lin in g.linears)

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
    def softmax_groups(self) -> tuple[int, ...]:
        """Index of each block's attention-input group when the run uses softmax attention
        (its queries, keys and values come out of that group's linears), else empty."""
        if self.workload.blocks.attention_kind != "softmax":
            return ()
        per_block = (len(self.groups) - 1) // self.workload.blocks.count
        return tuple(b * per_block for b in range(self.workload.blocks.count))

    @property
    def state_elements_per_block(self) -> int:
        """Recurrent-state elements of one block's linear attention (0 without one)."""
        att = self.linear_attention
        return 0 if att is None else att.heads * att.key_dim * att.value_dim

    @property
    def state_bytes(self) -> int:
        """Recurrent state of all blocks, in bytes."""
        att = self.linear_attention
        if att is None:
            return 0
        return self.workload.blocks.count * self.state_elements_per_block * att.state_bits // 8


def build_model_graph(workload: Workload) -> ModelGraph:
    """Order the site instances of every block, then the head, into groups."""
    blocks = workload.blocks
    scheme = workload.coding.scheme
    linear = blocks.linear_attention if blocks.attention_kind == "linear" else None
    site_order: list[str] = []
    for lin in blocks.linears:
        if lin.site not in site_order:
            site_order.append(lin.site)
    groups: list[Group] = []
    for b in range(blocks.count):
        for pos, site_name in enumerate(site_order):
            site = blocks.sites[site_name]
            linears = tuple(
                Linear(f"b{b:02d}.{lin.name}", site.width, lin.out)
                for lin in blocks.linears
                if lin.site == site_name
            )
            groups.append(
                Group(
                    index=len(groups),
                    name=f"b{b:02d}.{site_name}",
                    site=site_name,
                    width=site.width,
                    levels=site.levels,
                    timesteps=timesteps_for(site.levels, scheme),
                    linears=linears,
                    attention=linear if pos == 0 else None,
                )
            )
    head = workload.head
    groups.append(
        Group(
            index=len(groups),
            name="head",
            site="head",
            width=head.site.width,
            levels=head.site.levels,
            timesteps=timesteps_for(head.site.levels, scheme),
            linears=(Linear("lm_head", head.site.width, head.out),),
            attention=None,
        )
    )
    return ModelGraph(workload=workload, groups=tuple(groups))
