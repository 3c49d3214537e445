"""What every compute kind answers: the planner, the builder and pricing ask these
methods, never the config's type. Each kind is one module registered in `registry`.

Two families: streaming kinds (spiking cores, near-memory engines) accumulate weights
that are placed as tiles on chip or streamed from DRAM; weight-stationary kinds
(crossbar, SRAM-CIM) hold every weight in arrays that compute in place.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import simpy
from pydantic import Field

from neurosim.config.base import StrictModel
from neurosim.engine import PS_PER_S, SimContext, seconds_to_ps
from neurosim.units import NonNegativeSeconds, NonNegativeWatts, PositiveHertz, SquareMeters


class ComputeSection(StrictModel):
    """Fields and answers shared by every compute kind (one of `count` units per chip)."""

    weight_stationary: ClassVar[bool] = False  # weights live in arrays, placed as arrays
    uses_adc: ClassVar[bool] = False  # array outputs go through the `adc` section

    count: int = Field(gt=0, description="per chip: compute units (tiles, cores)")
    clock_hz: PositiveHertz = Field(description="clock of the unit's digital logic")
    neuron_updates_per_cycle: int = Field(gt=0, description="per unit: neuron updates per cycle")
    pipeline_depth_cycles: int = Field(
        ge=0, description="fill/drain cycles of the unit's pipeline (when: `pipeline_fill`)"
    )
    layer_overhead_s: NonNegativeSeconds = Field(
        default=0.0,
        description="per layer (site group) per unit holding it: fixed time for dispatch, "
        "descriptor set-up or reconfiguration, paid after the layer's work",
    )
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

    def layer_end_ps(self, cycle_ps: int) -> int:
        """Paid once per layer per unit holding it: the pipeline drain (when it drains per
        layer) plus the fixed per-layer overhead."""
        return self.pipeline_depth_cycles * cycle_ps + seconds_to_ps(self.layer_overhead_s)

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

    def fabric_cost(self, device) -> dict[str, dict[str, float]] | None:
        """FPGA resources of all units of one chip, as {"datapath": ..., "control": ...}:
        the datapath toggles with the counted work, the control at the default rate
        (None: this kind is not built from FPGA fabric)."""
        return None

    def fabric_busy_fraction(self, counts, unit_cycles: float) -> float:
        """Share of datapath cycles doing work, from the run's event `counts` over
        `unit_cycles` clock cycles of one unit (summed over chips)."""
        return 0.0

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
    pipeline_fill: Literal["per_layer", "per_tile"] = Field(
        default="per_layer",
        description="per_layer: the pipeline fills and drains once per layer; per_tile: "
        "every (tile, timestep) item that works pays pipeline_depth_cycles (the pipeline "
        "drains between tiles), and the layer end pays none",
    )

    def layer_end_ps(self, cycle_ps: int) -> int:
        """The per-layer drain only when the pipeline drains per layer."""
        drain = self.pipeline_depth_cycles * cycle_ps if self.pipeline_fill == "per_layer" else 0
        return drain + seconds_to_ps(self.layer_overhead_s)

    def with_tile_fill(self, item_ps: np.ndarray) -> np.ndarray:
        """`item_ps` plus the pipeline fill and drain of every working item (per_tile)."""
        if self.pipeline_fill != "per_tile":
            return item_ps
        return np.where(item_ps > 0, item_ps + self.pipeline_depth_cycles * self.cycle_ps(), 0)

    @abstractmethod
    def item_ps(
        self,
        synops: np.ndarray,
        spikes: np.ndarray,
        tile_cols: np.ndarray,
        weight_bits: np.ndarray,
        mem_ps_per_byte: float,
    ) -> np.ndarray:
        """Time of (tile, timestep) items: `synops` accumulations from `spikes` input
        spikes into tiles of `tile_cols` outputs of `weight_bits` bits per weight (per
        tile, fractional for packed formats); `mem_ps_per_byte` is one unit's share of
        on-chip memory bandwidth."""

    @abstractmethod
    def item_events(
        self, synops: np.ndarray, spikes: np.ndarray, tile_cols: np.ndarray, weight_bits
    ) -> dict[tuple[str, str], np.ndarray]:
        """Named events of the same items."""


@dataclass(frozen=True)
class WeightWrite:
    """How an array kind rewrites stored weights: the event one cell write counts (one per
    pulse), the time to program one array row, pulses per write (program and verify) and
    the writes a cell survives (inf: no wear limit)."""

    event: tuple[str, str]
    row_ps: int
    pulses: int = 1
    endurance_cycles: float = math.inf


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

    def weight_write(self) -> WeightWrite:
        """SRAM cells by default: one bit written per cell at the on-chip SRAM's write energy,
        one row per array activation, no wear limit."""
        return WeightWrite(event=("onchip_memory", "write_bit"), row_ps=self.activation_ps())

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

    def items_end(self, work, i0: int, n: int, start: int, total_ps: int) -> int:
        """When items i0..i0+n-1 (one tile's timesteps, `total_ps` together), begun one
        after another at `start` with nothing to wait for, are done."""
        return start + total_ps

    def charged_events(self, work) -> list[tuple[str, str]]:
        """The item events this unit charges itself (others count the rest)."""
        return list(work.item_events)

    def count(self, events: dict[tuple[str, str], int]) -> None:
        """Count `events` this unit performed."""
        for (component, event), n in events.items():
            self.ctx.ledger.add(component, event, n)

    def hold(self, duration_ps: int) -> simpy.Event | None:
        """Work for `duration_ps`: the timeout that ends it (None for no work)."""
        self.busy_ps += duration_ps
        return simpy.Timeout(self.ctx.env, duration_ps) if duration_ps else None

    def compute(self, duration_ps: int, events: dict[tuple[str, str], int] | None = None):
        """Work for `duration_ps` and count `events` (a SimPy process body)."""
        self.count(events or {})
        done = self.hold(duration_ps)
        if done is not None:
            yield done

    def finish_layer(self, duration_ps: int, neuron_updates: int, state_updates: int):
        """Pipeline drain, neuron updates and recurrent-state work at the end of a group."""
        self.ctx.ledger.add(self.component, "neuron_update", neuron_updates)
        self.ctx.ledger.add(self.component, "state_update", state_updates)
        self.busy_ps += duration_ps
        if duration_ps:
            yield self.ctx.env.timeout(duration_ps)
