"""Digital near-memory SRAM engine: adders placed beside SRAM macros read whole weight
words of the rows whose inputs spiked.

Unlike a spiking core (one synaptic add per lane per cycle, zero weights skipped), the
engine's cost is set by words read: a spike on input row r reads row r's weights of
the tile, `word_bits` at a time from one of the unit's `macros` macros, and every word
feeds a `word_bits`-wide adder row in the same cycle. Weights are placed like a spiking
core's: resident in on-chip memory while they fit, streamed from DRAM otherwise.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from neurosim.components.compute import StreamingSection
from neurosim.components.core import lane_fabric_cost
from neurosim.config.base import StrictModel
from neurosim.units import NonNegativeJoules

MIN_WEIGHT_BITS = 2
"""assumption: the adder row is sized for 2-bit weights (the NSLLM's), one adder per weight
of a word; wider weights leave some adders idle."""


class NearMemoryEnergy(StrictModel):
    """Energy per counted event of a near-memory engine."""

    word_read_j: NonNegativeJoules = Field(
        description="reading one word from a macro into its adder row"
    )
    add_j: NonNegativeJoules = Field(description="adding one weight into its output")
    neuron_update_j: NonNegativeJoules = Field(description="one neuron update in one timestep")
    state_update_j: NonNegativeJoules = Field(
        description="one element update or read of a linear-attention recurrent state"
    )


class NearMemoryEngineConfig(StreamingSection):
    """A digital near-memory unit: `macros` SRAM macros, each with a `word_bits` adder row."""

    kind: Literal["near_memory_engine"] = "near_memory_engine"
    macros: int = Field(gt=0, description="per unit: SRAM macros read in parallel")
    word_bits: int = Field(gt=0, description="per macro: bits read (and added) per cycle")
    accumulator_bits: int = Field(
        default=16, description="per adder: width of the accumulator (sets its fabric cost)"
    )
    energy: NearMemoryEnergy = Field(description="energy per counted event")

    def prices(self) -> dict[tuple[str, str], float]:
        """Joules per event."""
        e = self.energy
        return {
            ("near_memory", "word_read"): e.word_read_j,
            ("compute", "synop"): e.add_j,
            ("compute", "neuron_update"): e.neuron_update_j,
            ("compute", "state_update"): e.state_update_j,
        }

    def summary(self) -> str:
        """Macros, word width and clock of one unit."""
        return f"{self.macros} macros of {self.word_bits}-bit words at {self.clock_hz / 1e6:g} MHz"

    def fabric_cost(self, device) -> dict[str, dict[str, float]]:
        """One accumulator per weight of a word beside every macro, sized for the
        narrowest weights (`MIN_WEIGHT_BITS`), plus neuron units and control."""
        return lane_fabric_cost(self, self.macros * (self.word_bits // MIN_WEIGHT_BITS))

    def fabric_busy_fraction(self, counts, unit_cycles: float) -> float:
        """Words read over the macro-cycles the run had."""
        macro_cycles = self.macros * self.count * unit_cycles
        words = counts.get(("near_memory", "word_read"), 0)
        return min(1.0, words / macro_cycles) if macro_cycles else 0.0

    def word_reads(self, spikes: np.ndarray, tile_cols: np.ndarray, weight_bits):
        """Words read: per input spike, the tile's row of weights in whole words (a row of
        packed fractional-bit weights spans ceil(cols x bits / word) words)."""
        row_bits = np.asarray(tile_cols, dtype=np.int64) * np.asarray(weight_bits)
        words_per_row = np.ceil(row_bits / self.word_bits).astype(np.int64)
        return np.asarray(spikes, dtype=np.int64) * words_per_row

    def item_ps(self, synops, spikes, tile_cols, weight_bits, mem_ps_per_byte):
        """Word reads spread over the macros, one word per macro per cycle."""
        words = self.word_reads(spikes, tile_cols, weight_bits)
        return self.with_tile_fill(-(-words // self.macros) * self.cycle_ps())

    def item_events(self, synops, spikes, tile_cols, weight_bits):
        """Word reads and the adds of the (non-skipped) weights."""
        return {
            ("near_memory", "word_read"): self.word_reads(spikes, tile_cols, weight_bits),
            ("compute", "synop"): synops,
        }
