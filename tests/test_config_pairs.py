"""Valid/invalid config pairs for every section of the architecture and workload schemas.

Each file in ``tests/config_cases`` is one case. Its name says what it covers,
``<arch|wl>_<section>_<ok|bad>[_<what>].yaml``, and its leading comment lines say what
to expect:

``# case: <text>``
    what the case is about (required).
``# expect-value: <attribute path> = <YAML value>``
    (valid cases) a value of the loaded config, e.g. ``compute.clock_hz = 1.2e9``.
``# expect-key: <key path>``
    (invalid cases) an issue of the ConfigError has this dotted key path.
``# expect-line: <n>``
    the issue of the first expect-key (or the file-level issue) is on line n of the case
    file; the rendered message then holds the exact ``<file>:<n>: <key>: `` prefix.
``# expect-text: <text>``
    the rendered ConfigError contains this text.
``# expect-via: run``
    the file validates; the error only appears when ``neurosim run`` maps the model.

Architectures find presets in the repository's ``architectures`` directory, workloads in
``workloads`` (absolute paths, so the tests do not depend on the working directory).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from neurosim.architecture import Architecture
from neurosim.cli import app as cli
from neurosim.cli.app import main
from neurosim.config.loader import load_config
from neurosim.config.workload import Workload
from neurosim.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = Path(__file__).resolve().parent / "config_cases"
ARCH_PRESET = ROOT / "architectures" / "vck190_nsllm.yaml"
WORKLOAD_PRESET = ROOT / "workloads" / "nsllm-1.5b.yaml"
SEARCH_DIRS = {
    "architecture": (ROOT / "architectures",),
    "workload": (ROOT / "workloads",),
}

_NAME = re.compile(r"^(?P<prefix>arch|wl)_(?P<section>[a-z_]+?)_(?P<verdict>ok|bad)(_[a-z0-9_]+)?$")
_HEADER = re.compile(r"^# (?P<key>[a-z-]+): (?P<value>.*)$")
_HEADER_KEYS = {
    "case",
    "expect-value",
    "expect-key",
    "expect-line",
    "expect-text",
    "expect-via",
}


@dataclass(frozen=True)
class Case:
    """One config case file and what it should produce."""

    path: Path
    kind: str  # "architecture" or "workload"
    section: str
    valid: bool
    headers: tuple[tuple[str, str], ...]

    def all(self, key: str) -> list[str]:
        return [value for k, value in self.headers if k == key]

    def one(self, key: str) -> str | None:
        values = self.all(key)
        return values[0] if values else None

    @property
    def model(self) -> type[Architecture] | type[Workload]:
        return Architecture if self.kind == "architecture" else Workload

    @property
    def search_dirs(self) -> tuple[Path, ...]:
        return SEARCH_DIRS[self.kind]

    @property
    def keys(self) -> list[str]:
        return self.all("expect-key")

    @property
    def line(self) -> int | None:
        line = self.one("expect-line")
        return int(line) if line is not None else None

    @property
    def texts(self) -> list[str]:
        return self.all("expect-text")

    @property
    def via(self) -> str:
        return self.one("expect-via") or "load"

    def load(self) -> Architecture | Workload:
        return load_config(self.model, self.path, search_dirs=self.search_dirs)


def _read_case(path: Path) -> Case:
    match = _NAME.match(path.stem)
    assert match, f"{path.name}: name must be <arch|wl>_<section>_<ok|bad>[_what].yaml"
    headers = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        found = _HEADER.match(line)
        if found:
            headers.append((found["key"], found["value"].strip()))
    kind = "architecture" if match["prefix"] == "arch" else "workload"
    return Case(path, kind, match["section"], match["verdict"] == "ok", tuple(headers))


ALL_CASES = [_read_case(p) for p in sorted(CASES_DIR.glob("*.yaml"))]
VALID = [c for c in ALL_CASES if c.valid]
INVALID = [c for c in ALL_CASES if not c.valid and c.via == "load"]
INVALID_AT_RUN = [c for c in ALL_CASES if not c.valid and c.via == "run"]


def _params(cases: list[Case]) -> list[Any]:
    return [pytest.param(case, id=case.path.stem) for case in cases]


def _literal(text: str) -> Any:
    value = yaml.safe_load(text)
    if isinstance(value, str):
        try:
            return float(value)  # PyYAML reads "1.2e9" and "2e-5" as strings
        except ValueError:
            return value
    return value


def _lookup(obj: Any, dotted: str) -> Any:
    """Follow ``a.b[2].c`` / ``sites[attn_in].levels`` through models, dicts and lists."""
    for part in re.findall(r"[^.\[\]]+", dotted):
        if isinstance(obj, dict):
            obj = obj[part]
        elif isinstance(obj, list | tuple):
            obj = obj[int(part)]
        else:
            obj = getattr(obj, part)
    return obj


def _case_error(case: Case) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        case.load()
    return info.value


# --------------------------------------------------------------------------- the case files


def test_case_files_are_well_formed() -> None:
    assert len(ALL_CASES) >= 100
    for case in ALL_CASES:
        name = case.path.name
        unknown = {key for key, _ in case.headers} - _HEADER_KEYS
        assert not unknown, f"{name}: unknown header(s) {unknown}"
        assert case.one("case"), f"{name}: needs a '# case:' line"
        if case.valid:
            assert not case.keys and not case.texts and case.line is None, name
        else:
            assert case.keys or case.texts, f"{name}: an invalid case must say what to expect"
            assert case.via in ("load", "run"), name
            assert not case.all("expect-value"), name


# Every section of both schemas: (glob of valid cases, glob of invalid cases).
COVERAGE = {
    "architecture top level, extends": ("arch_top_ok*", "arch_top_bad_extends_*"),
    "architecture YAML syntax": ("arch_top_ok*", "arch_top_bad_yaml_syntax*"),
    "compute": ("arch_compute_ok.yaml", "arch_compute_bad_*"),
    "compute.energy": ("arch_compute_ok_energy*", "arch_compute_bad_energy_*"),
    "onchip_memory": ("arch_onchip_memory_ok*", "arch_onchip_memory_bad_*"),
    "dram, dram.channels[i]": ("arch_dram_ok*", "arch_dram_bad_*"),
    "interconnect": ("arch_interconnect_ok*", "arch_interconnect_bad_*"),
    "interconnect mesh": ("arch_interconnect_ok_mesh*", "arch_interconnect_bad_mesh_*"),
    "interconnect ring": ("arch_interconnect_ok_ring*", "arch_interconnect_bad_ring_*"),
    "interconnect crossbar": (
        "arch_interconnect_ok_crossbar*",
        "arch_interconnect_bad_crossbar_*",
    ),
    "adc": ("arch_adc_ok*", "arch_adc_bad_*"),
    "chips": ("arch_chips_ok*", "arch_chips_bad_*"),
    "compute crossbar_tile, cell": ("arch_crossbar_ok*", "arch_crossbar_bad_*"),
    "compute sram_cim_tile": ("arch_sram_cim_ok*", "arch_sram_cim_bad_*"),
    "mapping": ("arch_mapping_ok*", "arch_mapping_bad_*"),
    "host": ("arch_host_ok*", "arch_host_bad_*"),
    "published": ("arch_published_ok*", "arch_published_bad_*"),
    "provenance": ("arch_provenance_ok*", "arch_provenance_bad_*"),
    "workload top level, extends": ("wl_top_ok*", "wl_top_bad_extends_*"),
    "workload YAML syntax": ("wl_top_ok*", "wl_top_bad_yaml_syntax*"),
    "embedding": ("wl_embedding_ok*", "wl_embedding_bad_*"),
    "blocks, blocks.sites": ("wl_blocks_ok.yaml", "wl_blocks_bad_*"),
    "blocks.linears": ("wl_blocks_ok_linears*", "wl_blocks_bad_linear_*"),
    "blocks.linear_attention": (
        "wl_blocks_ok_linear_attention*",
        "wl_blocks_bad_linear_attention_*",
    ),
    "head": ("wl_head_ok*", "wl_head_bad_*"),
    "weights": ("wl_weights_ok*", "wl_weights_bad_*"),
    "coding": ("wl_coding_ok*", "wl_coding_bad_*"),
    "spikes": ("wl_spikes_ok*", "wl_spikes_bad_*"),
}


@pytest.mark.parametrize("section", list(COVERAGE))
def test_every_section_has_a_valid_and_an_invalid_case(section: str) -> None:
    ok_glob, bad_glob = COVERAGE[section]
    assert sorted(CASES_DIR.glob(ok_glob)), f"no valid case for {section}"
    assert sorted(CASES_DIR.glob(bad_glob)), f"no invalid case for {section}"


# --------------------------------------------------------------------------- valid cases


@pytest.mark.parametrize("case", _params(VALID))
def test_valid_case_loads(case: Case) -> None:
    config = case.load()
    assert isinstance(config, case.model)
    for spec in case.all("expect-value"):
        dotted, _, text = spec.partition(" = ")
        expected = _literal(text)
        actual = _lookup(config, dotted)
        if isinstance(expected, float) and not isinstance(actual, bool):
            assert actual == pytest.approx(expected, rel=1e-12), spec
        else:
            assert actual == expected, spec


@pytest.mark.parametrize("case", _params(VALID))
def test_valid_case_passes_neurosim_validate(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["validate", str(case.path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith(f"{case.path}: valid {case.kind} '{case.load().name}'")
    assert "error:" not in err
    assert "Traceback" not in out + err


# --------------------------------------------------------------------------- invalid cases


@pytest.mark.parametrize("case", _params(INVALID))
def test_invalid_case_raises_config_error(case: Case) -> None:
    error = _case_error(case)
    message = str(error)
    assert error.exit_code == 2
    assert message.startswith(f"invalid config {case.path} (")
    assert error.issues
    keys = [issue.key_path for issue in error.issues]
    for key in case.keys:
        assert key in keys, message
        assert f": {key}: " in message
    if case.line is not None:
        key = case.keys[0] if case.keys else ""
        issue = next(i for i in error.issues if i.key_path == key)
        assert issue.line == case.line, message
        assert issue.file is None  # written in the case file, not in its preset
        prefix = f"{case.path}:{case.line}: {key}: " if key else f"{case.path}:{case.line}: "
        assert f"\n  {prefix}" in message
    for text in case.texts:
        assert text in message
    for issue in error.issues:
        if issue.message.startswith("unknown key"):
            assert "; accepted keys: " in issue.message
        if issue.message.startswith("unknown kind"):
            assert "; known kinds: " in issue.message
    assert "Traceback" not in message


@pytest.mark.parametrize("case", _params(INVALID))
def test_invalid_case_fails_neurosim_validate_cleanly(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["validate", str(case.path)])
    out, err = capsys.readouterr()
    assert code == ConfigError.exit_code
    assert err.startswith(f"error: invalid config {case.path} (")
    assert "Traceback" not in out + err
    assert "valid architecture" not in out and "valid workload" not in out


@pytest.mark.parametrize("case", _params(INVALID))
def test_invalid_case_validate_reports_the_loader_error(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    load = cli.load_architecture if case.kind == "architecture" else cli.load_workload
    with pytest.raises(ConfigError) as info:
        load(case.path)
    main(["validate", str(case.path)])
    _, err = capsys.readouterr()
    assert err == f"error: {info.value}\n"


# --------------------------------------------------------------------------- mapping-time errors


def _run(arch: Path, out: Path, *extra: str) -> int:
    argv = ["run", str(arch), str(WORKLOAD_PRESET), "--tokens", "1", "--quiet"]
    return main([*argv, "--fidelity", "analytic", "--out", str(out), *extra])


@pytest.mark.parametrize("case", _params(INVALID_AT_RUN))
def test_mapping_error_through_neurosim_run(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case.load()  # the file itself is a valid architecture ...
    code = _run(case.path, tmp_path / "out")  # ... that the model does not fit
    out, err = capsys.readouterr()
    assert code == ConfigError.exit_code
    assert err.startswith("error: invalid config ")
    for key in case.keys:
        assert f": {key}: " in err
    for text in case.texts:
        assert text in err
    assert "Traceback" not in out + err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("case", _params(INVALID_AT_RUN))
def test_mapping_error_names_the_architecture_file(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(case.path, tmp_path / "out")
    _, err = capsys.readouterr()
    assert f"error: invalid config {case.path} (" in err


# --------------------------------------------------------------------------- cross-field checks

# errors raised by model validators that look at several keys at once
CROSS_FIELD_NAMES = {
    "arch_compute_bad_count_vs_core_nodes", "arch_dram_bad_attach_node",
    "arch_dram_bad_duplicate_names", "arch_interconnect_bad_core_node_outside",
    "arch_interconnect_bad_core_nodes_count", "wl_blocks_bad_duplicate_linear",
    "wl_blocks_bad_unknown_site", "wl_blocks_bad_unused_site",
    "wl_embedding_bad_tied_mismatch", "wl_head_bad_tied_width", "wl_spikes_bad_unknown_site",
}  # fmt: skip
CROSS_FIELD = [c for c in INVALID if c.path.stem in CROSS_FIELD_NAMES]


@pytest.mark.parametrize("case", _params(CROSS_FIELD))
def test_cross_field_errors_point_at_a_key_and_line(case: Case) -> None:
    assert len(CROSS_FIELD) == len(CROSS_FIELD_NAMES)
    error = _case_error(case)
    assert all(issue.key_path and issue.line is not None for issue in error.issues), error


# --------------------------------------------------------------------------- extends details


def _case_error_for(model: type[Architecture] | type[Workload], path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(model, path)
    return info.value


def test_error_in_preset_value_names_the_preset_file(tmp_path: Path) -> None:
    """A bad value inherited from the preset is reported at the preset's file and line."""
    text = (CASES_DIR / "arch_top_ok_standalone.yaml").read_text(encoding="utf-8")
    assert "\n  lanes: 256\n" in text
    text = text.replace("\n  lanes: 256\n", "\n  lanes: lots\n")
    base = tmp_path / "base.yaml"
    base.write_text(text, encoding="utf-8")
    line = text.splitlines().index("  lanes: lots") + 1
    child = tmp_path / "child.yaml"
    child.write_text("extends: base\nname: child\n", encoding="utf-8")
    error = _case_error_for(Architecture, child)
    assert error.path == child
    assert [(i.key_path, i.line, i.file) for i in error.issues] == [("compute.lanes", line, base)]
    assert f"\n  {base}:{line}: compute.lanes: " in str(error)


def test_extends_can_switch_the_topology_kind(tmp_path: Path) -> None:
    base = tmp_path / "mesh_base.yaml"
    base.write_text(
        (CASES_DIR / "arch_top_ok_standalone.yaml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    child = tmp_path / "ring_child.yaml"
    child.write_text(
        textwrap.dedent(
            """\
            extends: mesh_base
            name: ring_child
            interconnect:
              topology: {kind: ring, size: 6}
            """
        ),
        encoding="utf-8",
    )
    arch = load_config(Architecture, child, search_dirs=(tmp_path,))
    assert arch.interconnect.topology.kind == "ring"


# --------------------------------------------------------------------------- valid cases run


@pytest.mark.parametrize("case", _params(VALID))
def test_valid_case_runs_one_analytic_token(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arch = case.path if case.kind == "architecture" else ARCH_PRESET
    workload = case.path if case.kind == "workload" else WORKLOAD_PRESET
    argv = ["run", str(arch), str(workload), "--tokens", "1", "--fidelity", "analytic"]
    code = main([*argv, "--quiet", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "tokens/s" in out
    assert (tmp_path / "result.json").is_file()
