"""Analog-to-digital converters shared by crossbar columns through multiplexers."""

from __future__ import annotations

import math

import numpy as np

from neurosim.config.architecture import AdcConfig
from neurosim.engine import PS_PER_S, ReservationTable, SimContext


def conversion_ps(cfg: AdcConfig, columns: int) -> int:
    """Time to digitise `columns` column outputs: converters work in parallel, each
    serially over the columns multiplexed onto it (at most `columns_per_adc`)."""
    if columns == 0:
        return 0
    rounds = math.ceil(columns / cfg.count)
    return rounds * int(round(cfg.conversion_time_s * PS_PER_S))


def columns_capacity(cfg: AdcConfig) -> int:
    """Columns the converter bank serves: count x columns_per_adc."""
    return cfg.count * cfg.columns_per_adc


class AdcBank:
    """All converters of a tile as one FIFO-shared server; counts conversions."""

    component = "adc"

    def __init__(self, ctx: SimContext, cfg: AdcConfig) -> None:
        self.ctx = ctx
        self.cfg = cfg
        self.table = ReservationTable(1, ctx.contention)

    def convert(self, columns: int):
        """Digitise `columns` column outputs (a SimPy process body)."""
        if columns > columns_capacity(self.cfg):
            raise ValueError(
                f"{columns} columns exceed the bank's {columns_capacity(self.cfg)} "
                f"({self.cfg.count} ADCs x {self.cfg.columns_per_adc} columns each)"
            )
        self.ctx.ledger.add(self.component, "conversion", columns)
        now = self.ctx.env.now
        dur = np.array([conversion_ps(self.cfg, columns)], dtype=np.int64)
        finish = self.table.reserve(now, np.array([0]), dur)
        if finish > now:
            yield self.ctx.env.timeout(finish - now)
