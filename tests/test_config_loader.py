"""Tests of neurosim.config.loader: YAML with lines, extends presets, friendly errors."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path
from typing import Annotated, ClassVar, Literal

import pytest
from pydantic import Field, ValidationError, model_validator

from neurosim.config import StrictModel
from neurosim.config.bounds import Range
from neurosim.config.loader import (
    SourceMap,
    format_key_path,
    load_config,
    load_yaml_with_lines,
    resolve_extends,
    validate,
)
from neurosim.errors import (
    ConfigError,
    ConfigIssue,
    NeurosimError,
    PricingError,
    SimulationError,
    TraceError,
)
from neurosim.units import Fraction, NonNegativeJoules, PositiveBytesPerSecond, PositiveHertz

# --------------------------------------------------------------------------- throwaway models


class Core(StrictModel):
    field_ranges: ClassVar[dict[str, Range]] = {"pipeline_depth": Range(0, 100)}
    clock_hz: PositiveHertz
    lanes: int = Field(gt=0)
    pipeline_depth: int = 4


class Channel(StrictModel):
    peak_bandwidth_bytes_per_s: PositiveBytesPerSecond
    efficiency: Fraction = 1.0


class Dram(StrictModel):
    channels: list[Channel]


class SpikingEngine(StrictModel):
    kind: Literal["spiking"]
    synop_j: NonNegativeJoules


class CrossbarEngine(StrictModel):
    kind: Literal["crossbar"]
    rows: int
    cols: int


Engine = Annotated[SpikingEngine | CrossbarEngine, Field(discriminator="kind")]


class Link(StrictModel):
    field_ranges: ClassVar[dict[str, Range]] = {"bandwidth": Range(1, 1e15, "B/s")}
    bandwidth: PositiveBytesPerSecond


class Chip(StrictModel):
    name: str
    core: Core
    dram: Dram
    engine: Engine
    extra_engines: list[Engine] = []
    links: dict[str, Link] = {}
    accelerator: Core | None = None


class Window(StrictModel):
    start: int
    stop: int

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.stop <= self.start:
            raise ValueError("stop must be after start")
        return self


class Job(StrictModel):
    window: Window


GOOD = """\
name: demo
core:
  clock_hz: 1.25 GHz
  lanes: 16
dram:
  channels:
    - peak_bandwidth_bytes_per_s: 25.6 GB/s
    - peak_bandwidth_bytes_per_s: 12.8 GB/s
      efficiency: 80%
engine:
  kind: spiking
  synop_j: 1.7 pJ
links:
  north: {bandwidth: 4 GB/s}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def config_error(model: type[StrictModel], path: Path, **kwargs: object) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(model, path, **kwargs)  # type: ignore[arg-type]
    return info.value


# --------------------------------------------------------------------------- errors module


def test_config_error_rendering_and_exit_code() -> None:
    error = ConfigError(
        "architectures/foo.yaml",
        [
            ConfigIssue("dram.channels[0].peak", "bad bandwidth", 12),
            ConfigIssue("core.lane", "unknown key", None),
            ConfigIssue("", "file-level problem", 1),
            ConfigIssue("x", "inherited", 5, "architectures/base.yaml"),
        ],
    )
    assert isinstance(error, NeurosimError)
    assert error.exit_code == 2
    assert str(error) == (
        "invalid config architectures/foo.yaml (4 problems):\n"
        "  architectures/foo.yaml:12: dram.channels[0].peak: bad bandwidth\n"
        "  architectures/foo.yaml: core.lane: unknown key\n"
        "  architectures/foo.yaml:1: file-level problem\n"
        "  architectures/base.yaml:5: x: inherited"
    )


def test_config_error_single_and_pickle() -> None:
    error = ConfigError.single("a.yaml", "core", "missing required key", line=3)
    assert (
        str(error) == "invalid config a.yaml (1 problem):\n  a.yaml:3: core: missing required key"
    )
    assert error.issues == (ConfigIssue("core", "missing required key", 3),)
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error)


def test_other_errors_exit_codes_and_messages() -> None:
    assert NeurosimError("boom").exit_code == 1
    assert str(NeurosimError("boom")) == "boom"
    assert TraceError("bad trace").exit_code == 3
    assert SimulationError("deadlock").exit_code == 4
    error = PricingError("dram_read", "dram0", "dram")
    assert error.exit_code == 4
    assert isinstance(error, NeurosimError)
    message = str(error)
    assert "dram_read" in message and "dram0" in message and "'dram' section" in message
    assert str(pickle.loads(pickle.dumps(error))) == message


