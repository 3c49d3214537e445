"""Sweeps: spec validation, point expansion, the store, resume, reproduction, export."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path

import numpy as np
import pytest

from neurosim.errors import ConfigError
from neurosim.sweep import (
    expand,
    export_study,
    load_spec,
    load_study,
    plan_study,
    run_study,
)
from neurosim.sweep.points import latin_hypercube

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"
TINY_ARCH = FIX / "tiny_arch.yaml"
TINY_WL = FIX / "tiny_workload.yaml"
TINY_XBAR = FIX / "tiny_crossbar.yaml"
A800 = ROOT / "architectures" / "a800.yaml"


def write_spec(tmp_path: Path, body: str, name: str = "spec.yaml") -> Path:
    """A spec file on the tiny fixtures; `body` adds or overrides top-level keys."""
    head = f"architecture: {TINY_ARCH}\nworkload: {TINY_WL}\n"
    path = tmp_path / name
    path.write_text(head + textwrap.dedent(body))
    return path


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    from neurosim.cli.app import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- spec


def test_dry_run_lists_every_point_and_the_count(tmp_path, capsys):
    spec = write_spec(
        tmp_path,
        """
        axes:
          compute.clock_hz: {start: 500 MHz, stop: 1 GHz, step: 250 MHz}
          workload.weights.bits: [2, 4]
        seeds: [0, 1]
        tokens: 1
        """,
    )
    code, out, err = run_cli(["sweep", spec, "--dry-run", "--db", tmp_path / "s.db"], capsys)
    assert code == 0, err
    assert "study spec: 12 points" in out
    assert "3 compute.clock_hz x 2 workload.weights.bits x 2 seed(s) = 12 points" in out
    rows = [line for line in out.splitlines() if line[:5].strip().isdigit()]
    assert len(rows) == 12
    assert "clock_hz=750 MHz" in out  # values shown in readable units
    assert not (tmp_path / "s.db").exists()  # a dry run writes nothing


def test_ranges_lists_and_units_become_concrete_values(tmp_path):
    spec = write_spec(
        tmp_path,
        """
        axes:
          compute.clock_hz: {start: 0.5 GHz, stop: 1 GHz, num: 3}
          compute.lanes: {start: 4, stop: 64, num: 5, scale: log, integer: true}
          workload.spikes.synthetic.default.silent_fraction: {start: 0.1, stop: 0.5, step: 0.1}
          onchip_memory.capacity_bytes: ["8 KiB", 16384]
        tokens: 1
        """,
    )
    axes = {a.name: a.values for a in load_spec(spec).axes}
    assert axes["compute.clock_hz"] == (5e8, 7.5e8, 1e9)
    assert axes["compute.lanes"] == (4, 8, 16, 32, 64)
    assert axes["workload.spikes.synthetic.default.silent_fraction"] == (0.1, 0.2, 0.3, 0.4, 0.5)
    assert axes["onchip_memory.capacity_bytes"] == ("8 KiB", 16384)


INVALID = {
    "unknown_arch_path": (
        "axes:\n  compute.clok_hz: [1, 2]\n",
        ['axes["compute.clok_hz"]', "no key 'clok_hz'", "accepted keys there"],
    ),
    "workload_path_without_prefix": (
        "axes:\n  weights.bits: [2, 4]\n",
        ["did you mean workload.weights.bits?"],
    ),
    "unknown_workload_path": (
        "fixed:\n  workload.weights.bitz: 4\n",
        ['fixed["workload.weights.bitz"]', "no key 'bitz'"],
    ),
    "index_out_of_range": (
        "axes:\n  dram.channels[5].efficiency: [0.5]\n",
        ["index out of range (the list has 2 items)"],
    ),
    "empty_axis": ("axes:\n  compute.lanes: []\n", ["empty axis"]),
    "scalar_axis": ("axes:\n  compute.lanes: 16\n", ["an axis is a list of values"]),
    "wrong_type_tokens": ("tokens: many\n", ["tokens", "valid integer"]),
    "wrong_type_seeds": ("seeds: [a]\n", ["seeds[0]", "valid integer"]),
    "negative_seed": ("seeds: [-1]\n", ["non-negative"]),
    "unknown_key": ("axis:\n  compute.lanes: [1]\n", ["axis", "unknown key"]),
    "unknown_metric": ("metrics: [tokens_per_s, joy]\n", ["unknown metric(s) joy"]),
    "unknown_fidelity": ("fidelity: exact\n", ["fidelity"]),
    "budget_below_grid": (
        "axes:\n  compute.lanes: [1, 2, 3]\nseeds: [0, 1]\nbudget: 5\n",
        ["budget", "the grid has 6 points, more than the budget of 5"],
    ),
    "distribution_on_grid": (
        "axes:\n  compute.lanes: {distribution: uniform, low: 1, high: 8}\n",
        ["has no grid values"],
    ),
    "random_without_budget": (
        "axes:\n  compute.lanes: [1, 2]\nstrategy: random\n",
        ["strategy random needs a `budget`"],
    ),
    "range_step_and_num": (
        "axes:\n  compute.lanes: {start: 1, stop: 8, step: 1, num: 3}\n",
        ["exactly one of `step` or `num`"],
    ),
    "range_wrong_way": (
        "axes:\n  compute.lanes: {start: 8, stop: 1, step: 1}\n",
        ["does not lead from 8 to 1"],
    ),
    "unit_on_plain_field": (
        "axes:\n  compute.lanes: {start: 1 GHz, stop: 2 GHz, num: 2}\n",
        ["does not say its dimension"],
    ),
    "bad_unit": (
        "axes:\n  compute.clock_hz: {start: 1 GB, stop: 2 GHz, num: 2}\n",
        ["expected a frequency"],
    ),
    "pick_unknown_item": (
        "axes:\n  ch:\n    paths: [dram.channels]\n    pick: [[ch0], [ch7]]\n",
        ["no item named 'ch7'"],
    ),
    "set_mismatched_keys": (
        "axes:\n  a:\n    set:\n      - {compute.lanes: 4}\n      - {compute.count: 4}\n",
        ["every `set` item sets the same paths"],
    ),
    "swept_and_fixed": (
        "fixed:\n  compute.lanes: 4\naxes:\n  compute.lanes: [8, 16]\n",
        ["also in `fixed`"],
    ),
    "labels_length": (
        "axes:\n  compute.lanes: {values: [4, 8], labels: [four]}\n",
        ["`labels` has 1 items but `values` has 2"],
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_spec_is_a_config_error_with_non_zero_exit(case, tmp_path, capsys):
    body, expected = INVALID[case]
    spec = write_spec(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_spec(spec)
    message = str(info.value)
    assert str(spec) in message
    for text in expected:
        assert text in message, message
    code, out, err = run_cli(["sweep", spec, "--dry-run"], capsys)
    assert code == 2
    assert err.startswith("error: invalid config")
    assert "Traceback" not in out + err


def test_config_error_names_the_line(tmp_path):
    spec = write_spec(tmp_path, "tokens: 1\naxes:\n  compute.lanes: [4]\n  compute.bogus: [1]\n")
    with pytest.raises(ConfigError) as info:
        load_spec(spec)
    assert f'{spec}:6: axes["compute.bogus"]' in str(info.value)


def test_missing_base_file(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text(f"architecture: nowhere.yaml\nworkload: {TINY_WL}\n")
    code, _, err = run_cli(["sweep", spec, "--dry-run"], capsys)
    assert code == 2 and "architecture: file not found" in err


# --------------------------------------------------------------------------- points


def test_invalid_point_is_stored_as_skipped_with_its_reason(tmp_path):
    spec = write_spec(
        tmp_path,
        """
        axes:
          dram.channels[0].efficiency: [0.5, 1.5]
        tokens: 1
        """,
    )
    run = run_study(load_spec(spec), tmp_path / "s.db", jobs=1)
    assert run.statuses == {"done": 1, "skipped": 1}
    frame = load_study(tmp_path / "s.db", status=None)
    skipped = frame[frame.status == "skipped"].iloc[0]
    assert skipped["dram.channels[0].efficiency"] == 1.5
    assert "dram.channels[0].efficiency" in skipped["error"]
    assert "less than or equal to 1" in skipped["error"]


def test_pick_and_set_axes(tmp_path):
    spec = write_spec(
        tmp_path,
        """
        axes:
          dram:
            paths: [dram.channels]
            pick: [[ch0], [ch1, ch0]]
          core:
            set:
              - {compute.count: 4, compute.lanes: 16}
              - {compute.count: 2, interconnect.core_nodes: [0, 1], compute.lanes: 32}
        tokens: 1
        """,
    )
    with pytest.raises(ConfigError, match="every `set` item sets the same paths"):
        load_spec(spec)
    spec = write_spec(
        tmp_path,
        """
        axes:
          dram:
            paths: [dram.channels]
            pick: [[ch0], [ch1, ch0]]
          core:
            set:
              - {compute.count: 4, interconnect.core_nodes: [0, 1, 3, 4], compute.lanes: 16}
              - {compute.count: 2, interconnect.core_nodes: [0, 1], compute.lanes: 32}
        tokens: 1
        """,
    )
    plan = plan_study(load_spec(spec))
    assert len(plan.tasks) == 4 and not plan.skipped
    by_params = {(t.params["dram"], t.params["compute.count"]): t for t in plan.tasks}
    task = by_params[("ch1+ch0", 2)]
    assert [c.name for c in task.arch.dram.channels] == ["ch1", "ch0"]
    assert task.arch.compute.lanes == 32 and task.arch.interconnect.core_nodes == [0, 1]
    assert task.params["interconnect.core_nodes"] == "[0,1]"


def test_random_and_latin_hypercube_are_seeded_and_within_budget(tmp_path):
    body = """
        axes:
          compute.clock_hz: {distribution: loguniform, low: 100 MHz, high: 1 GHz}
          compute.lanes: {distribution: uniform, low: 4, high: 64, integer: true}
          workload.weights.bits: {distribution: choice, values: [2, 4, 8]}
        strategy: {kind: %s, seed: 7}
        budget: 20
        seeds: [0, 1]
        tokens: 1
    """
    for kind in ("random", "latin_hypercube"):
        a = expand(load_spec(write_spec(tmp_path, body % kind, "a.yaml")))
        b = expand(load_spec(write_spec(tmp_path, body % kind, "b.yaml")))
        assert a == b and len(a) == 20
        clocks = [p.values[0] for p in a]
        assert all(1e8 <= c <= 1e9 for c in clocks)
        assert all(isinstance(p.values[1], int) and 4 <= p.values[1] <= 64 for p in a)
    other = expand(load_spec(write_spec(tmp_path, (body % "random").replace("7", "8"), "c.yaml")))
    assert [p.values for p in other] != [p.values for p in a]


def test_latin_hypercube_hits_every_stratum_once():
    u = latin_hypercube(50, 3, np.random.default_rng(1))
    for j in range(3):
        assert sorted((u[:, j] * 50).astype(int)) == list(range(50))


# --------------------------------------------------------------------------- store


SMALL = """
    axes:
      compute.clock_hz: [500 MHz, 1 GHz]
      workload.weights.bits: [2, 4]
    seeds: [0, 1]
    tokens: 1
