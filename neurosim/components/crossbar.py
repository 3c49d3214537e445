"""Analog crossbar tile (ReRAM, PCM): weights stay in bit-sliced arrays, spikes drive
the rows, every column of an array that read is converted by the `adc` section.

Owns its config section, the array read time and the events and prices of the arrays
and their periphery; conversions belong to `components.adc`, row drives to
`components.dac`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_serializer

from neurosim.components.compute import ArraySection, ComputeUnit, WeightWrite
from neurosim.components.dac import dac_events, dac_prices, reads_per_input
from neurosim.config.base import StrictModel
from neurosim.engine import SimContext, seconds_to_ps
from neurosim.units import NonNegativeJoules, NonNegativeSeconds, PositiveSeconds


class CellConfig(StrictModel):
    """A memory cell of an in-memory-compute array."""

    technology: Literal["reram", "pcm", "sram"] = Field(description="cell technology")
    bits_per_cell: int = Field(gt=0, le=8, description="weight bits one cell stores")
    read_energy_j: NonNegativeJoules = Field(description="per cell: one active cell in one read")
    write_energy_j: NonNegativeJoules = Field(description="per cell: programming it once")
    write_time_s: NonNegativeSeconds = Field(description="per array row: programming it")
    endurance_cycles: float = Field(gt=0, description="per cell: writes it survives")
    write_verify_iterations: int = Field(
        default=1,
        ge=1,
        description="per write: program-and-verify pulses a cell takes; each costs "
        "write_energy_j and write_time_s and wears the cell once",
    )

    conductance_levels: int | None = Field(
        default=None,
        ge=2,
        description="distinct conductances a cell can be programmed to, evenly spaced from "
        "off to G_max; a cell's 2^bits_per_cell codes snap to the nearest (default: "
        "2^bits_per_cell, every code has its level). Accuracy model only",
    )
    programming_sigma: float = Field(
        default=0.0,
        ge=0,
        description="programming noise: standard deviation of a programmed conductance as a "
        "fraction of G_max (one draw per cell). Accuracy model only",
    )
    drift_nu: float = Field(
        default=0.0,
        ge=0,
        description="conductance drift exponent: G(t) = G0 (t / drift_t0_s)^-nu at the read "
        "time read_after_programming_s. Accuracy model only",
    )
    drift_nu_sigma: float = Field(
        default=0.0,
        ge=0,
        description="cell-to-cell standard deviation of the drift exponent (each cell draws "
        "its own nu, clipped at 0). Accuracy model only",
    )
    drift_t0_s: PositiveSeconds = Field(
        default=1.0, description="drift reference time t0 after programming"
    )
    read_after_programming_s: PositiveSeconds = Field(
        default=1.0, description="when the weights are read, counted from programming (drift)"
    )
    drift_compensation: bool = Field(
        default=True,
        description="the digital periphery divides column outputs by the mean drift factor "
        "(global drift compensation); false leaves them shrunk",
    )

    @model_serializer(mode="wrap")
    def _single_pulse_dumps_as_before(self, handler, info):
        """One pulse per write (the default) leaves the key out of JSON dumps, keeping
        config hashes."""
        data = handler(self)
        if info.mode == "json" and self.write_verify_iterations == 1 and isinstance(data, dict):
            data.pop("write_verify_iterations", None)
        return data


class CrossbarEnergy(StrictModel):
    """Energy per counted event of an analog crossbar tile's periphery and neuron units."""

    row_drive_j: NonNegativeJoules = Field(
        description="driving one row with a binary spike (1-bit DAC / driver)"
    )
    dac_j: NonNegativeJoules = Field(
        description="one multi-bit DAC conversion (used only when input_bits > 1)"
    )
    sample_hold_j: NonNegativeJoules = Field(description="one column sample-and-hold")
    shift_add_j: NonNegativeJoules = Field(description="one column's digital shift-and-add")
    neuron_update_j: NonNegativeJoules = Field(description="one neuron update in one timestep")
    state_update_j: NonNegativeJoules = Field(
        description="one element update or read of a linear-attention recurrent state"
    )