def test_strict_model_is_frozen_and_forbids_extra() -> None:
    core = Core(clock_hz=1e9, lanes=2)
    with pytest.raises(ValidationError):
        core.lanes = 3  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Core(clock_hz=1e9, lanes=2, bogus=1)  # type: ignore[call-arg]


# --------------------------------------------------------------------------- reading YAML


def test_load_good_config(tmp_path: Path) -> None:
    chip = load_config(Chip, write(tmp_path, "chip.yaml", GOOD))
    assert chip.core.clock_hz == pytest.approx(1.25e9, rel=1e-12)
    assert chip.dram.channels[1].efficiency == pytest.approx(0.8, rel=1e-12)
    assert chip.engine == SpikingEngine(kind="spiking", synop_j=1.7e-12)
    assert chip.links["north"].bandwidth == pytest.approx(4e9, rel=1e-12)


def test_load_yaml_with_lines_maps_key_paths(tmp_path: Path) -> None:
    data, lines = load_yaml_with_lines(write(tmp_path, "chip.yaml", GOOD))
    assert isinstance(data, dict) and data["name"] == "demo"
    assert lines[("name",)] == 1
    assert lines[("core", "lanes")] == 4
    assert lines[("dram", "channels", 0)] == 7
    assert lines[("dram", "channels", 0, "peak_bandwidth_bytes_per_s")] == 7
    assert lines[("dram", "channels", 1, "efficiency")] == 9
    assert lines[("links", "north", "bandwidth")] == 14


def test_yaml_merge_keys_and_anchors(tmp_path: Path) -> None:
    path = write(tmp_path, "m.yaml", "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n")
    data, lines = load_yaml_with_lines(path)
    assert data == {"base": {"x": 1, "y": 2}, "d": {"x": 1, "y": 3}}
    assert lines[("d", "y")] == 4
    assert lines[("d", "x")] == 1


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "core:\n  lanes: 4\n    clock_hz: 1 GHz\n")
    error = config_error(Chip, path)
    assert len(error.issues) == 1
    issue = error.issues[0]
    assert issue.line == 3
    assert "YAML syntax error" in issue.message
    assert "mapping values are not allowed here" in issue.message
    assert f"{path}:3: YAML syntax error" in str(error)


def test_yaml_unclosed_flow_sequence(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "a: 1\nb: [1, 2\nc: 3\n")
    error = config_error(Chip, path)
    assert error.issues[0].line == 3
    assert "line 2" in error.issues[0].message


def test_python_tags_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "evil.yaml", 'a: !!python/object/apply:os.system ["true"]\n')
    error = config_error(Chip, path)
    assert error.issues[0].line == 1
    assert "python/object/apply:os.system" in error.issues[0].message


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.yaml", "core:\n  lanes: 1\n  lanes: 2\n")
    error = config_error(Chip, path)
    assert error.issues == (
        ConfigIssue("core.lanes", "duplicate key (first written on line 2)", 3),
    )


@pytest.mark.parametrize(
    ("text", "got"),
    [("- 1\n- 2\n", "a list"), ("just text\n", "a string"), ("", "an empty document")],
)
def test_top_level_must_be_mapping(tmp_path: Path, text: str, got: str) -> None:
    error = config_error(Chip, write(tmp_path, "top.yaml", text))
    assert "top level must be a mapping" in error.issues[0].message
    assert got in error.issues[0].message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    error = config_error(Chip, path)
    assert str(error) == f"invalid config {path} (1 problem):\n  {path}: file not found"


def test_directory_is_not_a_config(tmp_path: Path) -> None:
    error = config_error(Chip, tmp_path)
    assert "is a directory" in error.issues[0].message


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    error = config_error(Chip, path)
    assert "UTF-8" in error.issues[0].message


# --------------------------------------------------------------------------- validation errors


def test_unknown_key_names_file_line_and_accepted_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "chip.yaml", GOOD.replace("  lanes: 16", "  lanes: 16\n  lane: 2"))
    error = config_error(Chip, path)
    assert error.issues == (
        ConfigIssue("core.lane", "unknown key; accepted keys: clock_hz, lanes, pipeline_depth", 5),
    )
    assert (
        f"  {path}:5: core.lane: unknown key; accepted keys: clock_hz, lanes, pipeline_depth"
        in str(error)
    )
    assert error.exit_code == 2


def test_unknown_top_level_key(tmp_path: Path) -> None:
    error = config_error(Chip, write(tmp_path, "chip.yaml", GOOD + "colour: blue\n"))
    (issue,) = error.issues
    assert issue.key_path == "colour"
    assert issue.line == 15
    assert issue.message == (
        "unknown key; accepted keys: accelerator, core, dram, engine, extra_engines, links, name"
    )


