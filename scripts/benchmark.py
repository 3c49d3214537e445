"""Benchmark: wall time per simulated token, engine events per second, peak memory.

Runs NSLLM-1.5B on the VCK190 preset at both fidelities. Each measurement runs in a
fresh subprocess so peak memory (ru_maxrss) belongs to that run alone. Prints figures;
asserts nothing (speed is measured here, not in timed tests).

    python scripts/benchmark.py [--tokens 8 64] [--arch A.yaml] [--workload W.yaml]
                                [--src OLD_CHECKOUT .] [--fidelity analytic des]
                                [--batch 8] [--prompt-tokens 1024]
                                [--multichip pcm_cim loihi] [--multichip-tokens 8]

--batch and --prompt-tokens time a run of that shape: "tokens" are then decode steps
(each makes one token of every sequence), after one prefill step of the prompt.

With several --src trees (e.g. an export of an older commit and this one), each row is
measured for each tree in turn, so a before/after comparison shares one machine state.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, resource, sys, time, tracemalloc
from pathlib import Path
from neurosim.simulate.systems import load_architecture, load_workload
from neurosim.simulate.run import simulate
arch = load_architecture(Path(sys.argv[1])); wl = load_workload(Path(sys.argv[2]))
fidelity, tokens, traced = sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
shape = {"batch": int(sys.argv[6]), "prompt_tokens": int(sys.argv[7])} if len(sys.argv) > 6 else {}
simulate(arch, wl, n_tokens=1, fidelity="analytic")          # warm numba's cache
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if traced:
    tracemalloc.start()
t, cpu = time.perf_counter(), time.process_time()
r = simulate(arch, wl, n_tokens=tokens, fidelity=fidelity, **shape)
wall, cpu = time.perf_counter() - t, time.process_time() - cpu
traced_peak = tracemalloc.get_traced_memory()[1] if traced else 0
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "events": r.engine_events,
                  "tokens_per_s": r.metrics["tokens_per_s"],
                  "traced_peak_mb": traced_peak / 2**20,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "maxrss_before_mb": base / 1024}))
"""


_MULTICHIP_CHILD = r"""
import json, sys, time
from pathlib import Path
from neurosim.simulate.systems import load_architecture, load_workload
from neurosim.simulate.run import prepare, simulate
root, arch_path, tokens = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[4])
wl = load_workload(Path(sys.argv[3]))
simulate(load_architecture(root / "architectures/vck190_nsllm.yaml"), wl, n_tokens=1,
         fidelity="analytic")                                 # warm numba's cache on one chip
arch = load_architecture(arch_path)
t = time.perf_counter()
prep = prepare(arch, wl)
setup = time.perf_counter() - t
t = time.perf_counter()
r = simulate(arch, wl, n_tokens=tokens, fidelity="analytic")
print(json.dumps({"setup_s": setup, "wall_s": time.perf_counter() - t,
                  "chips": prep.placement.chips, "links": prep.planner.routing.n_links,
                  "tokens_per_s": r.metrics["tokens_per_s"]}))
"""


