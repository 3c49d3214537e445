"""Spiking compute unit: event-driven synaptic accumulation and neuron updates."""

from __future__ import annotations

import numpy as np

from neurosim.config.architecture import SpikingCoreConfig
from neurosim.engine import PS_PER_S, SimContext


def cycle_ps(cfg: SpikingCoreConfig) -> int:
    """Clock period in integer picoseconds (rounded to nearest)."""
    return int(round(PS_PER_S / cfg.clock_hz))


def accumulate_cycles(cfg: SpikingCoreConfig, synops: np.ndarray) -> np.ndarray:
    """Cycles to perform `synops` accumulations on `lanes` parallel adders."""
    return -(-np.asarray(synops, dtype=np.int64) // cfg.lanes)


def neuron_update_cycles(cfg: SpikingCoreConfig, updates: np.ndarray) -> np.ndarray:
    """Cycles to update `updates` neurons at `neuron_updates_per_cycle`."""
    return -(-np.asarray(updates, dtype=np.int64) // cfg.neuron_updates_per_cycle)


class SpikingCore:
    """One compute unit: holds time for its work and counts what it did."""

    component = "compute"

    def __init__(self, ctx: SimContext, cfg: SpikingCoreConfig, index: int) -> None:
        self.ctx = ctx
        self.cfg = cfg
        self.index = index
        self.busy_ps = 0

    def compute(self, duration_ps: int, events: dict[tuple[str, str], int] | None = None):
        """Accumulate spikes into outputs for `duration_ps` (a SimPy process body).

        `events` are what the work counts: synops and weight bits read for a spiking core,
        array reads, conversions and periphery operations for an in-memory tile.
        """
        for (component, event), n in (events or {}).items():
            self.ctx.ledger.add(component, event, n)
        self.busy_ps += duration_ps
        if duration_ps:
            yield self.ctx.env.timeout(duration_ps)

    def finish_layer(self, duration_ps: int, neuron_updates: int, state_updates: int):
        """Pipeline drain, neuron updates and recurrent-state work at the end of a group."""
        self.ctx.ledger.add(self.component, "neuron_update", neuron_updates)
        self.ctx.ledger.add(self.component, "state_update", state_updates)
        self.busy_ps += duration_ps
        if duration_ps:
            yield self.ctx.env.timeout(duration_ps)
