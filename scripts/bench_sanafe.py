"""Head-to-head with SANA-FE (benchmark only; SANA-FE is GPL-3.0 and never imported by neurosim).

Builds one network with SANA-FE's Python API on its shipped Loihi architecture, and the
same network as a NIR graph for neurosim; runs both for the same timesteps, each in a
fresh subprocess, and prints side by side: spikes, messages, synaptic events, energy and
latency per timestep, wall time (imports, network construction and loading included)
and peak memory.

The network: `src` neurons driven by constant biases (so no input model is involved),
densely connected to `hidden`, densely connected to `out`. Every neuron is a non-leaking
integrate-and-fire neuron (SANA-FE: leaky_integrate_fire with leak_decay 1, hard reset to
0; NIR: IF with r = 1/dt, v_reset 0), weights and biases multiples of 1/64 so that
SANA-FE's 1/64 potential quantisation changes nothing. Neurons go to the same cores in
both (neurosim's placement, then SANA-FE core k for neurosim core k).

neurosim's Loihi preset is configured to SANA-FE's Loihi numbers (`SANAFE_LOIHI`):
35.5 pJ per synaptic event, 51.2 + 21.6 pJ per neuron update, 69.3 pJ per spike and
111 pJ per message sent (all already the preset's); per core 3.8 ns per synaptic event,
9.7 ns per neuron update (6.0 access + 3.7 update), 30 ns per spike, 5.1 ns per message
sent and 16 ns per message received; SANA-FE's timestep synchronisation for the tiles
used as the barrier; and spikes delivered in the next timestep, as SANA-FE (and Loihi)
does. SANA-FE's latency is shown for its detailed timing model (the default) and its
simple one.

    pip install sanafe==2.2.9        # or: pip install --target DIR sanafe, PYTHONPATH=DIR
    python scripts/bench_sanafe.py [--timesteps 1000] [--neurons 1024 1024 256]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
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
SYNAPSE_S, NEURON_S = 3.8e-9, 9.7e-9
"""SANA-FE arch/loihi.yaml: latency_process_spike of its dense synapse; latency_access_neuron
6.0 ns + latency_update_neuron 3.7 ns of its soma."""
CORES_PER_UNIT = 8
"""The Loihi preset's physical cores per compute unit."""
SANAFE_LOIHI = {
    # a core takes 3.8 ns per synaptic event and 9.7 ns per neuron update: the unit's
    # cycle and rates chosen so (8 cores x cycle / lanes, 8 cores x cycle / updates)
    "compute.lanes": 97,
    "compute.neuron_updates_per_cycle": 38,
    "compute.clock_hz": CORES_PER_UNIT / (97 * SYNAPSE_S),
    "neuron_cores.spike_energy_j": 69.3e-12,
    "neuron_cores.spike_latency_s": 30e-9,
    "neuron_cores.message_out_energy_j": 111e-12,
    "neuron_cores.message_out_latency_s": 5.1e-9,
    "neuron_cores.message_in_energy_j": 0.0,
    "neuron_cores.message_in_latency_s": 16e-9,
    "neuron_cores.spike_delivery": "next_timestep",
}
"""neurosim's Loihi preset set to SANA-FE's Loihi numbers (the energies already are)."""


def network(sizes: list[int], seed: int = 0, bias: float | None = None) -> dict[str, np.ndarray]:
    """Biases of the first layer (random, or `bias` for all) and the weights between
    layers (multiples of 1/64)."""
    rng = np.random.default_rng(seed)
    parts = {"bias": rng.integers(1, 16, size=sizes[0]) / 64}
    if bias is not None:
        parts["bias"] = np.full(sizes[0], bias)
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


