"""Benchmark: what a timeline costs a DES run, and how big its file is.

Each measurement runs in a fresh subprocess: the same `simulate` call without and with a
`TimelineRecorder` (default caps, as `neurosim run --timeline` uses), the recorded run
timed together with writing the JSON file. That is the strict figure: the cost against
the simulation alone. The last columns time what a user types, the whole `neurosim run`
command (start-up, loading, the run, the report) without and with `--timeline`. Runs
alternate and the fastest of each counts. Prints one row per preset; asserts nothing.

    python scripts/timeline_bench.py [--presets vck190_nsllm ...] [--tokens 8]
                                     [--repeat 2] [--mesh]

`--mesh` adds the VCK190 with its NoC as a 4x4 mesh (the sensitivity study's variant).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MESH = {"interconnect.topology": {"kind": "mesh", "width": 4, "height": 4}}
NEUROSIM = Path(sys.executable).with_name("neurosim")  # the console script beside python

_CHILD = r"""
import json, sys, tempfile, time
from pathlib import Path
from neurosim.config.overrides import with_overrides
from neurosim.simulate.run import simulate
from neurosim.simulate.systems import load_architecture, load_workload, resolve_config_path
from neurosim.simulate.timeline import TimelineRecorder
arch = load_architecture(resolve_config_path(sys.argv[1], "architecture"))
wl = load_workload(resolve_config_path(sys.argv[2], "workload"))
tokens, record, changes = int(sys.argv[3]), sys.argv[4] == "1", json.loads(sys.argv[5])
if changes:
    arch = with_overrides(arch, changes)
simulate(arch, wl, n_tokens=1, fidelity="analytic")  # warm numba's cache
rec = TimelineRecorder(1) if record else None
t, cpu = time.perf_counter(), time.process_time()
simulate(arch, wl, n_tokens=tokens, recorder=rec)
size = 0
if rec is not None:
    with tempfile.TemporaryDirectory() as tmp:
        size = rec.write(Path(tmp) / "t.json", {}).stat().st_size
wall, cpu = time.perf_counter() - t, time.process_time() - cpu
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "mb": size / 1e6, "spans": rec.events if rec else 0,
                  "cut_short": bool(rec and rec.cut_short)}))
"""


def measure(arch: str, workload: str, tokens: int, record: bool, changes: dict) -> dict:
    """One fresh-process run."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, arch, workload, str(tokens), "1" if record else "0",
         json.dumps(changes)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def command_s(arch: str, workload: str, tokens: int, timeline: bool, changes: dict) -> float:
    """Wall time of one `neurosim run` command (with `--timeline` into a scratch file)."""
    cmd = [str(NEUROSIM), "run", arch, workload, "--tokens", str(tokens), "--quiet"]
    for key, value in changes.items():
        cmd += ["--set", f"architecture.{key}={json.dumps(value)}"]
    with tempfile.TemporaryDirectory() as tmp:
        if timeline:
            cmd += ["--timeline", str(Path(tmp) / "t.json")]
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True)
        return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=["vck190_nsllm"])
    ap.add_argument("--workload", default="nsllm-1.5b")
    ap.add_argument("--tokens", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=5, help="runs of each; the fastest counts")
    ap.add_argument("--mesh", action="store_true", help="add vck190_nsllm with a 4x4 mesh NoC")
    args = ap.parse_args(argv)
    cases = [(p, p, {}) for p in args.presets]
    if args.mesh:
        cases.append(("vck190_nsllm (4x4 mesh)", "vck190_nsllm", MESH))
    print("| preset | tokens | DES wall s | with timeline s | extra wall % | extra CPU % "
          "| file MB | spans | cut short | `neurosim run` s | with `--timeline` s | extra % |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, arch, changes in cases:
        plain, timed, cmd_plain, cmd_timed = [], [], [], []
        for _ in range(args.repeat):  # alternate, so both see the same machine state
            plain.append(measure(arch, args.workload, args.tokens, False, changes))
            timed.append(measure(arch, args.workload, args.tokens, True, changes))
            cmd_plain.append(command_s(arch, args.workload, args.tokens, False, changes))
            cmd_timed.append(command_s(arch, args.workload, args.tokens, True, changes))
        base = min(r["wall_s"] for r in plain)
        best = min(timed, key=lambda r: r["wall_s"])
        extra = 100 * (best["wall_s"] / base - 1)
        extra_cpu = 100 * (min(r["cpu_s"] for r in timed) / min(r["cpu_s"] for r in plain) - 1)
        print(f"| {label} | {args.tokens} | {base:.2f} | {best['wall_s']:.2f} | {extra:.0f} | "
              f"{extra_cpu:.0f} | {best['mb']:.1f} | {best['spans']:,} | "
              f"{'yes' if best['cut_short'] else 'no'} | {min(cmd_plain):.2f} | "
              f"{min(cmd_timed):.2f} | {100 * (min(cmd_timed) / min(cmd_plain) - 1):.0f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
