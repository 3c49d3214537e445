"""Sweep throughput: points per minute, analytic and DES, with 1 and 2 local workers.

Runs real studies through `neurosim.sweep.run_study` (spec -> points -> workers -> SQLite)
on the VCK190 preset with the SmolLM2-135M workload (nsllm-1.5b when SmolLM2 is absent),
each point a distinct config: PL clock x the silent fraction of every site (``--seeds N``:
N seeds of each config, which share placements and planners). Prints, per
case, the rate end to end (worker start-up included), the steady rate (first to last
stored point) and the CPU time per point (coordinator and workers), which a busy shared
machine disturbs less than the wall clock.

``--before DIR`` also measures another neurosim source tree (e.g. the commit before a
change: ``git archive COMMIT | tar -x -C DIR``), case by case in alternation with this
one, so both see the same machine load. Every case runs in a fresh process.
Usage: ``python scripts/sweep_bench.py [--analytic-points 400] [--des-points 60]
[--before DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"analytic": 4000.0, "des": 60.0}  # points/min with 2 workers
SITES = ("attn_in", "attn_ctx", "mlp_in", "mlp_act", "head")


def workload_path() -> tuple[Path, str]:
    """SmolLM2-135M if present, else nsllm-1.5b (and say so)."""
    smol = ROOT / "workloads" / "smollm2-135m.yaml"
    if smol.is_file():
        return smol, "smollm2-135m"
    return ROOT / "workloads" / "nsllm-1.5b.yaml", "nsllm-1.5b (smollm2-135m.yaml is absent)"


def spec_text(workload: Path, points: int, fidelity: str, tokens: int, seeds: int = 1) -> str:
    """A grid of `points` distinct points: clock x the silent fraction of every site
    (x `seeds` seeds, which share every config)."""
    clocks = max(1, points // (10 * seeds))
    paths = ", ".join(f"workload.spikes.synthetic.sites.{s}.silent_fraction" for s in SITES)
    return f"""
name: bench_{fidelity}
architecture: {ROOT / "architectures" / "vck190_nsllm.yaml"}
workload: {workload}
axes:
  compute.clock_hz: {{start: 150 MHz, stop: 450 MHz, num: {clocks}}}
  silent_fraction: {{paths: [{paths}], start: 0.45, stop: 0.9, step: 0.05}}
seeds: {list(range(seeds))}
fidelity: {fidelity}
tokens: {tokens}
"""


def measure(spec: Path, db: Path, jobs: int) -> dict[str, float]:
    """Run the study once into a fresh database (in this process); counts, rates, CPU."""
    from neurosim.sweep import load_spec, run_study

    t0 = time.perf_counter()
    run = run_study(load_spec(spec), db, jobs=jobs)
    wall = time.perf_counter() - t0
    with sqlite3.connect(db) as con:
        first, last, n = con.execute(
            "SELECT MIN(finished_at), MAX(finished_at), COUNT(*) FROM points WHERE status='done'"
        ).fetchone()
    cpu = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):  # workers are children
        usage = resource.getrusage(who)
        cpu += usage.ru_utime + usage.ru_stime
    return {
        "points": n,
        "failed": run.progress.failed + run.progress.skipped,
        "wall_s": wall,
        "end_to_end": 60 * n / wall,
        "steady": 60 * (n - 1) / (last - first) if n > 1 and last > first else float("nan"),
        "cpu_ms": 1e3 * cpu / max(1, n),
    }


def measure_in(tree: Path, spec: Path, db: Path, jobs: int) -> dict[str, float]:
    """`measure` in a fresh process importing neurosim from `tree`."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, __file__, "--measure", str(spec), str(db), str(jobs)],
        env=env,
        capture_output=True,
        text=True,
        cwd=tree,
    )
    if out.returncode != 0:
        raise SystemExit(f"measurement with {tree} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--analytic-points", type=int, default=400, help="points (400)")
    parser.add_argument("--des-points", type=int, default=60, help="points (60; 0 skips)")
    parser.add_argument("--tokens", type=int, default=2, help="tokens per point (2)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="workers (1 2)")
    parser.add_argument(
        "--seeds", type=int, default=1, help="seeds per config (1; more share configs)"
    )
    parser.add_argument(
        "--before", type=Path, default=None, help="another neurosim source tree to compare"
    )
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        spec, db, jobs = args.measure
        print(json.dumps(measure(Path(spec), Path(db), int(jobs))))
        return 0
    trees = [("after", ROOT)] + ([("before", args.before.resolve())] if args.before else [])
    wl, wl_name = workload_path()
    print(
        f"workload {wl_name}, architecture vck190_nsllm, {args.tokens} tokens per point, "
        f"{args.seeds} seed(s) per config"
    )
    print(
        f"{'code':6} {'fidelity':9} {'workers':>7} {'points':>6} {'wall s':>7} "
        f"{'pts/min end-to-end':>19} {'pts/min steady':>15} {'CPU ms/pt':>10}  target"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for fidelity, points in (("analytic", args.analytic_points), ("des", args.des_points)):
            if points <= 0:
                continue
            spec = Path(tmp) / f"{fidelity}.yaml"
            spec.write_text(spec_text(wl, points, fidelity, args.tokens, args.seeds))
            for jobs in args.jobs:
                for name, tree in reversed(trees):  # before first: it warms no cache of ours
                    db = Path(tmp) / f"{fidelity}_{jobs}_{name}.db"
                    m = measure_in(tree, spec, db, jobs)
                    target = ""
                    if jobs == 2:
                        ok = m["end_to_end"] >= TARGETS[fidelity]
                        target = f">= {TARGETS[fidelity]:.0f}: {'met' if ok else 'MISSED'}"
                    print(
                        f"{name:6} {fidelity:9} {jobs:7d} {m['points']:6d} {m['wall_s']:7.1f} "
                        f"{m['end_to_end']:19.0f} {m['steady']:15.0f} {m['cpu_ms']:10.1f}  "
                        f"{target}",
                        flush=True,
                    )
                    if m["failed"]:
                        print(f"  warning: {m['failed']} points failed or were skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
