"""Attention engine: the units that run softmax attention's scores, softmax and weighted sum.

Spike-gated accumulators and in-memory arrays have no multipliers or exponentials, so a
chip that runs softmax attention names the units that do (vector processors, DSP blocks)
in this section. Owns its config, its timing (one engine for the whole chip: the work of
a block is spread over all its units), its prices and its SimPy model.
"""

from __future__ import annotations

import math

from pydantic import Field

from neurosim.config.base import StrictModel
from neurosim.engine import PS_PER_S, SimContext
from neurosim.units import NonNegativeJoules, NonNegativeWatts, PositiveHertz

COMPONENT = "attention"
"""Ledger component of the attention engine's events."""


class AttentionEnergy(StrictModel):
    """Energy per counted event of the attention engine."""

    mac_j: NonNegativeJoules = Field(description="one multiply-accumulate (score or weighted sum)")
    exp_j: NonNegativeJoules = Field(description="one exponential of the softmax")


class AttentionEngineConfig(StrictModel):
    """Per chip: `count` units, each doing `macs_per_cycle` multiply-accumulates and
    `exps_per_cycle` exponentials per cycle; the score, softmax and weighted sum of a block
    run one after another, spread over every unit of every chip."""

    count: int = Field(gt=0, description="per chip: units that run attention")
    clock_hz: PositiveHertz = Field(description="clock of the units")
    macs_per_cycle: int = Field(gt=0, description="per unit: multiply-accumulates per cycle")
    exps_per_cycle: float = Field(
        gt=0, description="per unit: exponentials per cycle (below 1: cycles per exp inverted)"
    )
    energy: AttentionEnergy = Field(description="energy per counted event")
    static_power_w: NonNegativeWatts = Field(description="per chip: leakage of the units")

    def prices(self) -> dict[tuple[str, str], float]:
        """Joules per event."""
        return {
            (COMPONENT, "score_mac"): self.energy.mac_j,
            (COMPONENT, "softmax_exp"): self.energy.exp_j,
            (COMPONENT, "weighted_sum_mac"): self.energy.mac_j,
        }

    def work_ps(self, score_macs: int, exps: int, weighted_macs: int, chips: int = 1) -> int:
        """Time of one block's attention: scores, then softmax, then the weighted sum."""
        units = self.count * chips
        cycles = (
            math.ceil(score_macs / (units * self.macs_per_cycle))
            + math.ceil(exps / (units * self.exps_per_cycle))
            + math.ceil(weighted_macs / (units * self.macs_per_cycle))
        )
        return int(round(cycles * PS_PER_S / self.clock_hz))

    def summary(self) -> str:
        """One line for `neurosim validate`."""
        return (
            f"{self.count} attention units x {self.macs_per_cycle} MAC/cycle at "
            f"{self.clock_hz / 1e6:g} MHz"
        )


class AttentionEngine:
    """SimPy model: one server that holds time for a block's attention and counts it."""

    component = COMPONENT

    def __init__(self, ctx: SimContext, cfg: AttentionEngineConfig) -> None:
        self.ctx = ctx
        self.cfg = cfg
        self.busy_ps = 0

    def run(self, duration_ps: int, events: dict[str, int]):
        """Work for `duration_ps` and count `events` (a SimPy process body)."""
        for event, n in events.items():
            self.ctx.ledger.add(self.component, event, n)
        self.busy_ps += duration_ps
        if duration_ps:
            yield self.ctx.env.timeout(duration_ps)
