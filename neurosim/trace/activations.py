"""The `ActivationModel` interface: a tokenizer plus a forward pass that exposes every site.

A *site* is the input of one or more linear layers (the activation the spiking model
turns into spikes). A model lists its site instances in execution order (block 0's
sites in order of first use, then block 1's, ..., then the LM head input), which is the
group order of `neurosim.workload.model.build_model_graph`. During `forward`, the model
calls `hook(index, x)` at every site instance with its float activation `x` (tokens x
width); the returned array replaces the activation for the linears that read it. An
identity hook records the float model; a quantizing hook runs the spiking model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

SiteHook = Callable[[int, np.ndarray], np.ndarray]
SiteLinear = Callable[[int, np.ndarray, np.ndarray], np.ndarray]
"""(site index, its activation (tokens x in), the stacked weights (in x out)) -> product."""


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """One site instance: `name` like 'b03.mlp_in' (or 'head'), its site type and width.

    `linears` names the layers that read the site with their output features, e.g.
    (('q_proj', 576), ('k_proj', 192), ('v_proj', 192)).
    """

    name: str
    site: str
    block: int | None
    width: int
    linears: tuple[tuple[str, int], ...]

    def to_json(self) -> dict:
        """The spec as plain JSON data (for a trace header)."""
        return {
            "name": self.name,
            "site": self.site,
            "block": self.block,
            "width": self.width,
            "linears": [[n, o] for n, o in self.linears],
        }


@dataclass(frozen=True)
class ModelInfo:
    """What a trace header records about the model that produced it."""

    name: str
    family: str
    source: str
    blocks: int
    hidden: int
    vocab: int
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """Plain JSON data."""
        return {
            "name": self.name,
            "family": self.family,
            "source": self.source,
            "blocks": self.blocks,
            "hidden": self.hidden,
            "vocab": self.vocab,
            **self.extra,
        }


class ActivationModel(Protocol):
    """A language model whose linear-layer inputs can be observed and replaced."""

    info: ModelInfo
    sites: tuple[SiteSpec, ...]

    def encode(self, text: str) -> list[int]:
        """Token ids of `text` (no BOS added unless the model always adds one)."""
        ...

    def decode(self, ids: Sequence[int]) -> str:
        """Text of token ids."""
        ...

    def forward(self, ids: np.ndarray, hook: SiteHook | None = None) -> np.ndarray:
        """Logits (tokens x vocab, float32) of one causal sequence, calling `hook` per site."""
        ...


def site_types(sites: Sequence[SiteSpec]) -> list[str]:
    """Distinct site types in order of first appearance (e.g. attn_in, ..., head)."""
    seen: list[str] = []
    for s in sites:
        if s.site not in seen:
            seen.append(s.site)
    return seen
