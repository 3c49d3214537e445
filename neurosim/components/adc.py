"""Analog-to-digital converters: config, timing/energy/area model, and the DES bank.

Model (used for whatever a preset does not pin with a measured value):

- time: a SAR converter resolves one bit per cycle, so one conversion takes
  `bits x sar_cycle_s`; the sample rate is its inverse.
- energy: a Walden figure of merit gives E = FOM_W x 2^ENOB; a Schreier figure of merit
  gives E = 1 / (2 x 10^((FOM_S - SNDR) / 10)) with SNDR = 6.02 ENOB + 1.76 dB; with
  neither, the Schreier FOM is the ADC-survey bound at the sample rate (`SURVEY_FIT`).
- area: the survey regression of `SURVEY_FIT` from sample rate, technology node, bits
  and energy per conversion.

`SURVEY_FIT` holds the coefficients Andrulis, Emer and Sze fitted to B. Murmann's ADC
Performance Survey ("Modeling Analog-Digital-Converter Energy and Area for
Compute-In-Memory Accelerator Design", arXiv:2404.06553, 2024; published with the
Accelergy ADC plug-in, adc_data/model.yaml). They are optimistic (best designs).
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field, model_validator

from neurosim.config.base import StrictModel
from neurosim.engine import ReservationTable, SimContext, seconds_to_ps
from neurosim.units import NonNegativeJoules, NonNegativeWatts, PositiveSeconds, SquareMeters

SURVEY_FIT = {
    # Schreier FOM bound (dB) = min(intercept + slope x ln(f_s / Hz), max)
    "foms_intercept_db": 302.7387019052544,
    "foms_per_ln_hz": -6.460790934271676,
    "foms_max_db": 180.14159078904734,
    # ln(area / um^2) = intercept + a ln(f_s/Hz) + b ln(node/nm) + c bits + d ln(E/pJ)
    "area_intercept": 4.850567073004403,
    "area_per_ln_hz": 0.06665851895885958,
    "area_per_ln_nm": 0.797323960429599,
    "area_per_bit": -0.13437278622014803,
    "area_per_ln_pj": 0.4236571760437834,
}


def sndr_db(enob: float) -> float:
    """Signal-to-noise-and-distortion ratio of an ideal converter of `enob` bits."""
    return 6.02 * enob + 1.76


def schreier_energy_j(foms_db: float, enob: float) -> float:
    """Energy per conversion from a Schreier FOM: FOM_S = SNDR + 10 log10(f_s / 2P)."""
    return 1.0 / (2.0 * 10.0 ** ((foms_db - sndr_db(enob)) / 10.0))


def survey_foms_db(sample_rate_hz: float) -> float:
    """Best Schreier FOM the survey shows at `sample_rate_hz` (falls at high rates)."""
    fit = SURVEY_FIT
    return min(
        fit["foms_intercept_db"] + fit["foms_per_ln_hz"] * math.log(sample_rate_hz),
        fit["foms_max_db"],
    )


def survey_area_m2(sample_rate_hz: float, tech_node_nm: float, bits: int, energy_j: float):
    """One converter's area from the survey regression."""
    fit = SURVEY_FIT
    ln_um2 = (
        fit["area_intercept"]
        + fit["area_per_ln_hz"] * math.log(sample_rate_hz)
        + fit["area_per_ln_nm"] * math.log(tech_node_nm)
        + fit["area_per_bit"] * bits
        + fit["area_per_ln_pj"] * math.log(energy_j * 1e12)
    )
    return math.exp(ln_um2) * 1e-12