def run_neurosim(net_path: Path, timesteps: int, dt: float, per_core: int | None) -> dict:
    """neurosim: import, load, simulate, place, cost; the core of every neuron for SANA-FE."""
    start = time.perf_counter()
    from neurosim import load_architecture, with_overrides
    from neurosim.mapping.snn_placement import place_network
    from neurosim.simulate.snn import cost_network
    from neurosim.workload.nir_import import load_nir
    from neurosim.workload.snn_dynamics import simulate

    base = load_architecture(ROOT / "architectures" / "loihi.yaml")
    assert base.neuron_cores.cores_per_unit == CORES_PER_UNIT
    if per_core is not None:
        base = with_overrides(base, {"neuron_cores.neurons_per_core": per_core})
    net = load_nir(net_path)
    placement = place_network(net, base)
    tiles = -(-placement.cores // 4)
    sync = SANAFE_SYNC_S[max(k for k in SANAFE_SYNC_S if k <= tiles)]
    arch = with_overrides(base, SANAFE_LOIHI | {"interconnect.barrier_s": sync})
    later = arch.neuron_cores.spike_delivery == "next_timestep"
    raster = simulate(net, {"input": np.zeros((timesteps, 1))}, timesteps, dt, later)
    run = cost_network(arch, net, raster, placement)
    wall = time.perf_counter() - start
    spikes = {
        p.name: int(raster.counts(i).sum())
        for i, p in enumerate(net.populations)
        if p.placed
    }
    cores = [placement.core_of[net.index(n)].tolist() for n in spikes]
    energy = {f"{c}/{e}": j for (c, e), j in run.energy.dynamic.items()}
    return {
        "wall_s": wall,
        "spikes": spikes,
        "messages": int(run.ledger.get("neuron_core", "message_out")),
        "synaptic_events": int(run.metrics["synaptic_events_total"]),
        "energy_per_timestep_j": run.energy.dynamic_j / timesteps,
        "latency_per_timestep_s": run.metrics["latency_per_timestep_s"],
        "phases_s": {k: float(v.mean()) for k, v in run.phases_s.items()},
        "energy_j": {
            "synapses": energy.get("compute/synop", 0.0),
            "neurons and spikes": energy.get("compute/neuron_update", 0.0)
            + energy.get("neuron_core/spike", 0.0),
            "messages and hops": sum(
                j for k, j in energy.items()
                if k.startswith(("neuron_core/message", "interconnect/", "chip_link/"))
            ),
        },  # fmt: skip
        "cores": cores,
        "barrier_s": sync,
    }


def run_sanafe(parts: dict, sizes: list[int], cores: list[list[int]], timesteps: int) -> dict:
    """SANA-FE: import, build with its Python API on its Loihi architecture, load, simulate."""
    start = time.perf_counter()
    import sanafe

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
        "energy_j": {
            "synapses": res["energy"]["synapse"] + res["energy"]["dendrite"],
            "neurons and spikes": res["energy"]["soma"],
            "messages and hops": res["energy"]["network"],
        },
        "latency_per_timestep_s": res["sim_time"] / timesteps,
    }


def _child(which: str, work: Path) -> None:
    setup = json.loads((work / "setup.json").read_text())
    steps = setup["timesteps"]
    if which == "neurosim":
        out = run_neurosim(work / "net.nir", steps, setup["dt"], setup["neurons_per_core"])
    else:
        parts = dict(np.load(work / "parts.npz"))
        cores = json.loads((work / "cores.json").read_text())
        out = run_sanafe(parts, setup["sizes"], cores, steps)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def compare(
    sizes: list[int],
    timesteps: int,
    dt: float,
    bias: float | None = None,
    neurons_per_core: int | None = None,
) -> tuple[dict, dict]:
    """Run one network in neurosim, then in SANA-FE on neurosim's cores, each in a fresh
    process: (neurosim's figures, SANA-FE's)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        parts = network(sizes, bias=bias)
        np.savez(work / "parts.npz", **parts)
        to_nir(parts, sizes, work / "net.nir", dt)
        setup = {"sizes": sizes, "timesteps": timesteps, "dt": dt,
                 "neurons_per_core": neurons_per_core}  # fmt: skip
        (work / "setup.json").write_text(json.dumps(setup))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(ROOT), os.environ.get("PYTHONPATH", "")]))  # fmt: skip

        def child(which: str) -> dict:
            done = subprocess.run([sys.executable, __file__, "--child", which, str(work)],
                                  env=env, capture_output=True, text=True)  # fmt: skip
            if done.returncode != 0:
                raise SystemExit(f"{which} failed:\n{done.stderr[-3000:]}")
            return json.loads(done.stdout.strip().splitlines()[-1])

        ours = child("neurosim")
        (work / "cores.json").write_text(json.dumps(ours["cores"]))
        return ours, child("sanafe")


FAN_OUT = (1, 2, 8)
"""Destination cores of the one busy core in the fan-out probe."""


def fan_out_probe(timesteps: int, dt: float) -> None:
    """Where SANA-FE's detailed timing adds time: one core whose 128 neurons all fire every
    timestep, feeding 128 neurons on each of 1, 2 or 8 other cores. Every receiving core
    does the same work whatever the fan-out; only the number of routes changes."""
    print("\n| destination cores of one core firing 128 spikes per timestep | neurosim us | "
          "SANA-FE simple us | SANA-FE detailed us |\n|---|---|---|---|")  # fmt: skip
    for k in FAN_OUT:
        ours, theirs = compare([128, 128 * k], timesteps, dt, bias=2.0, neurons_per_core=128)
        print(f"| {k} | {1e6 * ours['latency_per_timestep_s']:.4g} | "
              f"{1e6 * theirs['latency_simple_s']:.4g} | "
              f"{1e6 * theirs['latency_per_timestep_s']:.4g} |")  # fmt: skip


def sanafe_version() -> str:
    """SANA-FE's installed version, or exit 2 saying how to install it."""
    if importlib.util.find_spec("sanafe") is None:
        print("error: SANA-FE is not importable; install it (GPL-3.0, a benchmark-only "
              "dependency): pip install sanafe==2.2.9, or pip install --target DIR "
              "sanafe==2.2.9 and put DIR on PYTHONPATH", file=sys.stderr)  # fmt: skip
        raise SystemExit(2)
    try:
        return importlib.metadata.version("sanafe")
    except importlib.metadata.PackageNotFoundError:
        return "unknown version"


