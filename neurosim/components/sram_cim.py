"""Digital SRAM compute-in-memory tile: bitwise products and adder trees in the macro.

Owns its config section, the macro activation time and the events and prices of the
macros and their column accumulators. No ADC: the adder trees are digital.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from neurosim.components.compute import ArraySection
from neurosim.config.base import StrictModel
from neurosim.engine import seconds_to_ps
from neurosim.units import NonNegativeJoules, PositiveSeconds


class SramCimEnergy(StrictModel):
    """Energy per counted event of a digital SRAM compute-in-memory macro."""

    mac_j: NonNegativeJoules = Field(description="one 1-bit input x 1-bit weight operation")
    column_accumulate_j: NonNegativeJoules = Field(
        description="one column's adder-tree output and accumulation per activation"
    )
    neuron_update_j: NonNegativeJoules = Field(description="one neuron update in one timestep")
    state_update_j: NonNegativeJoules = Field(
        description="one element update or read of a linear-attention recurrent state"
    )


class SramCimTileConfig(ArraySection):
    """Digital SRAM compute-in-memory tile: `arrays_per_tile` macros of rows x cols bit
    cells; a w-bit weight uses w columns."""

    kind: Literal["sram_cim_tile"] = "sram_cim_tile"
    cycle_time_s: PositiveSeconds = Field(description="per macro: one activation (input vector)")
    energy: SramCimEnergy = Field(description="energy per counted event")
    accumulator_bits: int | None = Field(
        default=None,
        description="width of a column's adder-tree output per activation: signed partial "
        "sums beyond it saturate (default: wide enough for any sum). Accuracy model only",
    )

    def accuracy_numbers(self, adc) -> dict | None:
        """Digital bit cells: exact sums, saturated at the accumulator's width if given."""
        return {
            "kind": "sram_cim",
            "rows": self.rows,
            "bits_per_cell": 1,
            "conductance_levels": 2,
            "accumulator_bits": self.accumulator_bits,
        }

    def prices(self) -> dict[tuple[str, str], float]:
        """Joules per event."""
        e = self.energy
        return {
            ("compute", "neuron_update"): e.neuron_update_j,
            ("compute", "state_update"): e.state_update_j,
            ("array", "mac"): e.mac_j,
            ("periphery", "accumulate"): e.column_accumulate_j,
        }

    def activation_ps(self) -> int:
        """One macro activation."""
        return seconds_to_ps(self.cycle_time_s)

    def array_events(self, ops, cols_on, rows_on):
        """Bitwise products and one adder-tree output per active column."""
        return {("array", "mac"): ops, ("periphery", "accumulate"): cols_on}
