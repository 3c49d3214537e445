"""How close the analytic bound comes to the DES on every shipped chip preset.

For each chip preset in architectures/ (GPUs have one fidelity and are skipped) and each
workload, runs both fidelities with contention and prints a Markdown table: tokens/s of
each, their ratio (analytic / DES: at least 1, the bound, and at most 1.25 is the target),
the busiest resource's utilization in each, and the bottleneck.

    python scripts/fidelity_table.py [--tokens 2] [--arch A.yaml ...] [--workload W.yaml ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neurosim.architecture import Architecture
from neurosim.simulate.run import prepare, simulate
from neurosim.simulate.systems import load_architecture, load_workload

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = [ROOT / "workloads/nsllm-1.5b.yaml", ROOT / "workloads/smollm2-135m.yaml"]


def busiest(result) -> float:
    """The highest utilization of any single resource."""
    return max(v for k, v in result.utilization.items() if not k.startswith("max "))


def main() -> None:
    """Print the table, one row per (preset, workload)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", type=Path, nargs="+", default=None)
    ap.add_argument("--workload", type=Path, nargs="+", default=WORKLOADS)
    ap.add_argument("--tokens", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    paths = args.arch or sorted((ROOT / "architectures").glob("*.yaml"))
    print(
        "| preset | workload | analytic tok/s | DES tok/s | ratio | busiest analytic | "
        "busiest DES | bottleneck (analytic / DES) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for path in paths:
        arch = load_architecture(path)
        if not isinstance(arch, Architecture):
            continue
        for wpath in args.workload:
            workload = load_workload(wpath)
            prep = prepare(arch, workload)
            runs = [
                simulate(
                    arch, workload, n_tokens=args.tokens, seed=args.seed, fidelity=f,
                    prepared=prep,
                )
                for f in ("analytic", "des")
            ]
            a, d = (r.metrics["tokens_per_s"] for r in runs)
            print(
                f"| {path.stem} | {workload.name} | {a:.4g} | {d:.4g} | {a / d:.3f} | "
                f"{busiest(runs[0]):.0%} | {busiest(runs[1]):.0%} | "
                f"{runs[0].bottleneck} / {runs[1].bottleneck} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