def test_unknown_key_in_list_dict_optional_and_union(tmp_path: Path) -> None:
    text = GOOD.replace("      efficiency: 80%", "      efficiency: 80%\n      ecc: true")
    text = text.replace("  synop_j: 1.7 pJ", "  synop_j: 1.7 pJ\n  rows: 4")
    text = text.replace("{bandwidth: 4 GB/s}", "{bandwidth: 4 GB/s, hops: 2}")
    text += "accelerator: {clock_hz: 1 GHz, lanes: 2, turbo: 1}\n"
    error = config_error(Chip, write(tmp_path, "chip.yaml", text))
    found = {issue.key_path: (issue.line, issue.message) for issue in error.issues}
    assert found == {
        "dram.channels[1].ecc": (
            10,
            "unknown key; accepted keys: efficiency, peak_bandwidth_bytes_per_s",
        ),
        "engine.rows": (14, "unknown key; accepted keys: kind, synop_j"),
        "links.north.hops": (16, "unknown key; accepted keys: bandwidth"),
        "accelerator.turbo": (17, "unknown key; accepted keys: clock_hz, lanes, pipeline_depth"),
    }


def test_missing_key_points_at_parent(tmp_path: Path) -> None:
    error = config_error(Chip, write(tmp_path, "chip.yaml", GOOD.replace("  lanes: 16\n", "")))
    assert error.issues == (ConfigIssue("core.lanes", "missing required key", 2),)


def test_missing_top_level_key_has_no_line(tmp_path: Path) -> None:
    path = write(tmp_path, "chip.yaml", GOOD.replace("name: demo\n", ""))
    error = config_error(Chip, path)
    assert error.issues == (ConfigIssue("name", "missing required key", None),)
    assert f"  {path}: name: missing required key" in str(error)


def test_wrong_type(tmp_path: Path) -> None:
    error = config_error(Chip, write(tmp_path, "chip.yaml", GOOD.replace("16", "many")))
    (issue,) = error.issues
    assert (issue.key_path, issue.line) == ("core.lanes", 4)
    assert issue.message == (
        'Input should be a valid integer, unable to parse string as an integer (got "many")'
    )


def test_wrong_container_type(tmp_path: Path) -> None:
    start, stop = GOOD.index("  channels:"), GOOD.index("engine:")
    text = GOOD[:start] + "  channels: 3\n" + GOOD[stop:]
    error = config_error(Chip, write(tmp_path, "chip.yaml", text))
    assert error.issues == (
        ConfigIssue("dram.channels", "Input should be a valid list (got 3)", 6),
    )
    text = GOOD.replace("name: demo", "name: [a, b]")
    error = config_error(Chip, write(tmp_path, "chip.yaml", text))
    assert error.issues == (ConfigIssue("name", "Input should be a valid string (got a list)", 1),)


def test_impossible_values(tmp_path: Path) -> None:
    text = GOOD.replace("1.25 GHz", "-1 GHz").replace("lanes: 16", "lanes: 0")
    text = text.replace("80%", "120%")
    error = config_error(Chip, write(tmp_path, "chip.yaml", text))
    assert error.issues == (
        ConfigIssue("core.clock_hz", 'Input should be greater than 0 (got "-1 GHz")', 3),
        ConfigIssue("core.lanes", "Input should be greater than 0 (got 0)", 4),
        ConfigIssue(
            "dram.channels[1].efficiency", 'Input should be less than or equal to 1 (got "120%")', 9
        ),
    )


def test_unit_error_message_passes_through(tmp_path: Path) -> None:
    path = write(tmp_path, "chip.yaml", GOOD.replace("25.6 GB/s", "fast"))
    error = config_error(Chip, path)
    assert error.issues == (
        ConfigIssue(
            "dram.channels[0].peak_bandwidth_bytes_per_s",
            'expected a bandwidth such as "25.6 GB/s" or a number in bytes per second; got "fast"',
            7,
        ),
    )
    assert "Value error" not in str(error)


def test_bool_is_not_a_quantity(tmp_path: Path) -> None:
    error = config_error(Chip, write(tmp_path, "chip.yaml", GOOD.replace("1.7 pJ", "yes")))
    (issue,) = error.issues
    assert (issue.key_path, issue.line) == ("engine.synop_j", 12)
    assert issue.message.startswith('expected an energy such as "1.7 pJ"')