class AdcConfig(StrictModel):
    """Analog-to-digital converters reading the columns of crossbar arrays.

    Each array (or each bank of `arrays_per_bank` arrays) has `count` converters; each
    converter serves `columns_per_adc` columns one after another.
    """

    bits: int = Field(gt=0, le=24, description="resolution in bits")
    enob: float | None = Field(
        default=None, gt=0, description="effective number of bits; default = bits"
    )
    conversion_time_s: PositiveSeconds | None = Field(
        default=None, description="measured time of one conversion (pins the time model)"
    )
    sar_cycle_s: PositiveSeconds | None = Field(
        default=None,
        description="one successive-approximation step; a conversion takes bits steps",
    )
    energy_per_conversion_j: NonNegativeJoules | None = Field(
        default=None, description="measured energy of one conversion (pins the energy model)"
    )
    walden_fom_j_per_step: NonNegativeJoules | None = Field(
        default=None, description="Walden figure of merit: E = FOM x 2^ENOB"
    )
    schreier_fom_db: float | None = Field(
        default=None, gt=0, description="Schreier figure of merit in dB (FOM_S)"
    )
    columns_per_adc: int = Field(
        gt=0, description="columns multiplexed onto one converter, converted one after another"
    )
    count: int = Field(gt=0, description="per array (per bank when shared): converters")
    arrays_per_bank: int = Field(
        default=1,
        gt=0,
        description="arrays sharing one bank of `count` converters, served first come first "
        "served; must divide compute.arrays_per_tile",
    )
    area_m2: SquareMeters | None = Field(
        default=None, ge=0, description="per converter: measured area (pins the area model)"
    )
    tech_node_nm: float | None = Field(
        default=None, gt=0, description="technology node, for the survey area fit"
    )
    static_power_w: NonNegativeWatts = Field(description="per converter: leakage and bias")
    full_scale_fraction: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="input range: the converter reads column sums within +-this fraction "
        "of the largest one the array can produce (every row driven, every cell at G_max) "
        "and clips the rest; its bits divide that range. Accuracy model only",
    )

    @model_validator(mode="after")
    def _one_source_each(self) -> AdcConfig:
        if (self.conversion_time_s is None) == (self.sar_cycle_s is None):
            raise ValueError(
                "give exactly one of conversion_time_s (measured) or sar_cycle_s "
                "(time model: bits x sar_cycle_s)"
            )
        energies = ["energy_per_conversion_j", "walden_fom_j_per_step", "schreier_fom_db"]
        given = [k for k in energies if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(
                f"{', '.join(given)}: give at most one energy source (none: the ADC-survey "
                "Schreier bound at the sample rate)"
            )
        return self

    @property
    def effective_bits(self) -> float:
        """ENOB, defaulting to the nominal resolution."""
        return self.enob if self.enob is not None else float(self.bits)

    @property
    def conversion_s(self) -> float:
        """Time of one conversion: measured, or bits SAR cycles."""
        if self.conversion_time_s is not None:
            return self.conversion_time_s
        return self.bits * self.sar_cycle_s

    @property
    def sample_rate_hz(self) -> float:
        """Conversions per second of one converter."""
        return 1.0 / self.conversion_s

    @property
    def conversion_energy_j(self) -> float:
        """Energy of one conversion (measured, Walden, Schreier, or the survey bound)."""
        if self.energy_per_conversion_j is not None:
            return self.energy_per_conversion_j
        if self.walden_fom_j_per_step is not None:
            return self.walden_fom_j_per_step * 2.0**self.effective_bits
        foms = self.schreier_fom_db
        if foms is None:
            foms = survey_foms_db(self.sample_rate_hz)
        return schreier_energy_j(foms, self.effective_bits)

    @property
    def area_per_adc_m2(self) -> float | None:
        """One converter's area: measured, or the survey fit (needs tech_node_nm)."""
        if self.area_m2 is not None:
            return self.area_m2
        if self.tech_node_nm is None:
            return None
        return survey_area_m2(
            self.sample_rate_hz, self.tech_node_nm, self.bits, self.conversion_energy_j
        )

    def prices(self) -> dict[tuple[str, str], float]:
        """Joules per conversion."""
        return {("adc", "conversion"): self.conversion_energy_j}

    def conversion_ps(self) -> int:
        """One conversion in integer picoseconds."""
        return seconds_to_ps(self.conversion_s)

    def array_conversion_ps(self, columns: np.ndarray | int) -> np.ndarray:
        """Time to convert `columns` columns of one array on its `count` converters:
        each converter takes its multiplexed columns one after another."""
        columns = np.asarray(columns, dtype=np.int64)
        return -(-columns // self.count) * self.conversion_ps()

    def converters(self, arrays: int) -> int:
        """Converters serving `arrays` arrays."""
        return -(-arrays // self.arrays_per_bank) * self.count


def conversion_ps(cfg: AdcConfig, columns: int) -> int:
    """Time to digitise `columns` column outputs on one bank (0 for none)."""
    return int(cfg.array_conversion_ps(columns)) if columns else 0


def columns_capacity(cfg: AdcConfig) -> int:
    """Columns one bank serves: count x columns_per_adc."""
    return cfg.count * cfg.columns_per_adc


class AdcBank:
    """Every converter bank of the system as FIFO servers; counts conversions.

    A bank converts one array's columns at a time: arrays sharing a bank wait for it
    first come, first served (when contention is on).
    """

    component = "adc"

    def __init__(self, ctx: SimContext, cfg: AdcConfig, banks: int = 1) -> None:
        self.ctx = ctx
        self.cfg = cfg
        self.table = ReservationTable(banks, ctx.contention)

    def convert_at(
        self, start: int, banks: np.ndarray, durations: np.ndarray, conversions: int
    ) -> int:
        """Book conversions that arrive at `start` (ps) on `banks`, one entry per array
        (entries sorted by bank); return when the last one ends. Banks that appear
        twice serve their arrays one after another."""
        self.ctx.ledger.add(self.component, "conversion", conversions)
        if banks.size > 1 and self.ctx.contention and self.cfg.arrays_per_bank > 1:
            first = np.flatnonzero(np.concatenate(([True], banks[1:] != banks[:-1])))
            banks, durations = banks[first], np.add.reduceat(durations, first)
        return self.table.reserve(start, banks, durations)

    def convert(self, columns: int, bank: int = 0):
        """Digitise `columns` columns of one array on `bank` (a SimPy process body)."""
        if columns > columns_capacity(self.cfg):
            raise ValueError(
                f"{columns} columns exceed the bank's {columns_capacity(self.cfg)} "
                f"({self.cfg.count} ADCs x {self.cfg.columns_per_adc} columns each)"
            )
        now = self.ctx.env.now
        dur = np.array([conversion_ps(self.cfg, columns)], dtype=np.int64)
        finish = self.convert_at(now, np.array([bank]), dur, columns)
        if finish > now:
            yield self.ctx.env.timeout(finish - now)

    @property
    def busy_ps(self) -> np.ndarray:
        """Busy time of each bank."""
        return self.table.busy_time
