"""Workers reuse graphs, routes, placements and spikes between points; results never change."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from neurosim.sweep import load_spec, run_study
from neurosim.sweep.execute import chunk_size
from neurosim.sweep.worker import Reuse, WorkItem

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"
SPEC = f"""
architecture: {FIX / "tiny_arch.yaml"}
workload: {FIX / "tiny_workload.yaml"}
axes:
  compute.clock_hz: [500 MHz, 1 GHz]
  workload.spikes.synthetic.default.silent_fraction: [0.2, 0.7]
  dram.channels[0].efficiency: [0.5, 1.0]
seeds: [0, 1]
fidelity: %s
tokens: 2
"""


def _rows(db: Path) -> dict[str, tuple]:
    """Every stored column except timings, by key."""
    con = sqlite3.connect(db)
    try:
        cols = [r[1] for r in con.execute("PRAGMA table_info(points)")]
        keep = [c for c in cols if c not in ("wall_s", "finished_at", "idx")]
        sel = ", ".join(f'"{c}"' for c in keep)
        return {r[0]: r for r in con.execute(f"SELECT {sel} FROM points")}
    finally:
        con.close()


@pytest.mark.parametrize("fidelity", ["analytic", "des"])
def test_reuse_and_chunks_change_no_stored_value(tmp_path, fidelity):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC % fidelity)
    study = load_spec(spec)
    fresh = run_study(study, tmp_path / "fresh.db", jobs=1, reuse=False)
    assert fresh.statuses == {"done": 16}
    reused = run_study(study, tmp_path / "reused.db", jobs=1)
    pooled = run_study(study, tmp_path / "pooled.db", jobs=2, chunk=3)
    expected = _rows(tmp_path / "fresh.db")
    assert _rows(tmp_path / "reused.db") == expected
    assert _rows(tmp_path / "pooled.db") == expected
    assert reused.statuses == pooled.statuses == {"done": 16}


def test_what_is_reused_is_keyed_by_the_configs_it_comes_from():
    from neurosim.simulate.systems import load_architecture, load_workload

    arch = load_architecture(FIX / "tiny_arch.yaml")
    wl = load_workload(FIX / "tiny_workload.yaml")

    def item(seed: int, arch_key: str = "a", workload_key: str = "w") -> WorkItem:
        return WorkItem("k", arch, wl, seed, "analytic", 2, arch_key, workload_key)

    reuse = Reuse()
    first = reuse.prepare(item(0))
    assert reuse.prepare(item(1)) is first  # seeds share the placement and planner
    assert reuse.prepare(item(0, arch_key="b")) is not first
    assert reuse.prepare(item(0, arch_key="b")).graph is first.graph  # same workload
    s0 = reuse.source(item(0), first.graph)
    assert reuse.source(item(0, arch_key="b"), first.graph) is s0  # spikes ignore the arch
    assert reuse.source(item(1), first.graph) is not s0
    assert s0.label == "synthetic:seed=0:scale=1.0"
    assert reuse.hits >= 4


def test_chunks_spread_analytic_points_and_keep_des_points_single():
    assert chunk_size(400, 2, "analytic") == 16
    assert chunk_size(40, 2, "analytic") == 5
    assert chunk_size(3, 2, "analytic") == 1
    assert chunk_size(400, 2, "des") == 1


def test_worker_start_loads_the_compiled_kernel():
    """In a fresh process (nothing else has run the kernel), the worker start loads it."""
    code = (
        "import os\n"
        "from neurosim.sweep.worker import init_worker\n"
        "import neurosim.simulate.analytic as analytic\n"
        "before = len(analytic._schedule.signatures)\n"
        "init_worker(os.getppid())\n"
        "print(before, len(analytic._schedule.signatures))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["0", "1"]