def test_unknown_kind_lists_known_kinds(tmp_path: Path) -> None:
    error = config_error(Chip, write(tmp_path, "chip.yaml", GOOD.replace("spiking", "analog")))
    assert error.issues == (
        ConfigIssue("engine.kind", "unknown kind 'analog'; known kinds: crossbar, spiking", 11),
    )


def test_missing_kind_and_errors_inside_union_members(tmp_path: Path) -> None:
    text = GOOD + textwrap.dedent(
        """\
        extra_engines:
          - {rows: 4, cols: 4}
          - kind: crossbar
            rows: lots
            cols: 4
        """
    )
    error = config_error(Chip, write(tmp_path, "chip.yaml", text))
    assert error.issues == (
        ConfigIssue(
            "extra_engines[0].kind", "missing required key; known kinds: crossbar, spiking", 16
        ),
        ConfigIssue(
            "extra_engines[1].rows",
            'Input should be a valid integer, unable to parse string as an integer (got "lots")',
            18,
        ),
    )


def test_all_errors_reported_together(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "chip.yaml",
        """\
        name: demo
        core:
          clock_hz: fast
          lane: 3
        dram:
          channels:
            - peak_bandwidth_bytes_per_s: -5 GB/s
        engine:
          kind: photonic
        """,
    )
    error = config_error(Chip, path)
    assert [(i.key_path, i.line) for i in error.issues] == [
        ("core.clock_hz", 3),
        ("core.lanes", 2),
        ("core.lane", 4),
        ("dram.channels[0].peak_bandwidth_bytes_per_s", 7),
        ("engine.kind", 9),
    ]
    assert str(error).startswith(f"invalid config {path} (5 problems):\n")
    assert len(str(error).splitlines()) == 6


def test_model_validator_error_message(tmp_path: Path) -> None:
    path = write(tmp_path, "job.yaml", "window:\n  start: 5\n  stop: 2\n")
    error = config_error(Job, path)
    assert error.issues == (ConfigIssue("window", "stop must be after start", 1),)


def test_validate_without_source_map() -> None:
    with pytest.raises(ConfigError) as info:
        validate(Core, {"clock_hz": "1 GHz"}, "inline.yaml")
    assert str(info.value) == (
        "invalid config inline.yaml (1 problem):\n  inline.yaml: lanes: missing required key"
    )


def test_validate_returns_model() -> None:
    core = validate(Core, {"clock_hz": "1 GHz", "lanes": 2}, "inline.yaml")
    assert core == Core(clock_hz=1e9, lanes=2)


def test_format_key_path() -> None:
    assert format_key_path(("dram", "channels", 0, "x")) == "dram.channels[0].x"
    assert format_key_path(()) == ""
    assert format_key_path(("links", "a.b", "c")) == 'links["a.b"].c'


# --------------------------------------------------------------------------- extends


BASE = """\
name: base
core:
  clock_hz: 1 GHz
  lanes: 8
  pipeline_depth: 6
dram:
  channels:
    - peak_bandwidth_bytes_per_s: 10 GB/s
    - peak_bandwidth_bytes_per_s: 10 GB/s
engine:
  kind: crossbar
  rows: 256
  cols: 256
"""


def test_extends_merges_mappings_and_replaces_lists(tmp_path: Path) -> None:
    write(tmp_path, "presets/base.yaml", BASE)
    child = write(
        tmp_path,
        "chip.yaml",
        """\
        extends: presets/base.yaml
        name: child
        core:
          lanes: 32
        dram:
          channels:
            - peak_bandwidth_bytes_per_s: 51.2 GB/s
        """,
    )
    chip = load_config(Chip, child)
    assert chip.name == "child"
    assert chip.core == Core(clock_hz=1e9, lanes=32, pipeline_depth=6)
    assert [c.peak_bandwidth_bytes_per_s for c in chip.dram.channels] == [51.2e9]
    assert chip.engine == CrossbarEngine(kind="crossbar", rows=256, cols=256)


