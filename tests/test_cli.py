"""The `neurosim` command line: help, `run` on the shipped presets, `validate`, user errors."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import neurosim
from neurosim.cli.app import load_architecture, load_workload, main

ROOT = Path(__file__).resolve().parent.parent
ARCH = ROOT / "architectures" / "vck190_nsllm.yaml"
WORKLOAD = ROOT / "workloads" / "nsllm-1.5b.yaml"
CASES_DIR = Path(__file__).resolve().parent / "config_cases"
OUTPUT_FILES = ("result.json", "metrics.csv", "energy_breakdown.csv", "latencies.csv")


def _assert_clean_error(code: int, out: str, err: str, *texts: str) -> None:
    """A user mistake: non-zero exit, one `error:` message naming it, no traceback."""
    assert code != 0
    assert err.startswith("error: "), err
    assert "Traceback" not in out + err
    for text in texts:
        assert text in err


# --------------------------------------------------------------------------- help


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: neurosim")
    for word in ("run", "validate", "--version"):
        assert word in out


def test_run_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: neurosim run")
    for word in ("architecture", "workload", "--tokens", "--seed", "--fidelity", "des"):
        assert word in out
    for word in ("analytic", "--no-contention", "--out", "--quiet"):
        assert word in out


def test_validate_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["validate", "--help"])
    assert info.value.code == 0
    assert "usage: neurosim validate" in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"neurosim {neurosim.__version__}"


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        ([], "required"),
        (["simulate"], "invalid choice"),
        (["run", str(ARCH)], "required"),
        (["run", str(ARCH), str(WORKLOAD), "--tokens", "two"], "invalid int value"),
        (["run", str(ARCH), str(WORKLOAD), "--fidelity", "rtl"], "invalid choice"),
    ],
    ids=["no-command", "unknown-command", "no-workload", "tokens-not-int", "bad-fidelity"],
)
def test_usage_errors_exit_2(
    argv: list[str], text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2 and err.startswith("error: neurosim")
    assert "usage: neurosim" in err and text in err
    assert "Traceback" not in out + err


# --------------------------------------------------------------------------- run


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str
    out_dir: Path
    seed: int
    tokens: int
    fidelity: str


def _run(out_dir: Path, fidelity: str, tokens: int, seed: int) -> Run:
    argv = ["run", str(ARCH), str(WORKLOAD), "--tokens", str(tokens), "--seed", str(seed)]
    argv += ["--fidelity", fidelity, "--out", str(out_dir), "--quiet"]
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(argv)
    return Run(code, stdout.getvalue(), stderr.getvalue(), out_dir, seed, tokens, fidelity)


@pytest.fixture(scope="module", params=["analytic", "des"])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One 2-token run of the shipped presets per fidelity (a DES run takes about 1 s)."""
    fidelity = request.param
    out_dir = tmp_path_factory.mktemp(f"run_{fidelity}") / "out"
    return _run(out_dir, fidelity, tokens=2, seed=3)


def test_run_exits_0_and_prints_the_result_table(run: Run) -> None:
    assert run.code == 0, run.err
    assert "Traceback" not in run.out + run.err
    assert "error:" not in run.err
    for text in ("tokens/s", "Published comparison", "bottleneck", "energy per token"):
        assert text in run.out
    assert f"{run.tokens} / {run.seed}" in run.out  # the "tokens / seed" row
    assert run.fidelity in run.out


def test_run_writes_the_four_result_files(run: Run) -> None:
    assert run.code == 0, run.err
    wrote = [line for line in run.out.splitlines() if line.startswith("wrote ")]
    assert len(wrote) == 1
    for name in OUTPUT_FILES:
        path = run.out_dir / name
        assert path.is_file() and path.stat().st_size > 0, name
        assert str(path) in wrote[0]


def test_run_result_json_holds_config_seed_and_version(run: Run) -> None:
    result = json.loads((run.out_dir / "result.json").read_text(encoding="utf-8"))
    assert result["version"] == neurosim.__version__
    assert result["seed"] == run.seed
    assert result["tokens"] == run.tokens
    assert result["fidelity"] == run.fidelity
    assert result["architecture"] == load_architecture(ARCH).name
    assert result["workload"] == load_workload(WORKLOAD).name
    assert len(result["latencies_s"]) == run.tokens
    assert result["bottleneck"]
    assert result["config_hash"]
    config = result["config"]
    assert config["architecture"] == load_architecture(ARCH).model_dump(mode="json")
    assert config["workload"] == load_workload(WORKLOAD).model_dump(mode="json")
    assert config["options"]["seed"] == run.seed
    assert config["options"]["tokens"] == run.tokens
    assert config["options"]["fidelity"] == run.fidelity


