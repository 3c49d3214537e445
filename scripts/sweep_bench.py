"""Sweep throughput: points per minute, analytic and DES, with 1 and 2 local workers.

Runs real studies through `neurosim.sweep.run_study` (spec -> points -> workers -> SQLite)
on the VCK190 preset with the SmolLM2-135M workload (nsllm-1.5b when SmolLM2 is absent),
each point a distinct config (PL clock x firing rate x weight bits). Prints two rates per
case: end to end (worker start-up included) and steady state (first to last stored
point). Usage: ``python scripts/sweep_bench.py [--analytic-points 400] [--des-points 60]``.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from neurosim.sweep import load_spec, run_study

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"analytic": 1000.0, "des": 60.0}  # points/min with 2 workers


def workload_path() -> tuple[Path, str]:
    """SmolLM2-135M if present, else nsllm-1.5b (and say so)."""
    smol = ROOT / "workloads" / "smollm2-135m.yaml"
    if smol.is_file():
        return smol, "smollm2-135m"
    return ROOT / "workloads" / "nsllm-1.5b.yaml", "nsllm-1.5b (smollm2-135m.yaml is absent)"


def spec_text(workload: Path, points: int, fidelity: str, tokens: int) -> str:
    """A grid of exactly `points` distinct points (clock x silent fraction)."""
    clocks = max(1, points // 10)
    return f"""
name: bench_{fidelity}
architecture: {ROOT / "architectures" / "vck190_nsllm.yaml"}
workload: {workload}
axes:
  compute.clock_hz: {{start: 150 MHz, stop: 450 MHz, num: {clocks}}}
  workload.spikes.synthetic.default.silent_fraction: {{start: 0.5, stop: 0.9, num: 10}}
fidelity: {fidelity}
tokens: {tokens}
"""


def measure(spec: Path, db: Path, jobs: int) -> dict[str, float]:
    """Run the study once into a fresh database; return counts and rates."""
    t0 = time.perf_counter()
    run = run_study(load_spec(spec), db, jobs=jobs)
    wall = time.perf_counter() - t0
    with sqlite3.connect(db) as con:
        first, last, n = con.execute(
            "SELECT MIN(finished_at), MAX(finished_at), COUNT(*) FROM points WHERE status='done'"
        ).fetchone()
    steady = 60 * (n - 1) / (last - first) if n > 1 and last > first else float("nan")
    return {
        "points": n,
        "failed": run.progress.failed + run.progress.skipped,
        "wall_s": wall,
        "end_to_end": 60 * n / wall,
        "steady": steady,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--analytic-points", type=int, default=400)
    parser.add_argument("--des-points", type=int, default=60)
    parser.add_argument("--tokens", type=int, default=2, help="tokens per point (2)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    wl, wl_name = workload_path()
    print(f"workload {wl_name}, architecture vck190_nsllm, {args.tokens} tokens per point")
    print(
        f"{'fidelity':9} {'workers':>7} {'points':>6} {'wall s':>7} "
        f"{'pts/min end-to-end':>19} {'pts/min steady':>15}  target (2 workers)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for fidelity, points in (("analytic", args.analytic_points), ("des", args.des_points)):
            spec = Path(tmp) / f"{fidelity}.yaml"
            spec.write_text(spec_text(wl, points, fidelity, args.tokens))
            for jobs in args.jobs:
                m = measure(spec, Path(tmp) / f"{fidelity}_{jobs}.db", jobs)
                target = ""
                if jobs == 2:
                    ok = m["end_to_end"] >= TARGETS[fidelity]
                    target = f">= {TARGETS[fidelity]:.0f}: {'met' if ok else 'MISSED'}"
                print(
                    f"{fidelity:9} {jobs:7d} {m['points']:6d} {m['wall_s']:7.1f} "
                    f"{m['end_to_end']:19.0f} {m['steady']:15.0f}  {target}"
                )
                if m["failed"]:
                    print(f"  warning: {m['failed']} points failed or were skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
