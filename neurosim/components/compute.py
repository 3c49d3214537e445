"""What every compute kind answers: the planner, the builder and pricing ask these
methods, never the config's type. Each kind is one module registered in `registry`.

Two families: streaming kinds (spiking cores, near-memory engines) accumulate weights
that are placed as tiles on chip or streamed from DRAM; weight-stationary kinds
(crossbar, SRAM-CIM) hold every weight in arrays that compute in place.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import numpy as np
from pydantic import Field

from neurosim.config.base import StrictModel
from neurosim.engine import PS_PER_S, SimContext
from neurosim.units import NonNegativeWatts, PositiveHertz, SquareMeters


class ComputeSection(StrictModel):
    """Fields and answers shared by every compute kind (one of `count` units per chip)."""

    weight_stationary: ClassVar[bool] = False  # weights live in arrays, placed as arrays
    uses_adc: ClassVar[bool] = False  # array outputs go through the `adc` section

    count: int = Field(gt=0, description="per chip: compute units (tiles, cores)")
    clock_hz: PositiveHertz = Field(description="clock of the unit's digital logic")
    neuron_updates_per_cycle: int = Field(gt=0, description="per unit: neuron updates per cycle")
    pipeline_depth_cycles: int = Field(ge=0, description="fill/drain cycles paid once per layer")
    static_power_w: NonNegativeWatts = Field(description="per chip: leakage of all units together")

    @abstractmethod
    def prices(self) -> dict[tuple[str, str], float]:
        """Joules per (component, event) this kind emits."""

    @abstractmethod
    def summary(self) -> str:
        """One line on one unit, for `neurosim validate`."""

    def cycle_ps(self) -> int:
        """Clock period in integer picoseconds (rounded to nearest)."""
        return int(round(PS_PER_S / self.clock_hz))

    def neuron_update_cycles(self, updates: np.ndarray) -> np.ndarray:
        """Cycles to update `updates` neurons at `neuron_updates_per_cycle`."""
        return -(-np.asarray(updates, dtype=np.int64) // self.neuron_updates_per_cycle)

    def state_ops_per_cycle(self) -> int:
        """Recurrent-state element operations one unit performs per cycle."""
        return self.neuron_updates_per_cycle

    def area_m2(self, arrays: int) -> dict[str, float]:
        """Area of the parts this kind states (per part name), for `arrays` arrays."""
        return {}

    def converters_per_chip(self, adc) -> int:
        """ADCs on one chip for this kind (kinds without arrays: the adc section's count)."""
        return adc.count

    def section_problem(self, adc) -> str | None:
        """A cross-section inconsistency ("key: message"), or None."""
        return None

    def accuracy_numbers(self, adc) -> dict | None:
        """What the accuracy model (`neurosim.trace.analog`) needs of this kind's arrays:
        None for kinds whose sums are exact digital arithmetic."""
        return None

    def unit_model(self, ctx: SimContext, index: int, adc_bank=None) -> ComputeUnit:
        """The SimPy model of unit `index` (the builder passes the ADC banks, if any)."""
        return ComputeUnit(ctx, self, index)


class StreamingSection(ComputeSection):
    """A kind whose weight tiles sit in on-chip memory or stream from DRAM."""

    skip_zero_weights: bool = Field(
        default=True, description="zero weights cost no work (needs a sparse weight format)"
    )

    @abstractmethod
    def item_ps(
        self,
        synops: np.ndarray,
        spikes: np.ndarray,
        tile_cols: np.ndarray,
        weight_bits: int,
        mem_ps_per_byte: float,
    ) -> np.ndarray:
        """Time of (tile, timestep) items: `synops` accumulations from `spikes` input
        spikes into tiles of `tile_cols` outputs; `mem_ps_per_byte` is one unit's share
        of on-chip memory bandwidth."""

    @abstractmethod
    def item_events(
        self, synops: np.ndarray, spikes: np.ndarray, tile_cols: np.ndarray, weight_bits: int
    ) -> dict[tuple[str, str], np.ndarray]:
        """Named events of the same items."""


class ArraySection(ComputeSection):
    """A weight-stationary kind: weights are cut into rows x cols arrays computing in place."""

    weight_stationary: ClassVar[bool] = True

    arrays_per_tile: int = Field(gt=0, description="per unit: arrays (macros)")
    rows: int = Field(gt=0, description="per array: word lines (inputs)")
    cols: int = Field(gt=0, description="per array: bit lines (output columns)")
    array_area_m2: SquareMeters | None = Field(default=None, ge=0, description="per array: area")

    def summary(self) -> str:
        """Arrays of one unit."""
        return f"{self.arrays_per_tile} arrays of {self.rows} x {self.cols} per tile"

    def columns_per_weight(self, weight_bits: int) -> int:
        """Array columns one weight occupies."""
        return weight_bits

    @abstractmethod
    def activation_ps(self) -> int:
        """One array activation (read), before any conversion."""

    @abstractmethod
    def array_events(
        self, ops: np.ndarray, cols_on: np.ndarray, rows_on: np.ndarray
    ) -> dict[tuple[str, str], np.ndarray]:
        """Named events of items doing `ops` cell operations on `cols_on` active columns
        driven by `rows_on` active rows."""

    def area_m2(self, arrays: int) -> dict[str, float]:
        """Area of the arrays, when stated."""
        return {} if self.array_area_m2 is None else {"arrays": self.array_area_m2 * arrays}


class ComputeUnit:
    """SimPy model of one compute unit: holds time for its work and counts what it did."""

    component = "compute"

    def __init__(self, ctx: SimContext, cfg: ComputeSection, index: int) -> None:
        self.ctx = ctx
        self.cfg = cfg
        self.index = index
        self.busy_ps = 0

    def item_end(self, work, i: int, start: int) -> int:
        """When work item i (a tile at one timestep), begun at `start`, is done."""
        return start + int(work.item_ps[i])

    def tile_events(self, work, i0: int, n: int) -> dict[tuple[str, str], int]:
        """Events of items i0..i0+n-1 that this unit charges itself."""
        return {key: int(v[i0 : i0 + n].sum()) for key, v in work.item_events.items()}

    def compute(self, duration_ps: int, events: dict[tuple[str, str], int] | None = None):
        """Work for `duration_ps` and count `events` (a SimPy process body)."""
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
