"""Command line: argument parsing, printing and exit codes; nothing else."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from neurosim import __version__
from neurosim.cli_sweep import SWEEP_COMMANDS, add_sweep_commands, run_sweep_command
from neurosim.cli_trace import add_trace_commands, run_trace_command
from neurosim.errors import NeurosimError, UsageError

ROOT = Path(__file__).resolve().parent.parent


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="neurosim",
        description="Discrete-event simulator of neuromorphic and in-memory-compute systems "
        "running spiking LLMs.",
    )
    p.add_argument("--version", action="version", version=f"neurosim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a workload on an architecture and print the results")
    run.add_argument(
        "architecture", type=Path, help="architecture YAML (e.g. architectures/vck190_nsllm.yaml)"
    )
    run.add_argument("workload", type=Path, help="workload YAML (e.g. workloads/nsllm-1.5b.yaml)")
    run.add_argument("--tokens", type=int, default=8, help="tokens to decode (default 8)")
    run.add_argument("--seed", type=int, default=0, help="seed of the synthetic spikes (default 0)")
    run.add_argument(
        "--fidelity",
        choices=("des", "analytic"),
        default="des",
        help="des: SimPy with contention (default); analytic: fast max-plus bound, "
        "never slower than the DES, no resource above 100 %% busy",
    )
    run.add_argument(
        "--no-contention",
        action="store_true",
        help="ignore shared-resource contention (both fidelities; they then agree exactly)",
    )
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory (default results/<arch>__<workload>__<fidelity>__s<seed>)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument(
        "--trace",
        type=Path,
        default=None,
        metavar="FILE",
        help="replay a spike trace instead of synthetic spikes; the workload takes the "
        "trace's levels and scheme",
    )
    run.add_argument(
        "--attention",
        choices=("linear", "softmax"),
        default=None,
        help="GPU only: attention form (default: the workload's)",
    )
    run.add_argument(
        "--context-tokens",
        type=int,
        default=None,
        help="GPU only: tokens already in context (default: the workload's)",
    )

    val = sub.add_parser("validate", help="check an architecture or workload file")
    val.add_argument("file", type=Path)

    cmp_ = sub.add_parser("compare", help="one workload on several architectures, side by side")
    cmp_.add_argument("architectures", type=Path, nargs="+", help="architecture YAML files")
    cmp_.add_argument("--workload", type=Path, required=True)
    cmp_.add_argument("--tokens", type=int, default=4)
    cmp_.add_argument("--seed", type=int, default=0)
    cmp_.add_argument("--fidelity", choices=("des", "analytic"), default="analytic")
    cmp_.add_argument(
        "--out",
        type=Path,
        default=Path("results/compare"),
        help="where the table (CSV) and the energy chart (PNG) go",
    )

    cap = sub.add_parser("capacity", help="chips a model of N parameters needs, and link cost")
    cap.add_argument("architectures", type=Path, nargs="+")
    cap.add_argument("--parameters", type=float, required=True, help="e.g. 20e9")
    cap.add_argument(
        "--workload",
        type=Path,
        default=ROOT / "workloads/nsllm-1.5b.yaml",
        help="shape family and spike statistics (default nsllm-1.5b)",
    )
    cap.add_argument("--weight-bits", type=int, default=None)
    rep = sub.add_parser(
        "reprice", help="price a saved run's event counts with another architecture's energies"
    )
    rep.add_argument("result", type=Path, help="result.json written by neurosim run")
    rep.add_argument("architecture", type=Path, help="the same design with other energies")
    add_sweep_commands(sub)
    add_trace_commands(sub)
    return p


def _kind_of(path: Path) -> str:
    from neurosim.simulate.systems import file_kind

    return file_kind(path)


def load_architecture(path: Path):
    """Load and validate an architecture file (an event-driven system or a GPU)."""
    from neurosim.simulate.systems import load_architecture as load

    return load(path)


def load_workload(path: Path):
    """Load and validate a workload file."""
    from neurosim.simulate.systems import load_workload as load

    return load(path)


def _validate(args) -> int:
    from neurosim.config.loader import load_yaml_with_lines, resolve_extends
    from neurosim.config.provenance import unsourced_numbers

    kind = _kind_of(args.file)
    if kind == "gpu":
        from neurosim.gpu import gpu_summary_lines

        arch = load_architecture(args.file)
        print(f"{args.file}: valid architecture '{arch.name}' (GPU, analytical model)")
        for line in gpu_summary_lines(arch):
            print(line)
    elif kind == "architecture":
        arch = load_architecture(args.file)
        print(f"{args.file}: valid architecture '{arch.name}'")
        c = arch.compute
        if c.kind == "spiking_core":
            detail = f"{c.lanes} lanes at {c.clock_hz / 1e6:g} MHz"
        else:
            detail = f"{c.arrays_per_tile} arrays of {c.rows} x {c.cols} per tile"
        print(f"  compute: {c.count} x {c.kind} per chip, {detail}")
        if arch.chips is not None:
            print(f"  chips: {arch.chips.count}, linked as a {arch.chips.topology}")
        print(
            f"  on-chip memory: {arch.onchip_memory.capacity_bytes / 2**20:.2f} MiB in "
            f"{arch.onchip_memory.banks} banks"
        )
        for ch in arch.dram_channels:
            print(
                f"  dram {ch.name}: {ch.peak_bandwidth_bytes_per_s / 1e9:g} GB/s peak x "
                f"{ch.efficiency:g}, {ch.capacity_bytes / 1e9:g} GB"
            )
        topo = arch.interconnect.topology
        print(
            f"  interconnect: {topo.kind} with {topo.nodes} nodes, "
            f"{arch.interconnect.link_bandwidth_bytes_per_s / 1e9:g} GB/s links"
        )
        if arch.adc is not None:
            print(
                f"  adc: {arch.adc.count} x {arch.adc.bits}-bit, "
                f"{arch.adc.columns_per_adc} columns each"
            )
    else:
        from neurosim.workload.model import build_model_graph

        wl = load_workload(args.file)
        graph = build_model_graph(wl)
        print(f"{args.file}: valid workload '{wl.name}'")
        print(
            f"  {graph.parameters / 1e9:.3f}B parameters, {len(graph.groups)} spike-coded "
            f"site instances per token, {wl.weights.bits}-bit weights, {wl.coding.scheme} coding"
        )
        for name, site in wl.blocks.sites.items():
            print(f"  site {name}: width {site.width}, L = {site.levels}")
    data, lines = load_yaml_with_lines(args.file)
    from neurosim.simulate.systems import PRESET_DIRS, WORKLOAD_DIRS

    dirs = WORKLOAD_DIRS if kind == "workload" else PRESET_DIRS
    merged, _ = resolve_extends(args.file, data, lines, dirs)
    missing = unsourced_numbers(merged)
    if missing:
        print(
            f"  warning: {len(missing)} number(s) without a provenance entry: " + ", ".join(missing)
        )
    return 0


def _count(n: int) -> str:
    """1554579456 -> '1.555B', 135000 -> '135k'."""
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= scale:
            return f"{n / scale:.4g}{suffix}"
    return str(n)


def _check_run_options(args) -> Path:
    """Refuse impossible options before any work; return the output directory."""
    if args.tokens < 1:
        raise UsageError(f"--tokens must be at least 1; got {args.tokens}")
    if args.seed < 0:
        raise UsageError(f"--seed must be a non-negative integer; got {args.seed}")
    if args.context_tokens is not None and args.context_tokens < 0:
        raise UsageError(f"--context-tokens must be >= 0; got {args.context_tokens}")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} exists and is not a directory")
    return args.out


def _run(args) -> int:
    from neurosim.report import result_table
    from neurosim.results import write_result
    from neurosim.simulate.systems import run_system

    _check_run_options(args)
    arch = load_architecture(args.architecture)
    workload = load_workload(args.workload)
    source = None
    if args.trace is not None:
        from neurosim.cli_trace import trace_source_for

        workload, source = trace_source_for(args.trace, workload)
    progress = None
    bar = None
    if not args.quiet and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=args.tokens, unit="token", desc=f"{args.fidelity}", leave=False)
        progress = bar.update
    try:
        result = run_system(
            arch,
            workload,
            n_tokens=args.tokens,
            seed=args.seed,
            fidelity=args.fidelity,
            contention=not args.no_contention,
            progress=progress,
            arch_source=str(args.architecture),
            attention=args.attention,
            context_tokens=args.context_tokens,
            source=source,
        )
    finally:
        if bar is not None:
            bar.close()
    out = args.out or Path("results") / (
        f"{arch.name}__{workload.name}__{result.fidelity}__s{args.seed}"
        + (f"__trace-{args.trace.stem}" if args.trace is not None else "")
    )
    paths = write_result(result, out)  # saved first: printing cannot lose the result
    print(result_table(result))
    if result.placement.get("kind") == "gpu":
        from neurosim.gpu import gpu_result_table

        print()
        print(gpu_result_table(result))
    print(f"\nwrote {', '.join(str(p) for p in paths)}")
    return 0


def _compare(args) -> int:
    import csv

    from neurosim.analysis import comparison_row, nsllm_ratios
    from neurosim.plots import energy_breakdown_chart
    from neurosim.simulate.systems import run_system

    if args.tokens < 1:
        raise UsageError(f"--tokens must be at least 1; got {args.tokens}")
    workload = load_workload(args.workload)
    archs = [load_architecture(p) for p in args.architectures]  # all valid before any run
    results = []
    for path, arch in zip(args.architectures, archs, strict=True):
        results.append(
            run_system(
                arch,
                workload,
                n_tokens=args.tokens,
                seed=args.seed,
                fidelity=args.fidelity,
                arch_source=str(path),
            )
        )
    rows = [comparison_row(r) for r in results]
    args.out.mkdir(parents=True, exist_ok=True)
    table = args.out / f"compare__{workload.name}.csv"
    with table.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    chart = energy_breakdown_chart(results, args.out / f"energy__{workload.name}.png")
    print(f"{workload.name}: {args.tokens} tokens, {args.fidelity}")
    print(_markdown(rows))
    fpga = [r for r in results if r.architecture.startswith("vck190")]
    gpus = [r for r in results if r.placement.get("kind") == "gpu"]
    paper_workload = (fpga[0].published or {}).get("workload") if fpga else None
    if fpga and gpus and paper_workload not in (None, workload.name):
        print(f"\n(the NSLLM paper's ratios are for {paper_workload}; not compared here)")
    elif fpga and gpus:
        ratios = nsllm_ratios(fpga[0], gpus[0])
        print(
            f"\nNSLLM ratios, {fpga[0].architecture} against {gpus[0].architecture} "
            "(paper: PubMed 41696420 abstract)"
        )
        print(
            _markdown(
                [
                    {
                        "ratio": r["ratio"],
                        "ours": f"{r['ours']:.2f}x",
                        "paper": f"{r['paper']}x",
                        "error": f"{100 * r['error']:+.0f} %",
                        "what it counts": r["counts"],
                    }
                    for r in ratios
                ]
            )
        )
    print(f"\nwrote {table}, {chart}")
    return 0


def _markdown(rows: list[dict]) -> str:
    """A list of dicts as a markdown table (numbers to 4 significant digits)."""

    def cell(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell(r[k]) for k in head) + " |" for r in rows]
    return "\n".join(lines)


def _capacity(args) -> int:
    from neurosim.capacity import capacity

    if args.parameters <= 0:
        raise UsageError(f"--parameters must be positive; got {args.parameters}")
    workload = load_workload(args.workload)
    rows = []
    for path in args.architectures:
        a = capacity(load_architecture(path), args.parameters, workload, args.weight_bits)
        rows.append(
            {
                "architecture": a.architecture,
                "chips": a.chips,
                "limited by": a.limited_by,
                "weight bits": a.weight_bits,
                "link bits/token": a.boundary_bits_per_token,
                "link energy/token J": a.link_energy_per_token_j
                if a.link_energy_per_token_j is not None
                else "n/a",
                "link time/token s": a.link_time_per_token_s
                if a.link_time_per_token_s is not None
                else "n/a",
                "link static W": a.link_static_power_w
                if a.link_static_power_w is not None
                else "n/a",
                "note": a.note,
            }
        )
    print(f"model of {args.parameters:.3g} parameters ({workload.name} shape family)")
    print(_markdown(rows))
    return 0


def _reprice(args) -> int:
    import json

    from neurosim.config.architecture import Architecture
    from neurosim.costs import reprice_result

    try:
        saved = json.loads(args.result.read_text())
        old_total = saved["metrics"]["energy_per_token_j"]
        tokens = saved["tokens"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise UsageError(f"{args.result}: not a neurosim result.json ({err})") from None
    arch = load_architecture(args.architecture)
    if not isinstance(arch, Architecture):
        raise UsageError("reprice works on event-driven architectures, not the GPU model")
    energy = reprice_result(saved, arch)
    print(f"{args.result} ({saved['architecture']}, {tokens} tokens) priced with {arch.name}:")
    rows = [
        {"part": f"{c}.{e}", "mJ/token": 1e3 * j / tokens}
        for (c, e), j in sorted(energy.dynamic.items())
    ]
    rows += [
        {"part": f"{c}.static", "mJ/token": 1e3 * j / tokens} for c, j in energy.static.items()
    ]
    print(_markdown(rows))
    print(
        f"energy per token: {1e3 * energy.total_j / tokens:.4g} mJ "
        f"(simulated prices: {1e3 * old_total:.4g} mJ)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `neurosim` command."""
    args = _parser().parse_args(argv)
    try:
        commands = {
            "run": _run,
            "validate": _validate,
            "compare": _compare,
            "capacity": _capacity,
            "reprice": _reprice,
        }
        commands.update(dict.fromkeys(SWEEP_COMMANDS, run_sweep_command))
        commands["trace"] = run_trace_command
        return commands[args.command](args)
    except NeurosimError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a reader that stopped (e.g. `| head`)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0


if __name__ == "__main__":
    sys.exit(main())
