"""`neurosim run ARCH NETWORK.nir`: an imported spiking network on a neuromorphic chip."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from neurosim.cli.paths import input_file
from neurosim.errors import UsageError

DEFAULT_DT_S = 1e-3
"""Default timestep: 1 ms, the real-time tick of TrueNorth and of Loihi's real-time mode."""


def is_network(path: Path) -> bool:
    """True for a NIR network file."""
    return path.suffix.lower() == ".nir"


def add_network_options(run: argparse.ArgumentParser) -> None:
    """The `run` options that apply to NIR networks."""
    g = run.add_argument_group("spiking networks (WORKLOAD is a .nir file)")
    g.add_argument(
        "--input",
        dest="snn_input",
        type=input_file,
        default=None,
        metavar="SPIKES.npz",
        help="input of each Input node: an array (timesteps, *input shape) under the node's "
        "name (or the only array, for one Input node)",
    )
    g.add_argument(
        "--input-rate",
        type=float,
        default=None,
        metavar="HZ",
        help="Poisson input instead: every input fires at HZ (probability HZ x dt per "
        "timestep, drawn from --seed)",
    )
    g.add_argument("--timesteps", type=int, default=100, help="timesteps to simulate (default 100)")
    g.add_argument(
        "--dt",
        type=float,
        default=DEFAULT_DT_S,
        metavar="SECONDS",
        help="timestep of the neuron equations' forward-Euler integration (default 1e-3)",
    )


def _inputs(args, net):
    from neurosim.workload.snn_dynamics import poisson_input

    if (args.snn_input is None) == (args.input_rate is None):
        raise UsageError(
            "give the network's input: either --input SPIKES.npz or --input-rate HZ (not both)"
        )
    if args.input_rate is not None:
        if args.input_rate < 0:
            raise UsageError(f"--input-rate must be >= 0; got {args.input_rate:g}")
        return poisson_input(net, args.input_rate, args.timesteps, args.dt, args.seed)
    try:
        with np.load(args.snn_input) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as err:
        raise UsageError(f"{args.snn_input}: not a readable .npz file ({err})") from None
    names = [p.name for p in net.inputs]
    if len(names) == 1 and len(arrays) == 1:
        return {names[0]: next(iter(arrays.values()))}
    missing = [n for n in names if n not in arrays]
    if missing:
        raise UsageError(
            f"{args.snn_input}: no array for Input node(s) {', '.join(missing)} (arrays: "
            f"{', '.join(arrays) or 'none'})"
        )
    return arrays


def _pct(x: np.ndarray) -> str:
    return f"{100 * float(x.max()):.0f} % / {100 * float(x.mean()):.0f} %" if x.size else "-"