def test_resolve_extends_source_map(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", BASE)
    child = write(tmp_path, "chip.yaml", "extends: base.yaml\ncore:\n  lanes: 32\n")
    data, lines = load_yaml_with_lines(child)
    merged, source_map = resolve_extends(child, data, lines)
    assert isinstance(merged, dict) and "extends" not in merged
    assert merged["core"] == {"clock_hz": "1 GHz", "lanes": 32, "pipeline_depth": 6}
    assert isinstance(source_map, SourceMap)
    assert source_map.locate(("core",)) == (child, 2)
    assert source_map.locate(("core", "lanes")) == (child, 3)
    assert source_map.locate(("core", "clock_hz")) == (base, 3)
    assert source_map.locate(("dram", "channels", 1, "peak_bandwidth_bytes_per_s")) == (base, 9)
    assert source_map.locate(("core", "missing")) == (child, 2)
    assert source_map.locate(("nothing",)) == (child, None)
    assert ("extends",) not in source_map.locations


def test_without_extends_resolve_is_identity(tmp_path: Path) -> None:
    path = write(tmp_path, "chip.yaml", GOOD)
    data, lines = load_yaml_with_lines(path)
    merged, source_map = resolve_extends(path, data, lines)
    assert merged == data
    assert source_map.locate(("core", "lanes")) == (path, 4)


def test_list_replacement_drops_base_lines(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", BASE)
    child = write(
        tmp_path,
        "chip.yaml",
        "extends: base.yaml\ndram:\n  channels:\n    - {peak_bandwidth_bytes_per_s: 1 GB/s}\n",
    )
    data, lines = load_yaml_with_lines(child)
    _, source_map = resolve_extends(child, data, lines)
    assert ("dram", "channels", 1) not in source_map.locations
    assert source_map.locate(("dram", "channels", 0)) == (child, 4)


def test_extends_by_bare_name_via_search_dirs(tmp_path: Path) -> None:
    presets = tmp_path / "architectures"
    write(presets, "vck190_nsllm.yaml", BASE)
    child = write(tmp_path, "runs/chip.yaml", "extends: vck190_nsllm\nname: mine\n")
    chip = load_config(Chip, child, search_dirs=[tmp_path / "elsewhere", presets])
    assert chip.name == "mine"
    assert chip.core.pipeline_depth == 6


def test_extends_by_bare_name_next_to_the_file(tmp_path: Path) -> None:
    write(tmp_path, "vck190_nsllm.yaml", BASE)
    child = write(tmp_path, "chip.yaml", "extends: vck190_nsllm\n")
    assert load_config(Chip, child).name == "base"


def test_extends_of_extends_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "grand.yaml", BASE)
    write(tmp_path, "base.yaml", "extends: grand.yaml\nname: middle\n")
    child = write(tmp_path, "chip.yaml", "name: x\nextends: base.yaml\n")
    error = config_error(Chip, child)
    (issue,) = error.issues
    assert (issue.key_path, issue.line) == ("extends", 2)
    assert "presets may extend at most one other preset" in issue.message
    assert "grand.yaml" in issue.message


def test_missing_base_names_key_line_and_places(tmp_path: Path) -> None:
    search = tmp_path / "architectures"
    child = write(tmp_path, "chip.yaml", "name: x\nextends: no_such_preset\n")
    error = config_error(Chip, child, search_dirs=[search])
    (issue,) = error.issues
    assert (issue.key_path, issue.line) == ("extends", 2)
    assert "no_such_preset" in issue.message
    assert str(search / "no_such_preset.yaml") in issue.message
    assert str(tmp_path / "no_such_preset.yaml") in issue.message


def test_missing_base_by_relative_path(tmp_path: Path) -> None:
    child = write(tmp_path, "chip.yaml", "extends: ../presets/gone.yaml\n")
    error = config_error(Chip, child)
    assert error.issues[0].key_path == "extends"
    assert str(tmp_path / "../presets/gone.yaml") in error.issues[0].message


def test_extends_must_be_a_string(tmp_path: Path) -> None:
    error = config_error(Chip, write(tmp_path, "chip.yaml", "extends: [a, b]\n"))
    assert (error.issues[0].key_path, error.issues[0].line) == ("extends", 1)


def test_error_in_inherited_value_points_at_base_file(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", BASE.replace("  lanes: 8", "  lanes: eight"))
    child = write(tmp_path, "chip.yaml", "extends: base.yaml\ncore:\n  clock_hz: -2 GHz\n")
    error = config_error(Chip, child)
    assert error.issues == (
        ConfigIssue("core.clock_hz", 'Input should be greater than 0 (got "-2 GHz")', 3),
        ConfigIssue(
            "core.lanes",
            'Input should be a valid integer, unable to parse string as an integer (got "eight")',
            4,
            base,
        ),
    )
    rendered = str(error)
    assert f"  {child}:3: core.clock_hz:" in rendered
    assert f"  {base}:4: core.lanes:" in rendered


def test_error_in_base_yaml_names_base_file(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", "core: [unclosed\n")
    child = write(tmp_path, "chip.yaml", "extends: base.yaml\n")
    error = config_error(Chip, child)
    assert error.path == base
    assert "YAML syntax error" in error.issues[0].message
