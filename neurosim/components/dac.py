"""Row drivers and DACs of an analog crossbar: what driving the rows costs.

Binary spikes drive a row with a 1-bit driver; `input_bits` > 1 needs a multi-bit DAC
conversion per active row as well, and as many bit-serial array reads.
"""

from __future__ import annotations

import numpy as np


def dac_events(rows_on: np.ndarray, input_bits: int) -> dict[tuple[str, str], np.ndarray]:
    """Row drives (one per active row) and, for multi-bit inputs, DAC conversions."""
    events = {("dac", "row_drive"): rows_on}
    if input_bits > 1:
        events[("dac", "conversion")] = rows_on
    return events


def dac_prices(row_drive_j: float, dac_j: float) -> dict[tuple[str, str], float]:
    """Joules per row drive and per multi-bit conversion."""
    return {("dac", "row_drive"): row_drive_j, ("dac", "conversion"): dac_j}


def reads_per_input(input_bits: int) -> int:
    """Array reads per input vector: one per input bit (bit-serial)."""
    return input_bits
