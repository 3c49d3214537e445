"""Physical quantities at the edge of the config: parse "3 ns"-style text into SI floats.

Everything inside the simulator is a plain SI float (seconds, hertz, joules, watts, bytes,
bytes per second, joules per bit, square meters). This module turns the human-friendly
strings written in YAML files into those floats, provides pydantic field types that do the
conversion, and formats SI floats back into readable text for reports.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

__all__ = [
    "DIMENSIONS",
    "Bytes",
    "BytesPerSecond",
    "Fraction",
    "Hertz",
    "Joules",
    "JoulesPerBit",
    "NonNegativeJoules",
    "NonNegativeJoulesPerBit",
    "NonNegativeSeconds",
    "NonNegativeWatts",
    "PositiveBytes",
    "PositiveBytesPerSecond",
    "PositiveHertz",
    "PositiveSeconds",
    "Seconds",
    "SquareMeters",
    "Watts",
    "format_quantity",
    "parse_quantity",
]

_MICRO = ("u", "µ", "μ")  # ASCII u, MICRO SIGN (U+00B5), GREEK SMALL LETTER MU (U+03BC)


def _d(text: str | int) -> Decimal:
    return Decimal(text)


def _with_micro(table: dict[str, Decimal]) -> dict[str, Decimal]:
    """Add the two Unicode micro spellings for every unit written with an ASCII 'u'."""
    out = dict(table)
    for unit, factor in table.items():
        if unit.startswith("u"):
            for micro in _MICRO[1:]:
                out[micro + unit[1:]] = factor
    return out


def _bytes_table() -> dict[str, Decimal]:
    table: dict[str, Decimal] = {"B": _d(1), "b": _d(1) / 8, "bit": _d(1) / 8}
    decimal_prefixes = {"k": 3, "K": 3, "M": 6, "G": 9, "T": 12, "P": 15}
    for prefix, exp in decimal_prefixes.items():
        factor = _d(10) ** exp
        table[f"{prefix}B"] = factor
        table[f"{prefix}b"] = factor / 8
        table[f"{prefix}bit"] = factor / 8
    for prefix, exp in {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40}.items():
        factor = _d(2) ** exp
        table[f"{prefix}B"] = factor
        table[f"{prefix}b"] = factor / 8
        table[f"{prefix}bit"] = factor / 8
    return table


def _per(table: dict[str, Decimal], suffixes: tuple[str, ...]) -> dict[str, Decimal]:
    return {unit + suffix: factor for unit, factor in table.items() for suffix in suffixes}


_ENERGY = _with_micro(
    {
        "aJ": _d("1e-18"),
        "fJ": _d("1e-15"),
        "pJ": _d("1e-12"),
        "nJ": _d("1e-9"),
        "uJ": _d("1e-6"),
        "mJ": _d("1e-3"),
        "J": _d(1),
        "kJ": _d("1e3"),
        "MJ": _d("1e6"),
    }
)
_BYTES = _bytes_table()

_AREA: dict[str, Decimal] = {}
for _unit, _factor in {
    "nm": _d("1e-18"),
    "um": _d("1e-12"),
    "mm": _d("1e-6"),
    "cm": _d("1e-4"),
    "m": _d(1),
}.items():
    _AREA[_unit + "2"] = _factor
    _AREA[_unit + "^2"] = _factor
_AREA = _with_micro(_AREA)


@dataclass(frozen=True)
class _Dimension:
    """How one dimension is named in messages and which unit spellings it accepts."""

    noun: str  # "an energy"
    example: str  # "1.7 pJ"
    si_unit: str  # "joules"
    units: dict[str, Decimal]


DIMENSIONS: dict[str, _Dimension] = {
    "time": _Dimension(
        "a time",
        "3 ns",
        "seconds",
        _with_micro(
            {"ps": _d("1e-12"), "ns": _d("1e-9"), "us": _d("1e-6"), "ms": _d("1e-3"), "s": _d(1)}
        ),
    ),
    "frequency": _Dimension(
        "a frequency",
        "1.25 GHz",
        "hertz",
        {"Hz": _d(1), "kHz": _d("1e3"), "MHz": _d("1e6"), "GHz": _d("1e9"), "THz": _d("1e12")},
    ),
    "energy": _Dimension("an energy", "1.7 pJ", "joules", _ENERGY),
    "power": _Dimension(
        "a power",
        "13.85 W",
        "watts",
        _with_micro(
            {
                "nW": _d("1e-9"),
                "uW": _d("1e-6"),
                "mW": _d("1e-3"),
                "W": _d(1),
                "kW": _d("1e3"),
                "MW": _d("1e6"),
            }
        ),
    ),
    "bytes": _Dimension("a data size", "20.5 MiB", "bytes", _BYTES),
    "bandwidth": _Dimension("a bandwidth", "25.6 GB/s", "bytes per second", _per(_BYTES, ("/s",))),
    "energy_per_bit": _Dimension(
        "an energy per bit", "13 pJ/bit", "joules per bit", _per(_ENERGY, ("/bit", "/b"))
    ),
    "area": _Dimension("an area", "1.5 mm2", "square meters", _AREA),
    "dimensionless": _Dimension(
        "a dimensionless number", "50%", "plain numbers", {"%": _d("0.01")}
    ),
}

_NUMBER_RE = re.compile(
    r"^\s*(?P<num>[+-]?(?:\d+(?:_\d+)*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>.*?)\s*$"
)


def _describe(value: Any) -> str:
    text = f'"{value}"' if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(dim: _Dimension, value: Any) -> ValueError:
    got = _describe(value)
    if isinstance(value, bool):
        got += " (a boolean is not a number)"
    if dim.si_unit == "plain numbers":
        expected = f'expected {dim.noun} such as "0.5" or "{dim.example}"'
    else:
        expected = f'expected {dim.noun} such as "{dim.example}" or a number in {dim.si_unit}'
    return ValueError(f"{expected}; got {got}")


def parse_quantity(value: Any, dimension: str) -> float:
    """Return ``value`` as an SI float of ``dimension``; numbers are taken as already SI.

    Strings carry a unit ("3 ns", "25.6GB/s", "13 pJ/bit"); a bare numeric string is SI.
    Raises ``ValueError`` naming the dimension, its SI unit and an example on failure.
    """
    try:
        dim = DIMENSIONS[dimension]
    except KeyError:
        raise ValueError(
            f"unknown dimension {dimension!r}; known: {', '.join(sorted(DIMENSIONS))}"
        ) from None
    if isinstance(value, bool):
        raise _fail(dim, value)
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        match = _NUMBER_RE.match(value)
        if match is None:
            raise _fail(dim, value)
        unit = re.sub(r"\s*/\s*", "/", match["unit"])
        if unit == "":
            factor = _d(1)
        elif unit in dim.units:
            factor = dim.units[unit]
        else:
            raise _fail(dim, value)
        try:
            result = float(Decimal(match["num"].replace("_", "")) * factor)
        except (InvalidOperation, OverflowError):
            raise _fail(dim, value) from None
    else:
        raise _fail(dim, value)
    if not math.isfinite(result):
        raise _fail(dim, value)
    return result


def _parser(dimension: str) -> BeforeValidator:
    def parse(value: Any) -> float:
        return parse_quantity(value, dimension)

    parse.__name__ = f"parse_{dimension}"
    return BeforeValidator(parse)


Seconds = Annotated[float, _parser("time")]
Hertz = Annotated[float, _parser("frequency")]
Joules = Annotated[float, _parser("energy")]
Watts = Annotated[float, _parser("power")]
Bytes = Annotated[float, _parser("bytes")]
BytesPerSecond = Annotated[float, _parser("bandwidth")]
JoulesPerBit = Annotated[float, _parser("energy_per_bit")]
SquareMeters = Annotated[float, _parser("area")]
Fraction = Annotated[float, _parser("dimensionless"), Field(ge=0, le=1)]

PositiveSeconds = Annotated[float, _parser("time"), Field(gt=0)]
PositiveHertz = Annotated[float, _parser("frequency"), Field(gt=0)]
PositiveBytes = Annotated[float, _parser("bytes"), Field(gt=0)]
PositiveBytesPerSecond = Annotated[float, _parser("bandwidth"), Field(gt=0)]

NonNegativeSeconds = Annotated[float, _parser("time"), Field(ge=0)]
NonNegativeJoules = Annotated[float, _parser("energy"), Field(ge=0)]
NonNegativeWatts = Annotated[float, _parser("power"), Field(ge=0)]
NonNegativeJoulesPerBit = Annotated[float, _parser("energy_per_bit"), Field(ge=0)]


def _ladder(unit: str, prefixes: str) -> list[tuple[float, float, str]]:
    exps = {"a": -18, "f": -15, "p": -12, "n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6}
    exps.update({"G": 9, "T": 12, "P": 15})
    return [(10.0 ** exps[p], 10.0 ** exps[p], p + unit) for p in prefixes.split(",")]


# (smallest value shown in this unit, unit factor, unit), smallest first; all parseable.
_FORMAT_LADDERS: dict[str, list[tuple[float, float, str]]] = {
    "time": _ladder("s", "p,n,u,m,"),
    "frequency": _ladder("Hz", ",k,M,G,T"),
    "energy": _ladder("J", "a,f,p,n,u,m,,k,M"),
    "power": _ladder("W", "n,u,m,,k,M"),
    "bytes": _ladder("B", ",k,M,G,T,P"),
    "bandwidth": _ladder("B/s", ",k,M,G,T,P"),
    "energy_per_bit": _ladder("J/bit", "a,f,p,n,u,m,"),
    "area": [(0.0, 1e-12, "um2"), (1e-9, 1e-6, "mm2"), (1e-3, 1.0, "m2")],
    "dimensionless": [(0.0, 1.0, "")],
}
_BASE_UNITS = {"time": "s", "frequency": "Hz", "energy": "J", "power": "W", "bytes": "B"}
_BASE_UNITS.update(
    {"bandwidth": "B/s", "energy_per_bit": "J/bit", "area": "m2", "dimensionless": ""}
)


def _mantissa(value: float, digits: int) -> str:
    if math.isfinite(value) and abs(value) >= 10**digits:
        return f"{value:.0f}"
    return f"{value:.{digits}g}"


def format_quantity(value: float, dimension: str, digits: int = 4) -> str:
    """Format an SI float with an engineering prefix, e.g. ``0.0856, "energy"`` -> "85.6 mJ"."""
    try:
        ladder = _FORMAT_LADDERS[dimension]
    except KeyError:
        raise ValueError(f"unknown dimension {dimension!r}") from None
    value = float(value)
    if not math.isfinite(value) or value == 0:
        return f"{_mantissa(value, digits)} {_BASE_UNITS[dimension]}".rstrip()
    rounded = float(f"{value:.{digits}g}")
    _, factor, unit = ladder[0]
    for threshold, candidate_factor, candidate_unit in ladder:
        if abs(rounded) >= threshold * (1 - 1e-12):
            factor, unit = candidate_factor, candidate_unit
    return f"{_mantissa(rounded / factor, digits)} {unit}".rstrip()