class CrossbarTileConfig(ArraySection):
    """Analog in-memory-compute tile (ReRAM or PCM crossbars with column ADCs).

    Weights stay in the arrays (bit-sliced over `cell.bits_per_cell` cells); binary spikes
    drive the rows directly; every column of an array whose rows saw a spike is converted
    by the ADCs of `adc`, `adc.columns_per_adc` columns per converter.
    """

    uses_adc: ClassVar[bool] = True

    kind: Literal["crossbar_tile"] = "crossbar_tile"
    cell: CellConfig = Field(description="the memory cell")
    read_time_s: PositiveSeconds = Field(description="per array: one read (integration)")
    input_bits: int = Field(
        default=1, ge=1, description="bits per row input; >1 needs DACs and bit-serial reads"
    )
    energy: CrossbarEnergy = Field(description="energy per counted event")

    def prices(self) -> dict[tuple[str, str], float]:
        """Joules per event of the arrays, row drivers, periphery and neuron units."""
        e = self.energy
        return {
            ("compute", "neuron_update"): e.neuron_update_j,
            ("compute", "state_update"): e.state_update_j,
            ("array", "cell_read"): self.cell.read_energy_j,
            ("array", "cell_write"): self.cell.write_energy_j,
            ("periphery", "sample_hold"): e.sample_hold_j,
            ("periphery", "shift_add"): e.shift_add_j,
        } | dac_prices(e.row_drive_j, e.dac_j)

    def columns_per_weight(self, weight_bits: int) -> int:
        """Bit slices over multi-bit cells."""
        return -(-weight_bits // self.cell.bits_per_cell)

    def weight_write(self) -> WeightWrite:
        """Program-and-verify pulses on the cells, one array row at a time."""
        return WeightWrite(
            event=("array", "cell_write"),
            row_ps=seconds_to_ps(self.cell.write_time_s),
            pulses=self.cell.write_verify_iterations,
            endurance_cycles=self.cell.endurance_cycles,
        )

    def activation_ps(self) -> int:
        """The bit-serial array reads of one input vector (conversions come after)."""
        return seconds_to_ps(self.read_time_s) * reads_per_input(self.input_bits)

    def array_events(self, ops, cols_on, rows_on):
        """Cell reads, row drives, and per converted column a sample-hold, a conversion
        and a shift-add."""
        return {
            ("array", "cell_read"): ops,
            ("adc", "conversion"): cols_on,
            ("periphery", "sample_hold"): cols_on,
            ("periphery", "shift_add"): cols_on,
        } | dac_events(rows_on, self.input_bits)

    def unit_model(self, ctx: SimContext, index: int, adc_bank=None) -> CrossbarTile:
        """A crossbar tile converting through the system's ADC banks."""
        return CrossbarTile(ctx, self, index, adc_bank)

    def converters_per_chip(self, adc) -> int:
        """`adc.count` per bank of `adc.arrays_per_bank` arrays, on every unit."""
        return adc.converters(self.arrays_per_tile) * self.count

    def accuracy_numbers(self, adc) -> dict | None:
        """Analog arrays: cells with noise and drift, read through converters."""
        cell = self.cell
        return {
            "kind": "crossbar",
            "rows": self.rows,
            "bits_per_cell": cell.bits_per_cell,
            "conductance_levels": cell.conductance_levels or 2**cell.bits_per_cell,
            "programming_sigma": cell.programming_sigma,
            "drift_nu": cell.drift_nu,
            "drift_nu_sigma": cell.drift_nu_sigma,
            "drift_time_ratio": cell.read_after_programming_s / cell.drift_t0_s,
            "drift_compensation": cell.drift_compensation,
            "adc_bits": adc.bits,
            "full_scale_fraction": adc.full_scale_fraction,
        }

    def section_problem(self, adc) -> str | None:
        """Crossbars need converters for every column."""
        if adc is None:
            return "adc: a crossbar_tile architecture needs an adc section"
        served = adc.count * adc.columns_per_adc
        if served < self.cols:
            return (
                f"adc.columns_per_adc: {adc.count} ADCs x {adc.columns_per_adc} "
                f"columns serve {served} columns, fewer than the array's "
                f"{self.cols} (compute.cols)"
            )
        if self.arrays_per_tile % adc.arrays_per_bank:
            return (
                f"adc.arrays_per_bank: {adc.arrays_per_bank} does not divide "
                f"compute.arrays_per_tile ({self.arrays_per_tile})"
            )
        return None


class CrossbarTile(ComputeUnit):
    """One crossbar tile: its arrays read, then queue for their ADC banks."""

    def __init__(self, ctx: SimContext, cfg: CrossbarTileConfig, index: int, adc_bank) -> None:
        super().__init__(ctx, cfg, index)
        self.adc_bank = adc_bank

    def item_end(self, work, i: int, start: int) -> int:
        """After the array reads, each array's columns are converted by its bank, first
        come first served among the arrays sharing it."""
        req = work.adc
        a, b = int(req.offsets[i]), int(req.offsets[i + 1])
        return self.adc_bank.convert_at(
            start + req.read_ps,
            req.bank[a:b],
            req.conversion_ps[a:b],
            int(req.columns[a:b].sum()),
        )

    def items_end(self, work, i0: int, n: int, start: int, total_ps: int) -> int:
        """Each item in turn books its conversions (banks are shared, so in order)."""
        end = start
        item_ps = work.item_ps
        for i in range(i0, i0 + n):
            if item_ps[i]:
                end = self.item_end(work, i, end)
        return end

    def charged_events(self, work) -> list[tuple[str, str]]:
        """Everything but the conversions, which the ADC banks count."""
        return [key for key in work.item_events if key != ("adc", "conversion")]
