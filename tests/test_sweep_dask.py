"""Sweeps on a Dask distributed cluster give the same rows as local worker processes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from neurosim.sweep import load_spec, run_study

distributed = pytest.importorskip("dask.distributed")

FIX = Path(__file__).resolve().parent / "fixtures"
SPEC = f"""
architecture: [{FIX / "tiny_arch.yaml"}, {FIX / "tiny_crossbar.yaml"}]
workload: {FIX / "tiny_workload.yaml"}
axes:
  workload.weights.bits: [2, 4, 8]
  workload.spikes.synthetic.default.silent_fraction: [0.3, 0.7]
seeds: [0, 5]
fidelity: analytic
tokens: 2
"""


def _rows(db: Path) -> dict:
    con = sqlite3.connect(db)
    try:
        return {
            r[0]: r[1:]
            for r in con.execute(
                "SELECT key, status, params, metrics, energy, traffic, tokens_per_s, "
                "energy_per_token_j FROM points"
            )
        }
    finally:
        con.close()


def test_dask_local_cluster_matches_the_local_executor(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    study = load_spec(spec)
    local = run_study(study, tmp_path / "local.db", jobs=2)
    assert local.statuses == {"done": 24}
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        run = run_study(study, tmp_path / "dask.db", dask_address=cluster.scheduler_address)
        assert run.workers.startswith("dask ")
        assert run.statuses == {"done": 24}
        again = run_study(study, tmp_path / "dask.db", dask_address=cluster.scheduler_address)
        assert again.progress.pending == 0
    assert _rows(tmp_path / "dask.db") == _rows(tmp_path / "local.db")


def test_unreachable_scheduler_is_a_usage_error(tmp_path):
    from neurosim.errors import UsageError

    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler"):
        run_study(
            load_spec(spec), tmp_path / "x.db", dask_address="tcp://127.0.0.1:1", dask_timeout_s=1
        )
