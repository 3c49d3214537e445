"""Benchmark of the spiking-network path: a 100k-neuron, 10M-synapse network at ~5 % firing.

Builds a stack of 10 convolutional LIF layers (16 channels of 25 x 25 neurons each, 3 x 3
kernels with 23 % of the weights zero: 10.0M synapses) in NIR, writes it to a temporary
.nir file and times `neurosim run ARCH NET.nir --input-rate ... --timesteps 1000` end to
end in a fresh subprocess (file load, functional simulation, placement, per-timestep
cost), reporting wall time, CPU time and the peak resident memory of that process.

    python scripts/bench_snn.py [--arch loihi] [--timesteps 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
LAYERS, CHANNELS, SIDE, IN_CHANNELS = 10, 16, 25, 8
ZERO_WEIGHTS = 0.2315
"""Fraction of kernel weights set to zero: 10.0M synapses in all (padding trims the edges)."""


def build(path: Path, seed: int = 0) -> None:
    """Write the benchmark network to `path`."""
    import nir

    rng = np.random.default_rng(seed)
    nodes = {"in": nir.Input(input_type={"input": np.array([IN_CHANNELS, SIDE, SIDE])})}
    edges = []
    prev, c_in = "in", IN_CHANNELS
    shape = (CHANNELS, SIDE, SIDE)
    for k in range(LAYERS):
        w = rng.normal(0.0, 1.0, size=(CHANNELS, c_in, 3, 3))
        w[rng.random(w.shape) < ZERO_WEIGHTS] = 0.0
        # thresholds set so that the layers fire at about 5 % on average (calibrated by hand)
        nodes[f"conv{k}"] = nir.Conv2d(
            input_shape=(SIDE, SIDE),
            weight=w,
            stride=1,
            padding=1,
            dilation=1,
            groups=1,
            bias=np.zeros(CHANNELS),
        )
        nodes[f"lif{k}"] = nir.LIF(
            tau=np.full(shape, 2e-3),
            r=np.full(shape, 2.0),
            v_leak=np.zeros(shape),
            v_threshold=np.full(shape, 2.6 if k == 0 else 4.56),
            v_reset=np.zeros(shape),
        )
        edges += [(prev, f"conv{k}"), (f"conv{k}", f"lif{k}")]
        prev, c_in = f"lif{k}", CHANNELS
    nodes["out"] = nir.Output(output_type={"output": np.array(shape)})
    edges.append((prev, "out"))
    nir.write(str(path), nir.NIRGraph(nodes=nodes, edges=edges))


def _child(net: str, arch: str, timesteps: int, out: str) -> None:
    """Run the CLI in this process and print wall time and peak RSS as JSON."""
    from neurosim.cli.app import main

    start = time.perf_counter()
    code = main(["run", arch, net, "--input-rate", "100", "--timesteps", str(timesteps),
                 "--out", out])  # fmt: skip
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    peak_mb = usage.ru_maxrss / 1024
    print(json.dumps({"code": code, "wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak_mb}))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", default="loihi")
    p.add_argument("--timesteps", type=int, default=1000)
    p.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        _child(args.child[0], args.arch, args.timesteps, args.child[1])
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        net = Path(tmp) / "bench100k.nir"
        build(net)
        env = dict(os.environ, PYTHONPATH=str(REPO))
        warm = [sys.executable, __file__, "--arch", args.arch, "--timesteps", "2",
                "--child", str(net), str(Path(tmp) / "warm"), "-"]  # fmt: skip
        subprocess.run(warm, env=env, check=True, capture_output=True)  # numba cache
        cmd = [sys.executable, __file__, "--arch", args.arch, "--timesteps",
               str(args.timesteps), "--child", str(net), str(Path(tmp) / "res"), "-"]  # fmt: skip
        done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
        lines = done.stdout.strip().splitlines()
        stats = json.loads(lines[-1])
        result = json.loads((Path(tmp) / "res" / "result.json").read_text())
    m = result["metrics"]
    neurons = sum(layer["neurons"] for layer in result["layers"] if layer["kind"] != "output")
    synapses = re.search(r"([\d,]+) synapses", lines[0])
    firing = 100 * (1 - m["activation_sparsity"])
    print("| network | placement | timesteps | firing | synaptic events | wall, load included | "
          "CPU | peak RSS |\n|---|---|---|---|---|---|---|---|")  # fmt: skip
    print(f"| {neurons:,} neurons, {synapses[1] if synapses else '?'} synapses ({LAYERS} "
          f"convolutional LIF layers) | {args.arch}: {result['cores']:,} cores on "
          f"{result['chips']} chips | {args.timesteps:,} | {firing:.1f} % | "
          f"{int(result['event_counts']['compute/synop']):,} | {stats['wall_s']:.2f} s | "
          f"{stats['cpu_s']:.2f} s | {stats['peak_rss_mb']:.0f} MB |")  # fmt: skip
    print()
    for line in lines[:2]:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