def _pct(ours: float, theirs: float) -> str:
    return f"{100 * (ours - theirs) / theirs:+.1f} %" if theirs else "-"


def report(args, ours: dict, theirs: dict, version: str) -> None:
    """The side-by-side table and the lines that explain it."""
    spikes = sum(ours["spikes"].values())
    energy, lat = ours["energy_per_timestep_j"], ours["latency_per_timestep_s"]
    rows = [
        ("spikes", f"{spikes:,}", f"{theirs['spikes_total']:,}",
         _pct(spikes, theirs["spikes_total"])),
        ("spike messages sent", f"{ours['messages']:,}", f"{theirs['packets']:,}",
         _pct(ours["messages"], theirs["packets"])),
        ("synaptic events", f"{ours['synaptic_events']:,}", f"{theirs['synaptic_events']:,}",
         _pct(ours["synaptic_events"], theirs["synaptic_events"])),
        ("energy per timestep (dynamic)", f"{1e9 * energy:.4g} nJ",
         f"{1e9 * theirs['energy_per_timestep_j']:.4g} nJ",
         _pct(energy, theirs["energy_per_timestep_j"])),
    ]  # fmt: skip
    for part, j in ours["energy_j"].items():
        t = theirs["energy_j"][part]
        rows.append((f"- {part}", f"{1e9 * j / args.timesteps:.4g} nJ",
                     f"{1e9 * t / args.timesteps:.4g} nJ", _pct(j, t)))  # fmt: skip
    rows += [
        ("latency per timestep (SANA-FE detailed model)", f"{1e6 * lat:.4g} us",
         f"{1e6 * theirs['latency_per_timestep_s']:.4g} us",
         _pct(lat, theirs["latency_per_timestep_s"])),
        ("latency per timestep (SANA-FE simple model)", f"{1e6 * lat:.4g} us",
         f"{1e6 * theirs['latency_simple_s']:.4g} us", _pct(lat, theirs["latency_simple_s"])),
        ("wall time, imports and load included", f"{ours['wall_s']:.3g} s",
         f"{theirs['wall_s']:.3g} s", f"{ours['wall_s'] / theirs['wall_s']:.3f}x"),
        ("peak RSS", f"{ours['peak_rss_mb']:.0f} MB", f"{theirs['peak_rss_mb']:.0f} MB",
         f"{ours['peak_rss_mb'] / theirs['peak_rss_mb']:.3f}x"),
    ]  # fmt: skip
    n = sum(args.neurons)
    synapses = sum(a * b for a, b in zip(args.neurons, args.neurons[1:], strict=False))
    print(f"{n:,} neurons ({' + '.join(map(str, args.neurons))}), {synapses:,} synapses, "
          f"{args.timesteps} timesteps on Loihi; SANA-FE {version}")  # fmt: skip
    print("| | neurosim | SANA-FE | neurosim vs SANA-FE |\n|---|---|---|---|")
    for name, a, b, d in rows:
        print(f"| {name} | {a} | {b} | {d} |")
    phases = ", ".join(f"{k} {1e6 * v:.3g} us" for k, v in ours["phases_s"].items())
    print("\nneurosim spikes per population: "
          + ", ".join(f"{k} {v:,}" for k, v in ours["spikes"].items())
          + f"; mean phases per timestep: {phases} (barrier {1e6 * ours['barrier_s']:.2g} us, "
          "SANA-FE's sync table for the tiles used)")  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timesteps", type=int, default=1000)
    ap.add_argument("--neurons", type=int, nargs="+", default=[1024, 1024, 256])
    ap.add_argument("--dt", type=float, default=1e-3)
    ap.add_argument("--no-probe", action="store_true", help="skip the fan-out probe")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child[0], Path(args.child[1]))
        return 0
    if len(args.neurons) < 2 or min(args.neurons) < 1 or args.timesteps < 1:
        ap.error("--neurons needs at least two positive layer sizes; --timesteps >= 1")
    version = sanafe_version()
    ours, theirs = compare(args.neurons, args.timesteps, args.dt)
    report(args, ours, theirs, version)
    if not args.no_probe:
        fan_out_probe(20, args.dt)
    return 0


if __name__ == "__main__":
    sys.exit(main())
