"""The sweep commands' surface: help texts, path checks, exit codes, outputs, real examples."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from neurosim.sweep import load_spec, plan_study, run_study

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"
SPEC = f"""architecture: {FIX / "tiny_arch.yaml"}
workload: {FIX / "tiny_workload.yaml"}
tokens: 1
axes:
  compute.clock_hz: [500 MHz, 1 GHz]
  workload.weights.bits: [2, 4]
"""
COMMANDS = ("sweep", "pareto", "sweep-export", "sweep-point")


def run_cli(argv, capsys) -> tuple[int, str, str]:
    from neurosim.cli.app import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def study_db(tmp_path_factory) -> Path:
    """A finished 4-point study on the tiny fixtures."""
    tmp = tmp_path_factory.mktemp("study")
    spec = tmp / "spec.yaml"
    spec.write_text(SPEC)
    db = tmp / "tiny.db"
    run_study(load_spec(spec), db, jobs=1)
    return db


def _subparsers():
    from neurosim.cli.app import _parser

    parser = _parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_every_option_of_the_sweep_commands_has_help():
    missing = [
        f"{name} {a.option_strings or a.dest}"
        for name in COMMANDS
        for a in _subparsers()[name]._actions
        if not a.help
    ]
    assert missing == []


def test_pareto_help_lists_the_metric_names(capsys):
    from neurosim.sweep.spec import KNOWN_METRICS

    with pytest.raises(SystemExit) as info:
        run_cli(["pareto", "--help"], capsys)
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for metric in KNOWN_METRICS:
        assert metric in text


@pytest.mark.parametrize("trailing_slash", [False, True], ids=["existing", "slash"])
def test_pareto_out_directory_writes_inside_it(study_db, tmp_path, capsys, trailing_slash):
    out_dir = tmp_path / "figs"
    if not trailing_slash:
        out_dir.mkdir()
    arg = f"{out_dir}/" if trailing_slash else str(out_dir)
    argv = ["pareto", study_db, "--x", "latency_mean_s", "--y", "energy_per_token_j"]
    code, _, err = run_cli([*argv, "--out", arg, "--formats", "png"], capsys)
    assert code == 0, err
    stem = "tiny_pareto_latency_mean_s_energy_per_token_j"
    assert sorted(p.name for p in out_dir.iterdir()) == [f"{stem}.csv", f"{stem}.png"]
    assert not list(tmp_path.glob("figs_*")) and not list(tmp_path.glob("figs.*"))


def test_paths_of_the_wrong_kind_are_refused_before_any_work(study_db, tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    a_dir = tmp_path / "dir"
    a_dir.mkdir()
    metrics = ["--x", "latency_mean_s", "--y", "energy_per_token_j"]
    cases = {
        "spec is a directory": (["sweep", a_dir], "is a directory"),
        "db is a directory": (["sweep", spec, "--db", a_dir], "--db"),
        "db under a file": (["sweep", spec, "--db", a_file / "s.db"], "is a file"),
        "db ends in a slash": (["sweep", spec, "--db", f"{tmp_path}/new/"], "is a directory"),
        "export db is a directory": (["sweep-export", a_dir, "--csv", "t.csv"], "is a directory"),
        "csv is a directory": (["sweep-export", study_db, "--csv", a_dir], "--csv"),
        "parquet is a directory": (["sweep-export", study_db, "--parquet", a_dir], "--parquet"),
        "point out is a file": (["sweep-point", study_db, "ab", "--out", a_file], "--out"),
        "pareto db is missing": (["pareto", tmp_path / "none.db", *metrics], "no such"),
        "pareto out under a file": (["pareto", study_db, *metrics, "--out", a_file / "p"], "--out"),
    }
    for name, (argv, expected) in cases.items():
        code, out, err = run_cli(argv, capsys)
        assert code == 2, name
        assert expected in err and "Traceback" not in out + err, (name, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "file.txt", "spec.yaml"]
    assert list(a_dir.iterdir()) == []


def test_failed_points_are_stored_then_the_sweep_exits_4(tmp_path, capsys, monkeypatch):
    import neurosim.simulate.systems as systems

    real = systems.run_system

    def breaks_at_1_ghz(arch, workload, **kw):
        if arch.compute.clock_hz == 1e9:
            raise RuntimeError("simulated crash")
        return real(arch, workload, **kw)

    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    db = tmp_path / "s.db"
    monkeypatch.setattr(systems, "run_system", breaks_at_1_ghz)
    code, out, err = run_cli(["sweep", spec, "--db", db, "--jobs", "1"], capsys)
    assert code == 4
    assert "2 done, 0 skipped, 2 failed" in out and "simulated crash" in out
    assert "2 point(s) of the study failed" in err
    code, _, _ = run_cli(["sweep", spec, "--db", db, "--jobs", "1"], capsys)
    assert code == 4  # kept on resume: the study still holds failed points
    monkeypatch.setattr(systems, "run_system", real)
    code, out, _ = run_cli(["sweep", spec, "--db", db, "--jobs", "1", "--retry-failed"], capsys)
    assert code == 0 and "this run stored 2 done" in out


def test_the_documented_point_key_is_a_real_point():
    text = (ROOT / "docs" / "sweeps.md").read_text()
    keys = re.findall(r"sweep-point results/sweeps/vck190_dram_clock_bits\.db (\w+)", text)
    assert keys
    study = load_spec(ROOT / "architectures" / "sweeps" / "vck190_dram_clock_bits.yaml")
    planned = [t.key for t in plan_study(study).tasks]
    for key in keys:
        assert sum(k.startswith(key) for k in planned) == 1, key


def test_an_architecture_given_as_the_sweep_spec_gets_one_line(capsys):
    code, _, err = run_cli(["sweep", str(ROOT / "architectures/vck190_nsllm.yaml"), "--dry-run"],
                           capsys)
    assert code == 2
    assert "looks like an architecture file" in err and "sweep spec" in err
    assert "unknown key" not in err and "Traceback" not in err


def test_a_sweep_spec_given_as_the_architecture_names_both_kinds(capsys):
    spec = str(ROOT / "architectures/sweeps/reram_adc_crossbar.yaml")
    code, _, err = run_cli(["run", spec, "nsllm-1.5b", "--tokens", "1"], capsys)
    assert code == 2 and "looks like a sweep" in err and "expects an architecture" in err
