"""Sweeps survive being killed: SIGKILL mid-way then resume, and Ctrl-C (SIGINT)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from neurosim.sweep import load_spec, run_study

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"

# 240 points of ~5 ms each (DES on the tiny fixtures): long enough to kill mid-way
SPEC = f"""
name: resume_test
architecture: {FIX / "tiny_arch.yaml"}
workload: {FIX / "tiny_workload.yaml"}
axes:
  compute.clock_hz: {{start: 0.5 GHz, stop: 1.5 GHz, num: 5}}
  workload.spikes.synthetic.default.silent_fraction: {{start: 0.1, stop: 0.8, num: 8}}
  dram.channels[0].efficiency: [0.25, 0.5, 0.75]
seeds: [0, 1]
fidelity: des
tokens: 2
"""
TOTAL = 5 * 8 * 3 * 2


def _metric_rows(db: Path) -> dict[str, tuple]:
    con = sqlite3.connect(db)
    try:
        cols = [r[1] for r in con.execute("PRAGMA table_info(points)")]
        metric_cols = cols[cols.index("finished_at") + 1 :]
        assert "energy_per_token_j" in metric_cols
        sel = ", ".join(f'"{c}"' for c in ["key", "status", "metrics", "energy", *metric_cols])
        return {r[0]: r[1:] for r in con.execute(f"SELECT {sel} FROM points")}
    finally:
        con.close()


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(db, timeout=1)
        try:
            return con.execute("SELECT COUNT(*) FROM points").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:  # table not created yet
        return 0


def _start(spec: Path, db: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "neurosim.cli.app",
            "sweep",
            str(spec),
            "--db",
            str(db),
            "--jobs",
            "2",
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the workers go down with it
    )


def _wait_for_rows(proc: subprocess.Popen, db: Path, at_least: int) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        n = _count(db)
        if n >= at_least or proc.poll() is not None:
            return n
        time.sleep(0.01)
    pytest.fail("the sweep stored no rows within 60 s")


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, tuple]:
    """Rows of an uninterrupted run."""
    tmp = tmp_path_factory.mktemp("reference")
    spec = tmp / "spec.yaml"
    spec.write_text(SPEC)
    run = run_study(load_spec(spec), tmp / "ref.db", jobs=1)
    assert run.statuses == {"done": TOTAL}
    return _metric_rows(tmp / "ref.db")


def test_sigkill_mid_way_then_resume_keeps_exactly_one_row_per_point(tmp_path, reference):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    db = tmp_path / "study.db"
    proc = _start(spec, db)
    seen = _wait_for_rows(proc, db, 20)
    os.killpg(proc.pid, signal.SIGKILL)  # the coordinator and its workers, no clean-up
    proc.wait(timeout=30)
    proc.communicate()
    killed_at = _count(db)
    assert seen <= killed_at < TOTAL, "the sweep finished before it could be killed"
    rows_after_kill = _metric_rows(db)

    resumed = run_study(load_spec(spec), db, jobs=2)
    assert resumed.progress.stored_before == killed_at
    assert resumed.progress.done == TOTAL - killed_at  # nothing stored was recomputed
    rows = _metric_rows(db)
    assert len(rows) == TOTAL
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(DISTINCT key), COUNT(*) FROM points").fetchone() == (
        TOTAL,
        TOTAL,
    )
    con.close()
    assert rows == reference  # every metric column equals the uninterrupted run's
    for key, row in rows_after_kill.items():
        assert rows[key] == row  # rows stored before the kill were kept as they were


def test_ctrl_c_stops_cleanly_keeps_finished_points_and_resumes(tmp_path, reference):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    db = tmp_path / "study.db"
    proc = _start(spec, db)
    _wait_for_rows(proc, db, 20)
    os.kill(proc.pid, signal.SIGINT)  # Ctrl-C reaches the coordinator
    out, err = proc.communicate(timeout=60)
    stored = _count(db)
    assert proc.returncode != 0, "the sweep finished before Ctrl-C arrived (240 DES points)"
    assert proc.returncode == 130, err
    assert "interrupted" in err and "resume" in err
    assert "Traceback" not in err
    assert 0 < stored < TOTAL
    run_study(load_spec(spec), db, jobs=1)
    assert _metric_rows(db) == reference
