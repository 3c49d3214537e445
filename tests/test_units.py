"""Tests of neurosim.units: parsing quantities with units, pydantic types, formatting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from neurosim.units import (
    Bytes,
    BytesPerSecond,
    Fraction,
    Hertz,
    Joules,
    JoulesPerBit,
    NonNegativeJoules,
    NonNegativeJoulesPerBit,
    NonNegativeSeconds,
    NonNegativeWatts,
    PositiveBytes,
    PositiveBytesPerSecond,
    PositiveHertz,
    PositiveSeconds,
    Seconds,
    SquareMeters,
    Watts,
    format_quantity,
    parse_quantity,
)

CASES = [
    # time
    ("3 ns", "time", 3e-9),
    ("3ns", "time", 3e-9),
    ("1e-9 s", "time", 1e-9),
    ("1e-9", "time", 1e-9),
    ("250 ps", "time", 250e-12),
    ("2.5 us", "time", 2.5e-6),
    ("2.5 µs", "time", 2.5e-6),
    ("2.5 μs", "time", 2.5e-6),
    ("13.6 ms", "time", 13.6e-3),
    ("2 s", "time", 2.0),
    # frequency
    ("1.25 GHz", "frequency", 1.25e9),
    ("800 MHz", "frequency", 800e6),
    ("32 kHz", "frequency", 32e3),
    ("50 Hz", "frequency", 50.0),
    # energy
    ("1.7 pJ", "energy", 1.7e-12),
    ("94 fJ", "energy", 94e-15),
    ("3 aJ", "energy", 3e-18),
    ("2 nJ", "energy", 2e-9),
    ("2 uJ", "energy", 2e-6),
    ("2 µJ", "energy", 2e-6),
    ("85.6 mJ", "energy", 85.6e-3),
    ("4 J", "energy", 4.0),
    # power
    ("13.849 W", "power", 13.849),
    ("0.5 mW", "power", 0.5e-3),
    ("7 uW", "power", 7e-6),
    ("7 µW", "power", 7e-6),
    ("3 nW", "power", 3e-9),
    ("1.2 kW", "power", 1.2e3),
    # bytes
    ("20.5 MiB", "bytes", 20.5 * 2**20),
    ("4 KiB", "bytes", 4096.0),
    ("1 GiB", "bytes", 2.0**30),
    ("1 TiB", "bytes", 2.0**40),
    ("64 B", "bytes", 64.0),
    ("3 kB", "bytes", 3e3),
    ("3 KB", "bytes", 3e3),
    ("385 MB", "bytes", 385e6),
    ("2 GB", "bytes", 2e9),
    ("1 TB", "bytes", 1e12),
    ("2 Mb", "bytes", 2e6 / 8),
    ("16 b", "bytes", 2.0),
    ("8 kb", "bytes", 1e3),
    ("8 Kb", "bytes", 1e3),
    ("1 Gb", "bytes", 1e9 / 8),
    ("1 Kib", "bytes", 128.0),
    ("1 Mib", "bytes", 2**20 / 8),
    ("1 Gib", "bytes", 2**30 / 8),
    # bandwidth
    ("25.6 GB/s", "bandwidth", 25.6e9),
    ("25.6GB/s", "bandwidth", 25.6e9),
    ("100 B/s", "bandwidth", 100.0),
    ("5 kB/s", "bandwidth", 5e3),
    ("460 MB/s", "bandwidth", 460e6),
    ("1.5 TB/s", "bandwidth", 1.5e12),
    ("2 KiB/s", "bandwidth", 2048.0),
    ("2 MiB/s", "bandwidth", 2.0 * 2**20),
    ("2 GiB/s", "bandwidth", 2.0 * 2**30),
    ("800 b/s", "bandwidth", 100.0),
    ("8 kb/s", "bandwidth", 1e3),
    ("100 Mb/s", "bandwidth", 100e6 / 8),
    ("32 Gb/s", "bandwidth", 4e9),
    # energy per bit
    ("13 pJ/bit", "energy_per_bit", 13e-12),
    ("13 pJ/b", "energy_per_bit", 13e-12),
    ("13 pJ / bit", "energy_per_bit", 13e-12),
    ("120 fJ/bit", "energy_per_bit", 120e-15),
    ("1 nJ/bit", "energy_per_bit", 1e-9),
    ("1e-12 J/bit", "energy_per_bit", 1e-12),
    # area
    ("2 m2", "area", 2.0),
    ("1.5 mm2", "area", 1.5e-6),
    ("1.5 mm^2", "area", 1.5e-6),
    ("400 um2", "area", 400e-12),
    # dimensionless
    ("0.25", "dimensionless", 0.25),
    ("50%", "dimensionless", 0.5),
    ("12.5 %", "dimensionless", 0.125),
    # numbers are already SI; signs are the models' business
    (3, "time", 3.0),
    (2.5e-9, "energy", 2.5e-9),
    (-1.5, "power", -1.5),
    ("-3 ns", "time", -3e-9),
    ("+3 ns", "time", 3e-9),
]


@pytest.mark.parametrize(("text", "dimension", "expected"), CASES)
def test_parse_quantity_values(text: object, dimension: str, expected: float) -> None:
    assert parse_quantity(text, dimension) == pytest.approx(expected, rel=1e-12)


def test_parse_quantity_decimal_strings_are_exact() -> None:
    assert parse_quantity("3 ns", "time") == 3e-9
    assert parse_quantity("25.6 GB/s", "bandwidth") == 25.6e9
    assert parse_quantity("1.7 pJ", "energy") == 1.7e-12


@pytest.mark.parametrize(
    ("value", "dimension", "noun", "example", "unit"),
    [
        ("3 furlongs", "energy", "an energy", "1.7 pJ", "joules"),
        ("3 cycles", "time", "a time", "3 ns", "seconds"),
        ("3 GB", "time", "a time", "3 ns", "seconds"),
        ("fast", "bandwidth", "a bandwidth", "25.6 GB/s", "bytes per second"),
        ("3 ghz", "frequency", "a frequency", "1.25 GHz", "hertz"),
        ("1 w", "power", "a power", "13.85 W", "watts"),
        ("4 kiB", "bytes", "a data size", "20.5 MiB", "bytes"),
        ("13 pJ", "energy_per_bit", "an energy per bit", "13 pJ/bit", "joules per bit"),
        ("2 mm", "area", "an area", "1.5 mm2", "square meters"),
        ("", "power", "a power", "13.85 W", "watts"),
        ("nan", "time", "a time", "3 ns", "seconds"),
        (float("inf"), "time", "a time", "3 ns", "seconds"),
        (None, "energy", "an energy", "1.7 pJ", "joules"),
        ([1, 2], "energy", "an energy", "1.7 pJ", "joules"),
    ],
)
def test_parse_quantity_rejects_bad_input(
    value: object, dimension: str, noun: str, example: str, unit: str
) -> None:
    with pytest.raises(ValueError) as info:
        parse_quantity(value, dimension)
    message = str(info.value)
    assert message.startswith(f'expected {noun} such as "{example}" or a number in {unit}; got ')


def test_parse_quantity_error_message_exact() -> None:
    with pytest.raises(ValueError) as info:
        parse_quantity("3 furlongs", "energy")
    assert str(info.value) == (
        'expected an energy such as "1.7 pJ" or a number in joules; got "3 furlongs"'
    )


@pytest.mark.parametrize("value", [True, False])
@pytest.mark.parametrize("dimension", ["time", "energy", "bytes", "dimensionless"])
def test_parse_quantity_rejects_bools(value: bool, dimension: str) -> None:
    with pytest.raises(ValueError, match="boolean is not a number") as info:
        parse_quantity(value, dimension)
    assert "expected a" in str(info.value)


def test_dimensionless_rejects_units() -> None:
    with pytest.raises(ValueError, match="dimensionless"):
        parse_quantity("5 ns", "dimensionless")


def test_unknown_dimension() -> None:
    with pytest.raises(ValueError, match="unknown dimension 'length'"):
        parse_quantity(1.0, "length")


class _Every(BaseModel):
    seconds: Seconds = 0.0
    hertz: Hertz = 0.0
    joules: Joules = 0.0
    watts: Watts = 0.0
    size: Bytes = 0.0
    bandwidth: BytesPerSecond = 0.0
    per_bit: JoulesPerBit = 0.0
    area: SquareMeters = 0.0
    fraction: Fraction = 0.0
    pos_seconds: PositiveSeconds = 1.0
    pos_hertz: PositiveHertz = 1.0
    pos_bytes: PositiveBytes = 1.0
    pos_bandwidth: PositiveBytesPerSecond = 1.0
    nn_joules: NonNegativeJoules = 0.0
    nn_watts: NonNegativeWatts = 0.0
    nn_per_bit: NonNegativeJoulesPerBit = 0.0
    nn_seconds: NonNegativeSeconds = 0.0


def test_pydantic_types_convert_units() -> None:
    model = _Every.model_validate(
        {
            "seconds": "-2 ns",
            "hertz": "1.25 GHz",
            "joules": "85.6 mJ",
            "watts": "0.5 mW",
            "size": "4 KiB",
            "bandwidth": "25.6 GB/s",
            "per_bit": "13 pJ/bit",
            "area": "1.5 mm2",
            "fraction": "50%",
            "pos_seconds": "1 us",
            "pos_hertz": 1e9,
            "pos_bytes": "2 Mb",
            "pos_bandwidth": "1 GiB/s",
            "nn_joules": 0,
            "nn_watts": "13.849 W",
            "nn_per_bit": "94 fJ/bit",
            "nn_seconds": "0 s",
        }
    )
    assert model.seconds == pytest.approx(-2e-9, rel=1e-12)
    assert model.hertz == pytest.approx(1.25e9, rel=1e-12)
    assert model.joules == pytest.approx(85.6e-3, rel=1e-12)
    assert model.watts == pytest.approx(0.5e-3, rel=1e-12)
    assert model.size == 4096.0
    assert model.bandwidth == pytest.approx(25.6e9, rel=1e-12)
    assert model.per_bit == pytest.approx(13e-12, rel=1e-12)
    assert model.area == pytest.approx(1.5e-6, rel=1e-12)
    assert model.fraction == 0.5
    assert model.pos_seconds == pytest.approx(1e-6, rel=1e-12)
    assert model.pos_bytes == 250000.0
    assert model.pos_bandwidth == 2.0**30
    assert model.nn_watts == pytest.approx(13.849, rel=1e-12)
    assert model.nn_per_bit == pytest.approx(94e-15, rel=1e-12)
    assert isinstance(model.size, float)


@pytest.mark.parametrize(
    ("field", "value", "error_type"),
    [
        ("fraction", "150%", "less_than_equal"),
        ("fraction", -0.1, "greater_than_equal"),
        ("pos_seconds", "0 ns", "greater_than"),
        ("pos_hertz", "-1 GHz", "greater_than"),
        ("pos_bytes", 0, "greater_than"),
        ("pos_bandwidth", "-1 GB/s", "greater_than"),
        ("nn_joules", "-1 pJ", "greater_than_equal"),
        ("nn_watts", -1, "greater_than_equal"),
        ("nn_per_bit", "-1 fJ/bit", "greater_than_equal"),
        ("nn_seconds", "-1 ns", "greater_than_equal"),
        ("hertz", True, "value_error"),
        ("bandwidth", "fast", "value_error"),
    ],
)
def test_pydantic_types_reject(field: str, value: object, error_type: str) -> None:
    with pytest.raises(ValidationError) as info:
        _Every.model_validate({field: value})
    errors = info.value.errors()
    assert [(e["loc"], e["type"]) for e in errors] == [((field,), error_type)]


def test_pydantic_value_error_carries_parser_message() -> None:
    with pytest.raises(ValidationError) as info:
        _Every.model_validate({"bandwidth": "fast"})
    assert str(info.value.errors()[0]["ctx"]["error"]) == (
        'expected a bandwidth such as "25.6 GB/s" or a number in bytes per second; got "fast"'
    )


@pytest.mark.parametrize(
    ("value", "dimension", "expected"),
    [
        (0.0856, "energy", "85.6 mJ"),
        (1.7e-12, "energy", "1.7 pJ"),
        (25.6e9, "bandwidth", "25.6 GB/s"),
        (385e6, "bytes", "385 MB"),
        (13.6e-3, "time", "13.6 ms"),
        (3e-9, "time", "3 ns"),
        (13.849, "power", "13.85 W"),
        (13e-12, "energy_per_bit", "13 pJ/bit"),
        (1.25e9, "frequency", "1.25 GHz"),
        (1.5e-6, "area", "1.5 mm2"),
        (0.999996, "energy", "1 J"),
        (-3e-9, "time", "-3 ns"),
        (0.0, "power", "0 W"),
        (0.25, "dimensionless", "0.25"),
    ],
)
def test_format_quantity(value: float, dimension: str, expected: str) -> None:
    assert format_quantity(value, dimension) == expected


def test_format_quantity_digits() -> None:
    assert format_quantity(13.849, "power", digits=2) == "14 W"
    assert format_quantity(0.123456, "energy", digits=6) == "123.456 mJ"


@pytest.mark.parametrize(
    "dimension",
    ["time", "frequency", "energy", "power", "bytes", "bandwidth", "energy_per_bit", "area"],
)
@pytest.mark.parametrize("value", [3.25e-15, 4.5e-9, 0.0625, 7.0, 1.5e4, 2.75e11])
def test_format_quantity_round_trips(dimension: str, value: float) -> None:
    text = format_quantity(value, dimension, digits=6)
    assert parse_quantity(text, dimension) == pytest.approx(value, rel=1e-5)


ENERGY_PREFIXES = {"a": 1e-18, "f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "µ": 1e-6}
ENERGY_PREFIXES.update({"m": 1e-3, "": 1.0})


@given(
    x=st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False),
    prefix=st.sampled_from(sorted(ENERGY_PREFIXES)),
)
def test_energy_prefixes_property(x: float, prefix: str) -> None:
    factor = ENERGY_PREFIXES[prefix]
    assert parse_quantity(f"{x} {prefix}J", "energy") == pytest.approx(x * factor, rel=1e-12)
