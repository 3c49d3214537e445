"""Head-to-head with SANA-FE (benchmark only; SANA-FE is GPL-3.0 and never imported by neurosim).

Builds one network with SANA-FE's Python API on its shipped Loihi architecture, and the
same network as a NIR graph for neurosim; runs both for the same timesteps, each in a
fresh subprocess, and prints side by side: spikes, synaptic events, energy and latency
per timestep, wall time (network construction and loading included) and peak memory.

The network: `src` neurons driven by constant biases (so no input model is involved),
densely connected to `hidden`, densely connected to `out`. Every neuron is a non-leaking
integrate-and-fire neuron (SANA-FE: leaky_integrate_fire with leak_decay 1, hard reset to
0; NIR: IF with r = 1/dt, v_reset 0), weights and biases multiples of 1/64 so that
SANA-FE's 1/64 potential quantisation changes nothing. Neurons go to the same cores in
both (neurosim's placement, then SANA-FE core k for neurosim core k).

neurosim's Loihi preset is configured to SANA-FE's Loihi numbers for this comparison:
35.5 pJ per synaptic event and 51.2 + 21.6 pJ per neuron update (both already the
preset's), SANA-FE's 3.8 ns per synaptic event as the cycle (compute.clock_hz 263 MHz,
one event per core per cycle), and SANA-FE's timestep synchronisation for the tiles used
as the barrier. SANA-FE's latency is shown for its detailed timing model (the default)
and its simple one.

    pip install sanafe==2.2.9        # or: pip install --target DIR sanafe, PYTHONPATH=DIR
    python scripts/bench_sanafe.py [--timesteps 1000] [--neurons 1024 1024 256]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SANAFE_SYNC_S = {1: 0.6e-6, 2: 1.0e-6, 4: 1.4e-6, 29: 1.8e-6}
"""SANA-FE arch/loihi.yaml latency_sync: tiles in use -> seconds (its lookup table)."""
SANAFE_SYNAPSE_S = 3.8e-9
"""SANA-FE arch/loihi.yaml: latency_process_spike of its dense synapse."""


def network(sizes: list[int], seed: int = 0) -> dict[str, np.ndarray]:
    """Biases of the first layer and the weights between layers (multiples of 1/64)."""
    rng = np.random.default_rng(seed)
    parts = {"bias": rng.integers(1, 16, size=sizes[0]) / 64}
    for k in range(len(sizes) - 1):
        # nonzero, zero-mean weights: each neuron's potential walks randomly to threshold
        choices = np.array([-3, -2, -1, 1, 2, 3]) / 64
        parts[f"w{k}"] = rng.choice(choices, size=(sizes[k], sizes[k + 1]))
    return parts


def _names(n_layers: int) -> list[str]:
    return ["src"] + [f"layer{k}" for k in range(1, n_layers)]


def to_nir(parts: dict, sizes: list[int], path: Path, dt: float) -> None:
    """The network as a NIR graph of IF neurons."""
    import nir

    def neuron(n):
        return nir.IF(r=np.full(n, 1 / dt), v_threshold=np.ones(n), v_reset=np.zeros(n))

    names = _names(len(sizes))
    nodes = {
        "input": nir.Input(input_type={"input": np.array([1])}),
        "drive": nir.Affine(weight=np.zeros((sizes[0], 1)), bias=parts["bias"]),
        names[0]: neuron(sizes[0]),
    }
    edges = [("input", "drive"), ("drive", names[0])]
    for k in range(len(sizes) - 1):
        nodes[f"fc{k}"] = nir.Linear(weight=parts[f"w{k}"].T.copy())
        nodes[names[k + 1]] = neuron(sizes[k + 1])
        edges += [(names[k], f"fc{k}"), (f"fc{k}", names[k + 1])]
    nodes["output"] = nir.Output(output_type={"output": np.array([sizes[-1]])})
    edges.append((names[-1], "output"))
    nir.write(str(path), nir.NIRGraph(nodes=nodes, edges=edges))


def run_neurosim(net_path: Path, timesteps: int, dt: float) -> dict:
    """neurosim: load, simulate, place, cost; the core of every neuron for SANA-FE."""
    from neurosim import load_architecture, with_overrides
    from neurosim.mapping.snn_placement import place_network
    from neurosim.simulate.snn import cost_network
    from neurosim.workload.nir_import import load_nir
    from neurosim.workload.snn_dynamics import simulate

    start = time.perf_counter()
    net = load_nir(net_path)
    raster = simulate(net, {"input": np.zeros((timesteps, 1))}, timesteps, dt)
    base = load_architecture(ROOT / "architectures" / "loihi.yaml")
    placement = place_network(net, base)
    tiles = -(-placement.cores // 4)
    sync = SANAFE_SYNC_S[max(k for k in SANAFE_SYNC_S if k <= tiles)]
    arch = with_overrides(
        base, {"interconnect.barrier_s": sync, "compute.clock_hz": 1 / SANAFE_SYNAPSE_S}
    )
    run = cost_network(arch, net, raster, placement)
    wall = time.perf_counter() - start
    spikes = {
        p.name: int(raster.counts(i).sum())
        for i, p in enumerate(net.populations)
        if p.placed
    }
    cores = [placement.core_of[net.index(n)].tolist() for n in spikes]
    return {
        "wall_s": wall,
        "spikes": spikes,
        "synaptic_events": int(run.metrics["synaptic_events_total"]),
        "energy_per_timestep_j": run.energy.dynamic_j / timesteps,
        "latency_per_timestep_s": run.metrics["latency_per_timestep_s"],
        "energy_j": {f"{c}/{e}": j for (c, e), j in run.energy.dynamic.items()},
        "cores": cores,
        "barrier_s": sync,
    }


def run_sanafe(parts: dict, sizes: list[int], cores: list[list[int]], timesteps: int) -> dict:
    """SANA-FE: build with its Python API on its Loihi architecture, load, simulate."""
    import sanafe

    start = time.perf_counter()
    arch = sanafe.load_loihi()
    net = sanafe.Network()
    attrs = {"threshold": 1.0, "reset": 0.0, "leak_decay": 1.0}
    groups = []
    for name, n in zip(_names(len(sizes)), sizes, strict=True):
        groups.append(net.create_neuron_group(name, n, attrs))
    for neuron, bias in zip(groups[0].neurons, parts["bias"].tolist(), strict=True):
        neuron.set_attributes(model_attributes={"bias": bias})
    for k in range(len(sizes) - 1):
        groups[k].connect_neurons_dense(groups[k + 1], {"weight": parts[f"w{k}"].ravel().tolist()})
    hw = arch.cores()
    for group, where in zip(groups, cores, strict=True):
        for neuron, c in zip(group.neurons, where, strict=True):
            neuron.map_to_core(hw[c])
    chip = sanafe.SpikingChip(arch)
    chip.load(net)
    res = chip.sim(timesteps, timing_model="detailed")
    wall = time.perf_counter() - start
    chip.reset()
    simple = chip.sim(timesteps, timing_model="simple")
    return {
        "latency_simple_s": simple["sim_time"] / timesteps,
        "wall_s": wall,
        "spikes_total": int(res["neurons_fired"]),
        "synaptic_events": int(res["spikes"]),
        "packets": int(res["packets_sent"]),
        "energy_per_timestep_j": res["energy"]["total"] / timesteps,
        "energy_j": {k: v for k, v in res["energy"].items() if k != "total"},
        "latency_per_timestep_s": res["sim_time"] / timesteps,
    }


def _child(args) -> None:
    work = Path(args.child[1])
    parts = dict(np.load(work / "parts.npz"))
    if args.child[0] == "neurosim":
        out = run_neurosim(work / "net.nir", args.timesteps, args.dt)
    else:
        cores = json.loads((work / "cores.json").read_text())
        out = run_sanafe(parts, args.neurons, cores, args.timesteps)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timesteps", type=int, default=1000)
    ap.add_argument("--neurons", type=int, nargs="+", default=[1024, 1024, 256])
    ap.add_argument("--dt", type=float, default=1e-3)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        parts = network(args.neurons)
        np.savez(work / "parts.npz", **parts)
        to_nir(parts, args.neurons, work / "net.nir", args.dt)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(ROOT), os.environ.get("PYTHONPATH", "")]))  # fmt: skip
        base = [sys.executable, __file__, "--timesteps", str(args.timesteps), "--dt",
                str(args.dt), "--neurons", *map(str, args.neurons)]  # fmt: skip

        def child(which: str) -> dict:
            done = subprocess.run([*base, "--child", which, str(work)], env=env,
                                  capture_output=True, text=True)  # fmt: skip
            if done.returncode != 0:
                raise SystemExit(f"{which} failed:\n{done.stderr[-3000:]}")
            return json.loads(done.stdout.strip().splitlines()[-1])

        ours = child("neurosim")
        (work / "cores.json").write_text(json.dumps(ours["cores"]))
        theirs = child("sanafe")
    ours_spikes = sum(ours["spikes"].values())
    rows = [
        ("spikes", f"{ours_spikes:,}", f"{theirs['spikes_total']:,}"),
        ("synaptic events", f"{ours['synaptic_events']:,}", f"{theirs['synaptic_events']:,}"),
        ("energy per timestep (dynamic)", f"{1e9 * ours['energy_per_timestep_j']:.4g} nJ",
         f"{1e9 * theirs['energy_per_timestep_j']:.4g} nJ"),
        ("latency per timestep", f"{1e6 * ours['latency_per_timestep_s']:.4g} us",
         f"{1e6 * theirs['latency_per_timestep_s']:.4g} us (simple model: "
         f"{1e6 * theirs['latency_simple_s']:.4g} us)"),
        ("wall time, load included", f"{ours['wall_s']:.3g} s", f"{theirs['wall_s']:.3g} s"),
        ("peak RSS", f"{ours['peak_rss_mb']:.0f} MB", f"{theirs['peak_rss_mb']:.0f} MB"),
    ]  # fmt: skip
    n = sum(args.neurons)
    synapses = sum(a * b for a, b in zip(args.neurons, args.neurons[1:], strict=False))
    print(f"{n:,} neurons ({' + '.join(map(str, args.neurons))}), {synapses:,} synapses, "
          f"{args.timesteps} timesteps, Loihi; sanafe 2.2.9")  # fmt: skip
    print("| | neurosim | SANA-FE |\n|---|---|---|")
    for name, a, b in rows:
        print(f"| {name} | {a} | {b} |")
    print(f"\nneurosim spikes per population: {ours['spikes']}")
    for who, parts_j in (("neurosim", ours["energy_j"]), ("SANA-FE", theirs["energy_j"])):
        print(f"{who} energy (J): " + ", ".join(f"{k} {v:.3g}" for k, v in parts_j.items()))
    print(f"SANA-FE packets sent: {theirs['packets']:,}; barrier used here: "
          f"{1e6 * ours['barrier_s']:.2g} us (SANA-FE's sync table)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