def run_network(args, load_architecture) -> int:
    """Simulate, place and cost a NIR network; print and save the result."""
    from neurosim.cli.timeline import check_network_views, network_views
    from neurosim.mapping.snn_placement import place_network
    from neurosim.simulate.snn import cost_network
    from neurosim.units import format_quantity
    from neurosim.workload.nir_import import load_nir
    from neurosim.workload.snn_dynamics import simulate

    if args.timesteps < 1:
        raise UsageError(f"--timesteps must be at least 1; got {args.timesteps}")
    check_network_views(args)
    if not args.dt > 0:
        raise UsageError(f"--dt must be positive; got {args.dt:g}")
    if args.seed < 0:
        raise UsageError(f"--seed must be a non-negative integer; got {args.seed}")
    given = [
        flag
        for flag, value in (
            ("--trace", args.trace),
            ("--attention", args.attention),
            ("--context-tokens", args.context_tokens),
        )
        if value is not None
    ]
    if given:
        raise UsageError(f"{', '.join(given)}: LLM workloads only, not a NIR network")
    if any(t == "workload" for t, _, _ in args.overrides):
        raise UsageError("--set workload.*: a NIR network has no workload settings")
    arch = load_architecture(args.architecture, args.overrides)
    if getattr(arch, "neuron_cores", None) is None:
        raise UsageError(
            f"{arch.name} has no neuron_cores section (per-core limits), so a spiking network "
            "cannot be placed on it; the neuromorphic presets (loihi, loihi2, truenorth, "
            "spinnaker2, brainscales2) have one"
        )
    net = load_nir(args.workload)
    delivery = arch.neuron_cores.spike_delivery
    raster = simulate(
        net, _inputs(args, net), args.timesteps, args.dt, delivery == "next_timestep"
    )
    placement = place_network(net, arch)
    run = cost_network(arch, net, raster, placement)
    limits = arch.neuron_cores
    util = placement.utilisation(limits)
    print(
        f"network {net.name}: {len(net.populations)} populations, {net.neurons:,} neurons on "
        f"cores, {net.synapses:,} synapses; {args.timesteps} timesteps of dt {args.dt:g} s"
    )
    print(
        f"placement on {arch.name}: {placement.cores} cores on {placement.chips} chip(s) "
        f"({placement.cores_per_chip} cores per chip), multicast: {limits.multicast}, "
        f"spike delivery: {delivery.replace('_', ' ')}"
    )
    print("  per-core use, max / mean:")
    for k, v in util.items():
        print(f"    {k:<16} {_pct(v)}")
    print("\n| population | kind | neurons | cores | active/timestep | activation sparsity |")
    print("|---|---|---|---|---|---|")
    for layer in run.layers:
        print(
            f"| {layer['population']} | {layer['kind']} | {layer['neurons']} | "
            f"{layer['cores']} | {layer['active_per_timestep']:.4g} | "
            f"{layer['activation_sparsity']:.4f} |"
        )
    print()
    dims = {"energy_per_timestep_j": "energy", "latency_per_timestep_s": "time"}
    for k, v in run.metrics.items():
        if k in dims:
            shown = format_quantity(v, dims[k])
        elif k.endswith("_w"):
            shown = format_quantity(v, "power")
        else:
            shown = f"{v:.6g}"
        print(f"  {k:<26} {shown}")
    print(f"  {'bottleneck':<26} {run.bottleneck}")
    phases = ", ".join(
        f"{k} {format_quantity(float(v.mean()), 'time')}" for k, v in run.phases_s.items()
    )
    print(f"  {'mean phases per timestep':<26} {phases}")
    sent, got = (run.ledger.get("neuron_core", e) for e in ("message_out", "message_in"))
    print(f"  {'messages per timestep':<26} {sent / args.timesteps:.4g} sent, "
          f"{got / args.timesteps:.4g} received ({limits.multicast} multicast)")  # fmt: skip
    out = args.out or Path("results") / f"{arch.name}__{net.name}__snn__s{args.seed}"
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "architecture": arch.name,
        "network": net.name,
        "timesteps": args.timesteps,
        "dt_s": args.dt,
        "seed": args.seed,
        "input": str(args.snn_input) if args.snn_input else f"poisson {args.input_rate:g} Hz",
        "chips": placement.chips,
        "cores": placement.cores,
        "metrics": run.metrics,
        "bottleneck": run.bottleneck,
        "event_counts": run.ledger.as_dict(),
        "energy_j": {f"{c}/{e}": j for (c, e), j in run.energy.dynamic.items()}
        | {f"{c}/static": j for c, j in run.energy.static.items()},
        "layers": run.layers,
        "core_utilisation": {k: v.tolist() for k, v in util.items()},
        "latency_per_timestep_s": run.latency_s.tolist(),
        "core_busy_fraction": (run.core_busy_s / run.elapsed_s).tolist() if run.elapsed_s else [],
    }
    path = out / "result.json"
    path.write_text(json.dumps(record, indent=2))
    keys = ("architecture", "network", "timesteps", "dt_s", "seed", "input", "chips", "cores")
    views = network_views(args, run, arch, {k: record[k] for k in keys})
    print(f"\nwrote {', '.join(str(p) for p in [path, *views])}")
    return 0
