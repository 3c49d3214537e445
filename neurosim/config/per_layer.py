"""Per-layer workload settings: stored weight formats (bits or packings, with overrides per
layer type and block range) and spike levels per block range.

A weight format is an exact rational number of bits per weight: `bits: 1.58` or a packing
such as 5 ternary weights per byte (8/5 = 1.6 bits). Weights are stored packed end to end,
so n weights take ceil(n x bits / 8) bytes: ceil(n / 5) for 5 ternary weights per byte.
"""

from __future__ import annotations

import re
from fractions import Fraction

from pydantic import Field, field_validator, model_validator

from neurosim.config.base import StrictModel
from neurosim.units import Fraction as FractionField

EMBEDDING = "embedding"
"""Layer name of the token embedding table in weight overrides."""
LM_HEAD = "lm_head"
"""Layer name of the LM head in weight overrides."""

_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def parse_block_range(value: int | str) -> tuple[int, int]:
    """'0-3' -> (0, 3), 5 or '5' -> (5, 5): an inclusive range of block indices."""
    if isinstance(value, bool):
        raise ValueError(f"expected a block index or a range like '0-3'; got {value!r}")
    if isinstance(value, int):
        first = last = value
    else:
        match = _RANGE.match(str(value))
        if match is None:
            raise ValueError(f"expected a block index or a range like '0-3'; got {value!r}")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
    if first < 0 or last < first:
        raise ValueError(f"block range {value!r} must run from a low index to a high one, >= 0")
    return first, last


class PackingConfig(StrictModel):
    """Weights packed in whole bytes, e.g. 5 ternary weights per byte (3^5 = 243 <= 256)."""

    weights: int = Field(description="weights stored in each group of `bytes` bytes")
    bytes: int = Field(description="bytes that hold `weights` weights")

    @property
    def bits(self) -> Fraction:
        """Exact bits per weight: 8 x bytes / weights."""
        return Fraction(8 * self.bytes, self.weights)


class WeightFormat(StrictModel):
    """How one layer's weights are stored: `bits` per weight, or a `packing`."""

    bits: float | None = Field(
        default=None, gt=0, description="bits per stored weight; fractions allowed (1.58)"
    )
    packing: PackingConfig | None = Field(
        default=None, description="weights per group of bytes (5 per 1 byte = 1.6 bits)"
    )

    @model_validator(mode="after")
    def _one_format(self) -> WeightFormat:
        given = [k for k in ("bits", "packing") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError("packing: give bits per weight or a packing, not both")
        return self

    @property
    def has_format(self) -> bool:
        """True if bits or a packing is given."""
        return self.bits is not None or self.packing is not None

    def exact_bits(self) -> Fraction:
        """Bits per weight as an exact fraction (a decimal `bits` is taken as written)."""
        if self.packing is not None:
            return self.packing.bits
        if self.bits is None:
            raise ValueError("no weight format given")
        return Fraction(repr(float(self.bits)))

    def describe(self) -> str:
        """'2-bit', '1.6-bit (5 weights / 1 B)'."""
        bits = self.exact_bits()
        text = f"{float(bits):g}-bit"
        if self.packing is not None:
            text += f" ({self.packing.weights} weights / {self.packing.bytes} B)"
        return text


class WeightOverride(WeightFormat):
    """A weight format for some layers: layer types, a block range, or both."""

    layers: list[str] = Field(
        default_factory=list,
        description="linear names of a block (q_proj, ...), lm_head or embedding; "
        "empty: every linear of `blocks`",
    )
    blocks: int | str | None = Field(
        default=None, description="block index or inclusive range '0-3'; none: every block"
    )

    @field_validator("blocks")
    @classmethod
    def _valid_range(cls, value: int | str | None) -> int | str | None:
        if value is not None:
            parse_block_range(value)
        return value

    @model_validator(mode="after")
    def _says_what(self) -> WeightOverride:
        if not self.has_format:
            raise ValueError("bits: an override needs bits or a packing")
        if not self.layers and self.blocks is None:
            raise ValueError("layers: an override names layers, a block range or both")
        outside = sorted({EMBEDDING, LM_HEAD} & set(self.layers))
        if outside and self.blocks is not None:
            raise ValueError(
                f"blocks: {', '.join(outside)} sit outside the blocks; give them an override "
                "without a block range"
            )
        return self

    def block_range(self) -> tuple[int, int] | None:
        """The inclusive block range, or None for every block."""
        return None if self.blocks is None else parse_block_range(self.blocks)

    def matches(self, layer: str, block: int | None) -> bool:
        """True if this override covers `layer` in `block` (None: outside the blocks)."""
        if self.layers and layer not in self.layers:
            return False
        span = self.block_range()
        if span is None:
            return True
        return block is not None and span[0] <= block <= span[1]


class WeightConfig(WeightFormat):
    """Stored weight format of the whole model, with overrides per layer and block range."""

    zero_fraction: FractionField = Field(description="fraction of weights that are exactly zero")
    overrides: list[WeightOverride] = Field(
        default_factory=list,
        description="later entries win: e.g. {layers: [lm_head], bits: 8}, "
        "{blocks: '0-3', bits: 4}, {layers: [embedding], bits: 16}",
    )

    @model_validator(mode="after")
    def _needs_format(self) -> WeightConfig:
        if not self.has_format:
            raise ValueError("bits: give bits per weight or a packing")
        return self

    def format_for(self, layer: str, block: int | None = None) -> WeightFormat:
        """The format of `layer` ('q_proj', 'lm_head', 'embedding') in `block`."""
        chosen: WeightFormat = self
        for override in self.overrides:
            if override.matches(layer, block):
                chosen = override
        return chosen

    def bits_for(self, layer: str, block: int | None = None) -> Fraction:
        """Exact bits per weight of `layer` in `block`."""
        return self.format_for(layer, block).exact_bits()


def weight_bytes(count: int, bits: Fraction) -> int:
    """Bytes that hold `count` weights of `bits` bits packed end to end."""
    return -(-count * bits.numerator // (8 * bits.denominator))


class SiteLevels(StrictModel):
    """Levels of one site in a block range."""

    levels: int = Field(ge=2, le=65536, description="integer spike levels L; counts in 0..L-1")


class BlockRangeConfig(StrictModel):
    """Site levels (hence timesteps) that differ in some blocks, e.g. blocks 0-3 at L=32."""

    blocks: int | str = Field(description="block index or inclusive range '0-3'")
    sites: dict[str, SiteLevels] = Field(min_length=1, description="site name -> its levels")

    @field_validator("blocks")
    @classmethod
    def _valid_range(cls, value: int | str) -> int | str:
        parse_block_range(value)
        return value

    def block_range(self) -> tuple[int, int]:
        """The inclusive block range."""
        return parse_block_range(self.blocks)
