"""Names of metrics and swept fields: their physical dimension, readable titles and values
(metrics from the registry in `neurosim.results.metrics`)."""

from __future__ import annotations

import math

from neurosim.results.metrics import METRICS
from neurosim.units import format_quantity

__all__ = ["RUN_TITLES", "dimension_of", "format_value", "metric_title"]

RUN_TITLES = {
    "batch": "batch (sequences decoded together)",
    "prompt_tokens": "prompt tokens per sequence",
    "context_tokens": "context tokens cached before the prompt",
    "attention": "token mixer",
}
"""Readable titles of the run-shape options a sweep may vary (`run.batch`, ...)."""

# field-name suffix -> dimension of neurosim.units, longest first
_SUFFIXES = (
    ("_bytes_per_s", "bandwidth"),
    ("_j_per_bit", "energy_per_bit"),
    ("_j_per_token", "energy"),
    ("_bytes_per_token", "bytes"),
    ("_hz", "frequency"),
    ("_bytes", "bytes"),
    ("_m2", "area"),
    ("_s", "time"),
    ("_j", "energy"),
    ("_w", "power"),
)


def dimension_of(name: str) -> str | None:
    """Physical dimension of a metric (from the registry) or of a field (from its name's
    unit suffix), else None.

    ``compute.clock_hz`` -> frequency, ``latency_mean_s`` -> time; rates such as
    ``tokens_per_s`` and ``tokens_per_j`` are plain numbers (None).
    """
    if name in METRICS:
        return METRICS[name].dimension
    last = str(name).rsplit(".", 1)[-1].split("[", 1)[0]
    if last.startswith("tokens_per_"):
        return None
    for suffix, dim in _SUFFIXES:
        if last.endswith(suffix):
            return dim
    return None


def format_value(value: object, name: str, digits: int = 4) -> str:
    """A value of metric or field `name` as text, with units when the name gives them."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value)  # numpy scalars
        except (TypeError, ValueError):
            return str(value)
    if math.isnan(value):
        return "n/a"
    dim = dimension_of(name)
    if dim is not None:
        return format_quantity(float(value), dim, digits)
    if float(value).is_integer() and abs(value) < 1e7:
        return str(int(value))
    return f"{float(value):.{digits}g}"


def metric_title(metric: str, sense: str | None = None) -> str:
    """Readable title of a metric (from the registry; the unit is added when values carry
    none of their own), with which way is better when `sense` is given."""
    m = METRICS.get(metric)
    if metric.startswith("run.") and metric[4:] in RUN_TITLES:
        text = RUN_TITLES[metric[4:]]
    elif m is None:
        text = metric.replace("_", " ")
    else:
        text = m.label if m.dimension is None and m.unit else m.title
    if sense == "min":
        text += "  (lower is better)"
    elif sense == "max":
        text += "  (higher is better)"
    return text