"""


def test_rows_carry_config_metrics_energy_and_resume_recomputes_nothing(tmp_path):
    study = load_spec(write_spec(tmp_path, SMALL))
    db = tmp_path / "s.db"
    first = run_study(study, db, jobs=1)
    assert first.statuses == {"done": 8} and first.progress.done == 8
    again = run_study(study, db, jobs=1)
    assert again.progress.stored_before == 8 and again.progress.pending == 0
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    rows = con.execute(
        "SELECT key, result_hash, config, seed, version, energy, energy_per_token_j, metrics "
        "FROM points"
    ).fetchall()
    assert len(rows) == 8 == len({r[0] for r in rows})
    for key, result_hash, config, seed, version, energy, e_col, metrics in rows:
        assert key == result_hash  # the key is the Result's config hash
        cfg = json.loads(config)
        assert cfg["options"]["seed"] == seed and cfg["architecture"]["name"] == "tiny_test_arch"
        assert version
        assert e_col == json.loads(metrics)["energy_per_token_j"]
        assert sum(json.loads(energy).values()) == pytest.approx(e_col)


def test_study_frame_and_exports(tmp_path, capsys):
    study = load_spec(write_spec(tmp_path, SMALL))
    db = tmp_path / "s.db"
    run_study(study, db, jobs=1)
    frame = load_study(db)
    assert len(frame) == 8
    for col in (
        "key",
        "compute.clock_hz",
        "workload.weights.bits",
        "seed",
        "tokens_per_s",
        "energy_per_token_j",
        "traffic_dram_read_bytes_per_token",
    ):
        assert col in frame.columns
    assert any(c.startswith("energy_compute.") for c in frame.columns)
    code, out, err = run_cli(
        ["sweep-export", db, "--csv", tmp_path / "t.csv", "--parquet", tmp_path / "t.parquet"],
        capsys,
    )
    assert code == 0, err
    import pandas as pd

    assert len(pd.read_csv(tmp_path / "t.csv")) == 8
    pytest.importorskip("pyarrow")
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert list(back["key"]) == list(frame["key"])
    assert np.allclose(back["tokens_per_s"], frame["tokens_per_s"])
    assert export_study(db, csv=tmp_path / "u.csv") == [tmp_path / "u.csv"]


def test_cli_sweep_runs_and_reports(tmp_path, capsys):
    spec = write_spec(tmp_path, SMALL)
    code, out, err = run_cli(["sweep", spec, "--db", tmp_path / "s.db", "--jobs", "1"], capsys)
    assert code == 0, err
    assert "this run stored 8 done, 0 skipped, 0 failed" in out
    code, out, _ = run_cli(["sweep", spec, "--db", tmp_path / "s.db", "--jobs", "1"], capsys)
    assert "8 were stored already; this run stored 0 done" in out
    code, _, err = run_cli(["sweep-export", tmp_path / "nothing.db", "--csv", "x.csv"], capsys)
    assert code == 2 and "no such study database" in err


# --------------------------------------------------------------------------- reproduction


@pytest.mark.parametrize("arch", [TINY_ARCH, A800], ids=["chip", "gpu"])
def test_a_stored_point_reruns_alone_with_the_same_numbers(arch, tmp_path, capsys):
    from neurosim.cli.app import main as neurosim_main

    spec = tmp_path / "spec.yaml"
    spec.write_text(
        f"architecture: {arch}\nworkload: {TINY_WL}\nfidelity: des\ntokens: 2\nseeds: [3]\n"
        "axes:\n  workload.spikes.synthetic.default.silent_fraction: [0.3, 0.6]\n"
    )
    db = tmp_path / "s.db"
    run_study(load_spec(spec), db, jobs=1)
    stored = load_study(db).iloc[1]
    code, out, err = run_cli(
        ["sweep-point", db, stored["key"][:8], "--out", tmp_path / "point"], capsys
    )
    assert code == 0, err
    assert "--seed 3 --tokens 2 --fidelity des" in out
    run_dir = tmp_path / "rerun"
    code = neurosim_main(
        [
            "run",
            str(tmp_path / "point" / "architecture.yaml"),
            str(tmp_path / "point" / "workload.yaml"),
            "--seed",
            "3",
            "--tokens",
            "2",
            "--fidelity",
            "des",
            "--out",
            str(run_dir),
            "--quiet",
        ]
    )
    assert code == 0
    result = json.loads((run_dir / "result.json").read_text())
    with sqlite3.connect(db) as con:
        metrics = json.loads(
            con.execute("SELECT metrics FROM points WHERE key = ?", (stored["key"],)).fetchone()[0]
        )
    assert result["metrics"] == metrics
    if arch == TINY_ARCH:
        assert result["config_hash"] == stored["key"]


EXAMPLES = sorted(
    p for p in (ROOT / "architectures" / "sweeps").glob("*.yaml") if "\naxes:" in p.read_text()
)


@pytest.mark.parametrize("spec", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_studies_are_valid(spec):
    study = load_spec(spec)
    plan = plan_study(study)
    # a study that runs the real model at every point (perplexity) is minutes per point
    real_model = {"perplexity", "agreement"} & set(study.spec.metrics)
    assert plan.total >= (8 if real_model else 40) and not plan.skipped
    assert study.spec.budget is None or plan.total <= study.spec.budget