def test_run_csv_files_agree_with_result_json(run: Run) -> None:
    result = json.loads((run.out_dir / "result.json").read_text(encoding="utf-8"))
    with (run.out_dir / "metrics.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1
    assert rows[0]["seed"] == str(run.seed)
    assert rows[0]["version"] == neurosim.__version__
    assert float(rows[0]["tokens_per_s"]) == pytest.approx(result["metrics"]["tokens_per_s"])
    with (run.out_dir / "latencies.csv").open(newline="") as f:
        latencies = list(csv.DictReader(f))
    assert [int(r["token"]) for r in latencies] == list(range(run.tokens))
    with (run.out_dir / "energy_breakdown.csv").open(newline="") as f:
        parts = {r["part"]: float(r["energy_j_per_token"]) for r in csv.DictReader(f)}
    assert parts == pytest.approx(result["energy_per_token_j"])


def test_run_default_out_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["run", str(ARCH), str(WORKLOAD), "--tokens", "1", "--fidelity", "analytic"]
    assert main([*argv, "--seed", "7", "--quiet"]) == 0
    capsys.readouterr()
    arch, workload = load_architecture(ARCH).name, load_workload(WORKLOAD).name
    out_dir = tmp_path / "results" / f"{arch}__{workload}__analytic__s7"
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(OUTPUT_FILES)


# --------------------------------------------------------------------------- run: user errors


def _run_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_run_missing_architecture_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"
    argv = ["run", str(missing), str(WORKLOAD), "--out", str(tmp_path / "out")]
    code, out, err = _run_error(argv, capsys)
    _assert_clean_error(code, out, err, str(missing), "file not found")
    assert code == 2
    assert not (tmp_path / "out").exists()


def test_run_missing_workload_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"
    code, out, err = _run_error(["run", str(ARCH), str(missing)], capsys)
    _assert_clean_error(code, out, err, str(missing), "file not found")


def test_run_directory_instead_of_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run_error(["run", str(ARCH.parent), str(WORKLOAD)], capsys)
    _assert_clean_error(code, out, err, str(ARCH.parent), "is a directory; expected")


@pytest.mark.parametrize("tokens", ["0", "-3"])
def test_run_tokens_must_be_positive(
    tokens: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", str(ARCH), str(WORKLOAD), "--tokens", tokens, "--out", str(tmp_path / "o")]
    code, out, err = _run_error(argv, capsys)
    _assert_clean_error(code, out, err, "--tokens", f"must be at least 1; got {tokens}")
    assert not (tmp_path / "o").exists()


def test_run_invalid_architecture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = CASES_DIR / "arch_compute_bad_typo.yaml"
    argv = ["run", str(bad), str(WORKLOAD), "--out", str(tmp_path / "out")]
    code, out, err = _run_error(argv, capsys)
    _assert_clean_error(code, out, err, f"{bad}:7: compute.lane: unknown key; accepted keys:")
    assert code == 2
    assert not (tmp_path / "out").exists()


def test_run_invalid_workload(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = CASES_DIR / "wl_blocks_bad_levels.yaml"
    code, out, err = _run_error(["run", str(ARCH), str(bad)], capsys)
    _assert_clean_error(code, out, err, f"{bad}:9: blocks.sites.attn_in.levels: ")


def test_run_swapped_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run_error(["run", str(WORKLOAD), str(ARCH)], capsys)
    _assert_clean_error(code, out, err, str(WORKLOAD), "did you swap the arguments?")
    assert code == 2 and err.count("\n") == 1, err  # one hint, not one error per missing key


@pytest.mark.parametrize(
    ("argv", "named", "wanted"),
    [
        (["fpga", str(WORKLOAD), str(ARCH)], WORKLOAD, "expects an architecture"),
        (["accuracy", str(WORKLOAD)], WORKLOAD, "expects an architecture"),
        (["accuracy", str(ARCH), "--workload", str(ARCH)], ARCH, "expects a workload"),
    ],
)
def test_a_file_of_the_other_kind_is_named_as_such(
    argv: list[str], named: Path, wanted: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every command that loads configs says a workload is not an architecture (and the
    reverse) instead of listing every key the file lacks."""
    code, out, err = _run_error(argv, capsys)
    _assert_clean_error(code, out, err, str(named), wanted)
    assert "missing required key" not in err and "unknown key" not in err


def test_run_out_is_an_existing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taken = tmp_path / "taken"
    taken.write_text("not a directory\n", encoding="utf-8")
    argv = ["run", str(ARCH), str(WORKLOAD), "--tokens", "1", "--fidelity", "analytic"]
    code, out, err = _run_error([*argv, "--quiet", "--out", str(taken)], capsys)
    _assert_clean_error(code, out, err, str(taken))


def test_run_negative_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", str(ARCH), str(WORKLOAD), "--tokens", "1", "--fidelity", "analytic"]
    code, out, err = _run_error([*argv, "--seed", "-1", "--quiet", "--out", str(tmp_path)], capsys)
    _assert_clean_error(code, out, err, "--seed")


# --------------------------------------------------------------------------- validate


def test_validate_architecture_preset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ARCH)]) == 0
    out, err = capsys.readouterr()
    arch = load_architecture(ARCH)
    assert out.startswith(f"{ARCH}: valid architecture '{arch.name}'")
    for text in ("compute:", "on-chip memory:", "dram ", "interconnect:"):
        assert text in out
    assert "warning" not in out  # every number of the preset names its source
    assert err == ""


def test_validate_workload_preset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(WORKLOAD)]) == 0
    out, err = capsys.readouterr()
    workload = load_workload(WORKLOAD)
    assert out.startswith(f"{WORKLOAD}: valid workload '{workload.name}'")
    assert "parameters" in out
    for site in workload.blocks.sites:
        assert f"site {site}:" in out
    assert "warning" not in out
    assert err == ""


def test_validate_warns_about_unsourced_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {ARCH}\nname: child\nadc:\n" + _ADC, encoding="utf-8")
    assert main(["validate", str(child)]) == 0
    out = capsys.readouterr().out
    assert "warning:" in out and "adc.bits" in out


_ADC = """\
  bits: 8
  conversion_time_s: 1 ns
  energy_per_conversion_j: 2 pJ
  columns_per_adc: 8
  count: 64
  static_power_w: 50 mW
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "got an empty document"),
        ("foo: 1\n", "cannot tell what this file describes"),
        ("compute: [\n", "YAML syntax error"),
    ],
    ids=["empty", "neither-kind", "syntax"],
)
def test_validate_unusable_files(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = _run_error(["validate", str(path)], capsys)
    _assert_clean_error(code, out, err, str(path), message)


def test_validate_missing_file_and_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run_error(["validate", str(tmp_path / "nope.yaml")], capsys)
    _assert_clean_error(code, out, err, "file not found")
    code, out, err = _run_error(["validate", str(tmp_path)], capsys)
    _assert_clean_error(code, out, err, "is a directory; expected")


def test_console_script_validate() -> None:
    script = Path(sys.executable).parent / "neurosim"
    assert script.is_file(), f"console script not installed next to {sys.executable}"
    proc = subprocess.run(
        [str(script), "validate", "architectures/vck190_nsllm.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("architectures/vck190_nsllm.yaml: valid architecture '")
    for text in ("compute:", "on-chip memory:", "interconnect:"):
        assert text in proc.stdout
    assert "Traceback" not in proc.stderr


def test_published_figures_of_another_workload_are_not_compared(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The VCK190's published figures are for nsllm-1.5b: a run of another workload says
    so instead of printing an error against them."""
    other = Path(__file__).resolve().parents[1] / "workloads" / "smollm2-135m.yaml"
    argv = ["run", str(ARCH), str(other), "--tokens", "1", "--fidelity", "analytic"]
    assert main([*argv, "--quiet", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "not compared: the published figures are for workload nsllm-1.5b" in out
    assert "throughput (tokens/s)" not in out.split("Published comparison")[1]


def test_a_batch_run_does_not_overwrite_the_plain_runs_results(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default results folder names the run shape, so `--batch 2` writes beside the
    plain decode's folder instead of over it."""
    monkeypatch.chdir(tmp_path)
    argv = ["run", str(ARCH), str(WORKLOAD), "--tokens", "1", "--fidelity", "analytic", "--quiet"]
    assert main(argv) == 0
    assert main([*argv, "--batch", "2", "--prompt-tokens", "4"]) == 0
    capsys.readouterr()
    names = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert names == [
        "vck190_nsllm__nsllm-1.5b__analytic__s0",
        "vck190_nsllm__nsllm-1.5b__analytic__s0__p4__b2",
    ], names
