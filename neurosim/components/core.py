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
from neurosim.units import Fraction, NonNegativeJoules


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
    accumulator_bits: int = Field(
        default=16, description="per lane: width of the accumulator (sets its fabric cost)"
    )
    lane_mapping: Literal["packed", "columns"] = Field(
        default="packed",
        description="packed: any accumulations share the lanes (synops / lanes cycles); "
        "columns: the lanes span one input spike's output columns, so each spike takes "
        "ceil(columns / lanes) cycles and a tile narrower than the lanes leaves lanes idle",
    )
    lane_efficiency: Fraction = Field(
        default=1.0,
        gt=0,
        description="fraction of lane cycles doing useful work (operand stalls, bank "
        "conflicts); 1 = every cycle",
    )
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
        cycles_ps = accumulate_cycles(self, synops, spikes) * self.cycle_ps()
        mem_ps = np.ceil(synops * (weight_bits / 8) * mem_ps_per_byte).astype(np.int64)
        return self.with_tile_fill(np.maximum(cycles_ps, mem_ps))

    def fabric_cost(self, device) -> dict[str, dict[str, float]]:
        """LUTs and flip-flops of the lanes (datapath) and of the neuron units and control
        of all units."""
        return lane_fabric_cost(self, self.lanes)

    def fabric_busy_fraction(self, counts, unit_cycles: float) -> float:
        """Synaptic accumulations over the lane-cycles the run had."""
        lane_cycles = self.lanes * self.count * unit_cycles
        return min(1.0, counts.get(("compute", "synop"), 0) / lane_cycles) if lane_cycles else 0.0

    def item_events(self, synops, spikes, tile_cols, weight_bits):
        """One synop and one weight read from on-chip memory per accumulation (bits read
        rounded up to whole bits per item for packed fractional formats)."""
        read_bits = np.ceil(np.asarray(synops) * np.asarray(weight_bits)).astype(np.int64)
        return {
            ("compute", "synop"): synops,
            ("onchip_memory", "read_bit"): read_bits,
        }


LUTS_PER_LANE_EXTRA = 2
"""assumption: a lane is one carry-chain accumulator (a LUT and a flip-flop per bit, the
AMD CLB's adder mapping, UG574/UG1273) plus ~2 LUTs of spike gating and weight decode."""
NEURON_UNIT_LUT_WIDTHS = 3
NEURON_UNIT_FF_WIDTHS = 2
"""assumption: a neuron-update unit is ~3 accumulator-wide operations (integrate,
compare, residual update) in LUTs with 2 accumulator-wide registers."""
UNIT_CONTROL_LUTS = 2000
UNIT_CONTROL_FFS = 3000
"""assumption: per unit, a tile sequencer and an AXI4 DMA master; AMD's AXI DMA IP
alone is in the low thousands of LUTs (PG021 resource tables)."""


def lane_fabric_cost(cfg, lanes_per_unit: int) -> dict[str, dict[str, float]]:
    """Fabric of `count` units: the datapath of `lanes_per_unit` accumulators each (it
    toggles with the work) and the control of each unit, its neuron units included (no
    DSPs: adds map to LUT carry chains)."""
    bits = cfg.accumulator_bits
    neurons = cfg.neuron_updates_per_cycle
    lanes_lut = lanes_per_unit * (bits + LUTS_PER_LANE_EXTRA)
    control_lut = neurons * NEURON_UNIT_LUT_WIDTHS * bits + UNIT_CONTROL_LUTS
    control_ff = neurons * NEURON_UNIT_FF_WIDTHS * bits + UNIT_CONTROL_FFS
    n = cfg.count
    return {
        "datapath": {"lut": float(lanes_lut * n), "ff": float(lanes_per_unit * bits * n)},
        "control": {"lut": float(control_lut * n), "ff": float(control_ff * n)},
    }


def cycle_ps(cfg: SpikingCoreConfig) -> int:
    """Clock period in integer picoseconds (rounded to nearest)."""
    return cfg.cycle_ps()


def accumulate_cycles(
    cfg: SpikingCoreConfig, synops: np.ndarray, spikes: np.ndarray | None = None
) -> np.ndarray:
    """Cycles to perform `synops` accumulations (from `spikes` input spikes, each fanning
    out to synops / spikes columns) on `lanes` adders, as `lane_mapping` assigns them,
    at `lane_efficiency`."""
    synops = np.asarray(synops, dtype=np.int64)
    if cfg.lane_mapping == "columns" and spikes is not None:
        spikes = np.broadcast_to(np.asarray(spikes, dtype=np.int64), synops.shape)
        per_spike = synops // np.maximum(spikes, 1)
        cycles = spikes * -(-per_spike // cfg.lanes)
    else:
        cycles = -(-synops // cfg.lanes)
    if cfg.lane_efficiency < 1.0:
        cycles = np.ceil(cycles / cfg.lane_efficiency).astype(np.int64)
    return cycles


def neuron_update_cycles(cfg, updates: np.ndarray) -> np.ndarray:
    """Cycles to update `updates` neurons at `neuron_updates_per_cycle`."""
    return cfg.neuron_update_cycles(updates)


class SpikingCore(ComputeUnit):
    """One spiking core: its items take the time the planner gave them."""
