"""Spiking core: a digital, event-driven unit accumulating spikes into its outputs.

Owns its config section, its timing (lanes of adders, on-chip weight reads), its
prices (synop, neuron update, state update) and its SimPy model.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from neurosim.components.compute import ComputeUnit, StreamingSection
from neurosim.config.base import StrictModel
from neurosim.engine import SimContext
from neurosim.units import NonNegativeJoules


class CoreEnergy(StrictModel):
    """Energy per counted event of a spiking core."""

    synop_j: NonNegativeJoules = Field(description="one synaptic accumulate (spike x weight add)")
    neuron_update_j: NonNegativeJoules = Field(description="one neuron update in one timestep")
    state_update_j: NonNegativeJoules = Field(
        description="one element update or read of a linear-attention recurrent state"
    )


class SpikingCoreConfig(StreamingSection):
    """A digital, event-driven spiking compute unit (one of `count` identical units)."""

    kind: Literal["spiking_core"] = "spiking_core"
    lanes: int = Field(gt=0, description="per unit: synaptic accumulations per cycle")
    energy: CoreEnergy = Field(description="energy per counted event")

    def prices(self) -> dict[tuple[str, str], float]:
        """Joules per event."""
        e = self.energy
        return {
            ("compute", "synop"): e.synop_j,
            ("compute", "neuron_update"): e.neuron_update_j,
            ("compute", "state_update"): e.state_update_j,
        }

    def unit_model(self, ctx: SimContext, index: int, adc_bank=None) -> SpikingCore:
        """A spiking core."""
        return SpikingCore(ctx, self, index)

    def summary(self) -> str:
        """Adders and clock of one unit."""
        return f"{self.lanes} lanes at {self.clock_hz / 1e6:g} MHz"

    def state_ops_per_cycle(self) -> int:
        """State elements go through the synaptic adders."""
        return self.lanes

    def item_ps(self, synops, spikes, tile_cols, weight_bits, mem_ps_per_byte):
        """The slower of the adders (`lanes` per cycle) and the weight reads."""
        cycles_ps = accumulate_cycles(self, synops) * self.cycle_ps()
        mem_ps = np.ceil(synops * (weight_bits / 8) * mem_ps_per_byte).astype(np.int64)
        return np.maximum(cycles_ps, mem_ps)

    def item_events(self, synops, spikes, tile_cols, weight_bits):
        """One synop and one weight read from on-chip memory per accumulation (bits read
        rounded up to whole bits per item for packed fractional formats)."""
        read_bits = np.ceil(np.asarray(synops) * np.asarray(weight_bits)).astype(np.int64)
        return {
            ("compute", "synop"): synops,
            ("onchip_memory", "read_bit"): read_bits,
        }


def cycle_ps(cfg: SpikingCoreConfig) -> int:
    """Clock period in integer picoseconds (rounded to nearest)."""
    return cfg.cycle_ps()


def accumulate_cycles(cfg: SpikingCoreConfig, synops: np.ndarray) -> np.ndarray:
    """Cycles to perform `synops` accumulations on `lanes` parallel adders."""
    return -(-np.asarray(synops, dtype=np.int64) // cfg.lanes)


def neuron_update_cycles(cfg, updates: np.ndarray) -> np.ndarray:
    """Cycles to update `updates` neurons at `neuron_updates_per_cycle`."""
    return cfg.neuron_update_cycles(updates)


class SpikingCore(ComputeUnit):
    """One spiking core: its items take the time the planner gave them."""
