"""Benchmark: wall time per simulated token, engine events per second, peak memory.

Runs NSLLM-1.5B on the VCK190 preset at both fidelities. Each measurement runs in a
fresh subprocess so peak memory (ru_maxrss) belongs to that run alone. Prints figures;
asserts nothing (speed is measured here, not in timed tests).

    python scripts/benchmark.py [--tokens 8 64] [--arch A.yaml] [--workload W.yaml]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, resource, sys, time, tracemalloc
from pathlib import Path
from neurosim.cli import load_architecture, load_workload
from neurosim.simulate.run import simulate
arch = load_architecture(Path(sys.argv[1])); wl = load_workload(Path(sys.argv[2]))
fidelity, tokens, traced = sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
simulate(arch, wl, n_tokens=1, fidelity="analytic")          # warm numba's cache
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if traced:
    tracemalloc.start()
t = time.perf_counter()
r = simulate(arch, wl, n_tokens=tokens, fidelity=fidelity)
wall = time.perf_counter() - t
traced_peak = tracemalloc.get_traced_memory()[1] if traced else 0
print(json.dumps({"wall_s": wall, "events": r.engine_events,
                  "tokens_per_s": r.metrics["tokens_per_s"],
                  "traced_peak_mb": traced_peak / 2**20,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "maxrss_before_mb": base / 1024}))
"""


def measure(arch: Path, workload: Path, fidelity: str, tokens: int, traced: bool) -> dict:
    """Run one measurement in a fresh interpreter and return its figures.

    With `traced`, Python allocations are traced (slower) to report their peak; timing
    figures come from an untraced run.
    """
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(arch), str(workload), fidelity, str(tokens),
         "1" if traced else "0"],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print the benchmark table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", type=Path, default=ROOT / "architectures/vck190_nsllm.yaml")
    ap.add_argument("--workload", type=Path, default=ROOT / "workloads/nsllm-1.5b.yaml")
    ap.add_argument("--tokens", type=int, nargs="+", default=[8, 64])
    args = ap.parse_args()
    print(f"{args.arch.name} x {args.workload.name}")
    header = (f"{'fidelity':<9}{'tokens':>7}{'wall s':>9}{'s/token':>10}{'events/s':>11}"
              f"{'traced peak MB':>16}{'RSS growth MB':>15}")
    print(header)
    print("-" * len(header))
    for fidelity in ("analytic", "des"):
        for tokens in args.tokens:
            m = measure(args.arch, args.workload, fidelity, tokens, traced=False)
            m["traced_peak_mb"] = measure(
                args.arch, args.workload, fidelity, tokens, traced=True
            )["traced_peak_mb"]
            per_token = m["wall_s"] / tokens
            eps = m["events"] / m["wall_s"] if m["events"] else float("nan")
            growth = m["maxrss_mb"] - m["maxrss_before_mb"]
            print(f"{fidelity:<9}{tokens:>7}{m['wall_s']:>9.2f}{per_token:>10.4f}{eps:>11.0f}"
                  f"{m['traced_peak_mb']:>16.1f}{growth:>15.1f}")


if __name__ == "__main__":
    main()