def measure_multichip(arch: Path, workload: Path, tokens: int) -> dict:
    """Setup time and an analytic run of a multi-chip preset, in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", _MULTICHIP_CHILD, str(ROOT), str(arch), str(workload),
         str(tokens)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(
    arch: Path, workload: Path, fidelity: str, tokens: int, traced: bool, src: Path = ROOT,
    batch: int = 1, prompt_tokens: int = 0,
) -> dict:
    """Run one measurement in a fresh interpreter importing neurosim from `src`.

    With `traced`, Python allocations are traced (slower) to report their peak; timing
    figures come from an untraced run. `batch` and `prompt_tokens` shape the run (an older
    source tree without them is timed only with the defaults).
    """
    src = src.resolve()  # `python -c` puts the working directory first on sys.path
    env = dict(os.environ, PYTHONPATH=str(src))
    shape = [str(batch), str(prompt_tokens)] if (batch, prompt_tokens) != (1, 0) else []
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(arch.resolve()), str(workload.resolve()), fidelity,
         str(tokens), "1" if traced else "0", *shape],
        check=True, capture_output=True, text=True, env=env, cwd=src,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print the benchmark table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", type=Path, default=ROOT / "architectures/vck190_nsllm.yaml")
    ap.add_argument("--workload", type=Path, default=ROOT / "workloads/nsllm-1.5b.yaml")
    ap.add_argument("--tokens", type=int, nargs="+", default=[8, 64])
    ap.add_argument("--fidelity", nargs="+", default=["analytic", "des"])
    ap.add_argument("--src", type=Path, nargs="+", default=[ROOT],
                    help="source trees to import neurosim from (default: this one)")
    ap.add_argument("--no-trace", action="store_true", help="skip the traced-memory runs")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per row; the fastest is shown (a shared machine is noisy)")
    ap.add_argument("--multichip", nargs="*", default=[], metavar="PRESET",
                    help="also time these multi-chip presets' setup and an analytic run")
    ap.add_argument("--multichip-tokens", type=int, default=8)
    ap.add_argument("--batch", type=int, default=1, help="sequences decoded together")
    ap.add_argument("--prompt-tokens", type=int, default=0,
                    help="prompt tokens per sequence, prefilled in one step first")
    args = ap.parse_args()
    if args.multichip:
        multichip(args.multichip, args.workload, args.multichip_tokens)
        print()
    shape = {"batch": args.batch, "prompt_tokens": args.prompt_tokens}
    print(f"{args.arch.name} x {args.workload.name}"
          + (f", batch {args.batch}, prompt {args.prompt_tokens} tokens (tokens = decode steps)"
             if (args.batch, args.prompt_tokens) != (1, 0) else ""))
    header = (f"{'source':<24}{'fidelity':<9}{'tokens':>7}{'wall s':>9}{'s/token':>10}"
              f"{'CPU s/token':>12}"
              f"{'events/s':>11}{'traced peak MB':>16}{'RSS growth MB':>15}")
    print(header)
    print("-" * len(header))
    for fidelity in args.fidelity:
        for tokens in args.tokens:
            for src in args.src:
                m = min(
                    (measure(args.arch, args.workload, fidelity, tokens, False, src, **shape)
                     for _ in range(args.repeat)),
                    key=lambda x: x["wall_s"],
                )
                peak = float("nan") if args.no_trace else measure(
                    args.arch, args.workload, fidelity, tokens, True, src, **shape
                )["traced_peak_mb"]
                per_token = m["wall_s"] / tokens
                eps = m["events"] / m["wall_s"] if m["events"] else float("nan")
                growth = m["maxrss_mb"] - m["maxrss_before_mb"]
                print(f"{str(src)[-24:]:<24}{fidelity:<9}{tokens:>7}{m['wall_s']:>9.2f}"
                      f"{per_token:>10.4f}{m['cpu_s'] / tokens:>12.4f}{eps:>11.0f}"
                      f"{peak:>16.1f}{growth:>15.1f}",
                      flush=True)


def multichip(presets: list[str], workload: Path, tokens: int) -> None:
    """Print the multi-chip table: setup (placement, routes, planner) and analytic run."""
    print(f"multi-chip presets x {workload.name}, analytic, {tokens} tokens "
          "(run wall includes its own setup)")
    header = (f"{'preset':<13}{'chips':>6}{'links':>7}{'setup s':>9}{'run wall s':>12}"
              f"{'s/token':>9}{'tokens/s':>10}")
    print(header)
    print("-" * len(header))
    for name in presets:
        m = measure_multichip(ROOT / "architectures" / f"{name}.yaml", workload, tokens)
        per_token = (m["wall_s"] - m["setup_s"]) / tokens
        print(f"{name:<13}{m['chips']:>6}{m['links']:>7}{m['setup_s']:>9.2f}{m['wall_s']:>12.2f}"
              f"{per_token:>9.3f}{m['tokens_per_s']:>10.1f}")



if __name__ == "__main__":
    main()
