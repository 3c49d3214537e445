"""The host: a CPU outside the modelled chip, the link to it, and the work placed on it.

Decoding is sequential (the next token's embedding needs this token's sample), so work
on the host does not overlap the chip's: every token pays the host's compute plus one
synchronisation across the host-device link each time the token's data changes side.
The token's steps go round in the order embedding -> blocks (always on the chip) ->
LM head -> sampling -> the next token's embedding; a crossing carries, in that order,
the embedding vector, the head's input counts, the logits or the sampled token id.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

from neurosim.config.base import StrictModel
from neurosim.units import (
    NonNegativeJoulesPerBit,
    NonNegativeSeconds,
    NonNegativeWatts,
    PositiveBytesPerSecond,
    PositiveHertz,
)

HostTask = Literal["embedding", "lm_head", "sampling"]
STEPS = ("embedding", "blocks", "lm_head", "sampling")
"""One token's steps in order; the last feeds the next token's first."""
TOKEN_ID_BITS = 32
"""Bits of a sampled token id sent back to the chip."""


class HostCpuConfig(StrictModel):
    """The host CPU: cores, clock, SIMD width, memory bandwidth and power."""

    cores: int = Field(gt=0, description="per system: host cores that share the host work")
    clock_hz: PositiveHertz = Field(description="core clock")
    ops_per_cycle: int = Field(
        gt=0, description="per core: arithmetic operations per cycle (SIMD lanes x issue)"
    )
    memory_bandwidth_bytes_per_s: PositiveBytesPerSecond = Field(
        description="sustained host memory bandwidth (weights and logits are read from it)"
    )
    active_power_w: NonNegativeWatts = Field(
        description="power above idle while the host works on a token"
    )
    static_power_w: NonNegativeWatts = Field(
        description="per system: idle power of the host CPU, always on"
    )

    def ops_per_s(self) -> float:
        """Peak arithmetic rate of all cores."""
        return self.cores * self.clock_hz * self.ops_per_cycle


class HostLinkConfig(StrictModel):
    """The host-device link (PCIe, AXI, Ethernet)."""

    bandwidth_bytes_per_s: PositiveBytesPerSecond = Field(description="sustained, one way")
    sync_latency_s: NonNegativeSeconds = Field(
        description="per crossing: hand-off time (interrupt or poll, DMA set-up, latency)"
    )
    energy_j_per_bit: NonNegativeJoulesPerBit = Field(description="per bit moved")


class HostConfig(StrictModel):
    """Work outside the modelled chip that every token pays (sampling, host hand-off)."""

    per_token_overhead_s: NonNegativeSeconds = Field(
        default=0.0, description="per token: host time added to its latency"
    )
    runs: list[HostTask] = Field(
        default_factory=list,
        description="work placed on the host CPU: embedding (row lookup), lm_head, "
        "sampling; the rest runs on the chip (sampling on the chip is not modelled)",
    )
    cpu: HostCpuConfig | None = Field(default=None, description="needed when `runs` is given")
    link: HostLinkConfig | None = Field(default=None, description="needed when `runs` is given")
    sampling_ops_per_logit: int = Field(
        default=5,
        ge=0,
        description="sampling work per vocabulary entry (max, subtract, exp, sum, compare)",
    )
    logit_bits: int = Field(default=16, description="bits of one logit sent over the link")

    @model_validator(mode="after")
    def _has_a_cpu(self) -> HostConfig:
        if len(set(self.runs)) != len(self.runs):
            raise ValueError(f"runs: each task at most once; got {self.runs}")
        if self.runs and (self.cpu is None or self.link is None):
            missing = "cpu" if self.cpu is None else "link"
            raise ValueError(
                f"{missing}: placing {', '.join(self.runs)} on the host needs host.cpu "
                "and host.link"
            )
        return self

    def summary(self) -> str:
        """One line for `neurosim validate`: what runs on the host and on what."""
        cpu, link = self.cpu, self.link
        if not self.runs or cpu is None or link is None:
            return "no work placed on the host"
        return (
            f"{', '.join(self.runs)} on {cpu.cores} cores at {cpu.clock_hz / 1e9:g} GHz, "
            f"{cpu.memory_bandwidth_bytes_per_s / 1e9:g} GB/s; link "
            f"{link.bandwidth_bytes_per_s / 1e9:g} GB/s, {link.sync_latency_s * 1e6:g} us per "
            "hand-off"
        )

    def prices(self) -> dict[tuple[str, str], float]:
        """Joules per picosecond of host work and per bit over the link."""
        table = {}
        if self.cpu is not None:
            table[("host", "active_ps")] = self.cpu.active_power_w * 1e-12
        if self.link is not None:
            table[("host_link", "bit")] = self.link.energy_j_per_bit
        return table

    def static_power_w(self) -> float:
        """Idle power of the host CPU (0 without one)."""
        return self.cpu.static_power_w if self.cpu is not None else 0.0


@dataclass(frozen=True)
class TokenShape:
    """What the host work of one token depends on, read from the model."""

    embedding_row_bytes: int
    head_in_features: int
    head_in_levels: int
    head_weights: int
    head_weight_bytes: int
    vocab: int


@dataclass(frozen=True)
class HostWork:
    """Time and events the host adds to every token."""

    compute_s: float
    link_s: float
    crossings: int
    link_bits: int
    overhead_s: float

    @property
    def token_s(self) -> float:
        """Added to every token's latency."""
        return self.compute_s + self.link_s + self.overhead_s

    def counts(self) -> dict[tuple[str, str], int]:
        """Events of one token."""
        out = {}
        if self.compute_s:
            out[("host", "active_ps")] = round(self.compute_s * 1e12)
        if self.link_bits:
            out[("host_link", "bit")] = self.link_bits
        return out


def _roofline_s(cpu: HostCpuConfig, ops: float, nbytes: float) -> float:
    """The slower of the arithmetic and the memory reads."""
    return max(ops / cpu.ops_per_s(), nbytes / cpu.memory_bandwidth_bytes_per_s)


def host_work(host: HostConfig, shape: TokenShape) -> HostWork:
    """What one token costs on the host and its link (nothing placed: only the overhead)."""
    runs = set(host.runs)
    if not runs:
        return HostWork(0.0, 0.0, 0, 0, host.per_token_overhead_s)
    cpu, link = host.cpu, host.link
    assert cpu is not None and link is not None  # checked by HostConfig
    logit_bytes = shape.vocab * host.logit_bits / 8
    compute = 0.0
    if "embedding" in runs:
        compute += _roofline_s(cpu, 0.0, shape.embedding_row_bytes)
    if "lm_head" in runs:
        compute += _roofline_s(cpu, 2.0 * shape.head_weights, shape.head_weight_bytes)
    if "sampling" in runs:
        compute += _roofline_s(cpu, shape.vocab * host.sampling_ops_per_logit, logit_bytes)
    payload_bits = {  # what leaves each step for the next one
        "embedding": shape.embedding_row_bytes * 8,
        "blocks": shape.head_in_features * max(1, math.ceil(math.log2(shape.head_in_levels))),
        "lm_head": shape.vocab * host.logit_bits,
        "sampling": TOKEN_ID_BITS,
    }
    crossings, bits = 0, 0
    for i, step in enumerate(STEPS):
        after = STEPS[(i + 1) % len(STEPS)]
        if (step in runs) != (after in runs):
            crossings += 1
            bits += payload_bits[step]
    link_s = crossings * link.sync_latency_s + bits / 8 / link.bandwidth_bytes_per_s
    return HostWork(compute, link_s, crossings, bits, host.per_token_overhead_s)
