"""Command line: argument parsing, printing and exit codes; nothing else."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from neurosim import __version__
from neurosim.cli import timeline as views
from neurosim.cli.accuracy import add_accuracy_command, run_accuracy_command
from neurosim.cli.fpga import add_fpga_command, run_fpga_command
from neurosim.cli.niai import add_niai_command, run_niai
from neurosim.cli.paths import (
    architecture_file,
    config_file,
    input_file,
    output_dir,
    workload_file,
    workload_or_network,
)
from neurosim.cli.run_shape import (
    add_run_shape_options,
    check_run_shape,
    run_shape_kwargs,
    run_shape_suffix,
)
from neurosim.cli.snn import add_network_options, is_network, run_network
from neurosim.cli.sweep import SWEEP_COMMANDS, add_sweep_commands, run_sweep_command
from neurosim.cli.trace import add_trace_commands, run_trace_command
from neurosim.errors import NeurosimError, UsageError

ROOT = Path(__file__).resolve().parents[2]  # the checkout: neurosim/cli/app.py


def _assignment(text: str) -> tuple[str, str, object]:
    from neurosim.config.overrides import parse_assignment

    try:
        return parse_assignment(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _add_set(p: argparse.ArgumentParser, targets: str) -> None:
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        type=_assignment,
        default=[],
        metavar="KEY=VALUE",
        help=f"change one value of the {targets} before running, by dotted path (the paths "
        "sweep axes use): architecture.adc.bits=6, workload.weights.bits=4, "
        "'architecture.dram.channels[0].efficiency=0.8', 'architecture.compute.clock_hz=300 "
        "MHz'; values are read as YAML; repeatable",
    )


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument as a UsageError (`error: ...`, exit 2), like
    every other user mistake; subcommand parsers inherit it."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}\n{self.format_usage().rstrip()}")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="neurosim",
        description="Discrete-event simulator of neuromorphic and in-memory-compute systems "
        "running spiking LLMs. Wherever a config file is expected, a preset name works too "
        "(vck190_nsllm for architectures/vck190_nsllm.yaml, nsllm-1.5b for "
        "workloads/nsllm-1.5b.yaml).",
    )
    p.add_argument("--version", action="version", version=f"neurosim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a workload on an architecture and print the results")
    run.add_argument(
        "architecture",
        type=architecture_file,
        help="architecture YAML or preset name (e.g. vck190_nsllm)",
    )
    run.add_argument(
        "workload",
        type=workload_or_network,
        help="workload YAML or preset name (e.g. nsllm-1.5b), or a spiking network (.nir)",
    )
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
        type=output_dir,
        default=None,
        help="output directory (default results/<arch>__<workload>__<fidelity>__s<seed>)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument(
        "--trace",
        type=input_file,
        default=None,
        metavar="FILE",
        help="replay a spike trace instead of synthetic spikes; the workload takes the "
        "trace's levels and scheme",
    )
    add_run_shape_options(run)
    _add_set(run, "architecture or workload")
    add_network_options(run)
    views.add_run_options(run)

    val = sub.add_parser("validate", help="check an architecture or workload file")
    val.add_argument(
        "file", type=config_file, help="architecture or workload YAML, or a preset name"
    )
    _add_set(val, "file (architecture.* for an architecture, workload.* for a workload)")

    cmp_ = sub.add_parser("compare", help="one workload on several architectures, side by side")
    cmp_.add_argument(
        "architectures",
        type=architecture_file,
        nargs="+",
        help="architecture YAML files or preset names",
    )
    cmp_.add_argument(
        "--workload", type=workload_file, required=True, help="workload YAML or preset name"
    )
    cmp_.add_argument("--tokens", type=int, default=4, help="tokens to decode (default 4)")
    cmp_.add_argument(
        "--seed", type=int, default=0, help="seed of the synthetic spikes (default 0)"
    )
    cmp_.add_argument(
        "--fidelity",
        choices=("des", "analytic"),
        default="analytic",
        help="analytic (default): fast max-plus bound, no resource above 100 %% busy; "
        "des: SimPy with contention",
    )
    cmp_.add_argument(
        "--out",
        type=output_dir,
        default="results/compare",  # a string, so argparse checks it like a given value
        help="where the table (CSV) and the energy chart (PNG) go (default results/compare)",
    )
    cmp_.add_argument("--quiet", action="store_true", help="no progress bar")
    add_run_shape_options(cmp_)
    _add_set(cmp_, "workload or every architecture")
    views.add_plots_option(cmp_)

    cap = sub.add_parser("capacity", help="chips a model of N parameters needs, and link cost")
    cap.add_argument(
        "architectures",
        type=architecture_file,
        nargs="+",
        help="architecture YAML files or preset names",
    )
    cap.add_argument("--parameters", type=float, required=True, help="model parameters, e.g. 20e9")
    cap.add_argument(
        "--workload",
        type=workload_file,
        default=ROOT / "workloads/nsllm-1.5b.yaml",
        help="shape family and spike statistics (default nsllm-1.5b)",
    )
    cap.add_argument(
        "--weight-bits",
        type=float,
        default=None,
        help="bits per weight, fractions allowed (default: the workload's mean stored bits)",
    )
    _add_set(cap, "workload or every architecture")
    rep = sub.add_parser(
        "reprice", help="price a saved run's event counts with another architecture's energies"
    )
    rep.add_argument("result", type=input_file, help="result.json written by neurosim run")
    rep.add_argument(
        "architecture",
        type=architecture_file,
        help="the same design with other energies (YAML or preset name)",
    )
    _add_set(rep, "architecture")

    sch = sub.add_parser(
        "schema",
        help="print the JSON Schema of a config file kind (for editor completion)",
        description="Print the JSON Schema of architecture, workload or sweep files. Point "
        "your editor's YAML language server at it, e.g. a first line "
        "'# yaml-language-server: $schema=architecture.schema.json'.",
    )
    sch.add_argument("kind", choices=("architecture", "workload", "sweep"), help="file kind")
    add_sweep_commands(sub)
    add_trace_commands(sub)
    add_fpga_command(sub)
    add_niai_command(sub)
    add_accuracy_command(sub, _add_set)
    return p


def _article(kind: str) -> str:
    return f"an {kind}" if kind == "architecture" else f"a {kind}"


def _kind_of(path: Path) -> str:
    from neurosim.simulate.systems import file_kind

    return file_kind(path)


def load_architecture(path: Path, overrides=()):
    """Load and validate an architecture file, then apply `--set architecture.*` values."""
    from neurosim.simulate.systems import load_architecture as load

    return _overridden(_loaded(load, path, "architecture"), "architecture", overrides)


def load_workload(path: Path, overrides=()):
    """Load and validate a workload file, then apply `--set workload.*` values."""
    from neurosim.simulate.systems import load_workload as load

    return _overridden(_loaded(load, path, "workload"), "workload", overrides)


def _loaded(load, path: Path, expected: str):
    """`load(path)`; when it fails on a file of another kind (a workload given as the
    architecture, or the reverse), say that instead of listing every key it lacks."""
    from neurosim.errors import ConfigError
    from neurosim.simulate.systems import check_kind

    try:
        return load(path)
    except ConfigError:
        try:
            check_kind(path, expected, f"this {expected.upper()} argument")
        except ConfigError as mixup:
            raise mixup from None
        raise


def _overridden(model, target: str, overrides):
    from neurosim.config.overrides import with_overrides

    values = {path: value for t, path, value in overrides if t == target}
    if not values:
        return model
    return with_overrides(model, values, source=f"--set {target}.*")


def _check_pair(arch: Path, workload: Path) -> None:
    """One clear message when the two positional configs are swapped or of the wrong kind."""
    from neurosim.simulate.systems import check_kind

    a_kind, w_kind = _kind_of(arch), _kind_of(workload)
    if a_kind == "workload" and w_kind != "workload":
        raise UsageError(
            f"{arch} looks like a workload and {workload} like an architecture; did you swap "
            "the arguments? (usage: neurosim run ARCHITECTURE WORKLOAD)"
        )
    check_kind(arch, "architecture", "the ARCHITECTURE argument")
    check_kind(workload, "workload", "the WORKLOAD argument")


def _validate(args) -> int:
    from neurosim.config.loader import load_yaml_with_lines, resolve_extends
    from neurosim.config.provenance import unsourced_numbers

    kind = _kind_of(args.file)
    target = "workload" if kind == "workload" else "architecture"
    for t, path, _ in args.overrides:
        if t != target:
            raise UsageError(
                f"--set {t}.{path}: {args.file} describes {_article(target)}; "
                f"use --set {target}.KEY=VALUE"
            )
    if kind == "gpu":
        from neurosim.simulate.gpu import gpu_summary_lines

        arch = load_architecture(args.file, args.overrides)
        print(f"{args.file}: valid architecture '{arch.name}' (GPU, analytical model)")
        for line in gpu_summary_lines(arch):
            print(line)
    elif kind == "architecture":
        arch = load_architecture(args.file, args.overrides)
        print(f"{args.file}: valid architecture '{arch.name}'")
        c = arch.compute
        print(f"  compute: {c.count} x {c.kind} per chip, {c.summary()}")
        if arch.attention_engine is not None:
            print(f"  attention engine (softmax): {arch.attention_engine.summary()}")
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
        if arch.fpga is not None:
            from neurosim.cli.fpga import fpga_summary_lines

            for line in fpga_summary_lines(arch):
                print(line)
        if arch.host.runs:
            print(f"  host: {arch.host.summary()}")
    else:
        from neurosim.workload.model import build_model_graph

        wl = load_workload(args.file, args.overrides)
        graph = build_model_graph(wl)
        print(f"{args.file}: valid workload '{wl.name}'")
        print(
            f"  {graph.parameters / 1e9:.3f}B parameters, {len(graph.groups)} spike-coded "
            f"site instances per token, {wl.weights.describe()} weights, {wl.coding.scheme} coding"
        )
        for name, site in wl.blocks.sites.items():
            print(f"  site {name}: width {site.width}, L = {site.levels}")
        for o in wl.weights.overrides:
            where = ", ".join(o.layers) or "every linear"
            blocks = f" in blocks {o.blocks}" if o.blocks is not None else ""
            print(f"  weights {where}{blocks}: {o.describe()}")
        for rng in wl.blocks.overrides:
            lv = ", ".join(f"{k} L = {v.levels}" for k, v in rng.sites.items())
            print(f"  blocks {rng.blocks}: {lv}")
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


def _check_run_options(args) -> None:
    """Refuse impossible options before any work."""
    if args.tokens < 1:
        raise UsageError(f"--tokens must be at least 1; got {args.tokens}")
    if args.seed < 0:
        raise UsageError(f"--seed must be a non-negative integer; got {args.seed}")
    check_run_shape(args)


def _progress_bar(args, total: int, desc: str):
    """A tqdm bar on an interactive stderr unless --quiet, else None."""
    if args.quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="token", desc=desc, leave=False)


def _run(args) -> int:
    from neurosim.results.record import write_result
    from neurosim.results.report import result_table
    from neurosim.simulate.run import RunInterrupted
    from neurosim.simulate.systems import run_system

    if is_network(args.workload):
        return run_network(args, load_architecture)
    _check_run_options(args)
    _check_pair(args.architecture, args.workload)
    arch = load_architecture(args.architecture, args.overrides)
    workload = load_workload(args.workload, args.overrides)
    recorder = views.run_recorder(args, arch)
    source = None
    if args.trace is not None:
        from neurosim.cli.trace import trace_source_for

        workload, source = trace_source_for(args.trace, workload)
    bar = _progress_bar(args, args.tokens, args.fidelity)
    interrupted = None
    try:
        result = run_system(
            arch,
            workload,
            n_tokens=args.tokens,
            seed=args.seed,
            fidelity=args.fidelity,
            contention=not args.no_contention,
            progress=bar.update if bar is not None else None,
            arch_source=str(args.architecture),
            source=source,
            **run_shape_kwargs(args),
            recorder=recorder,
        )
    except RunInterrupted as err:
        interrupted, result = err, err.result
    finally:
        if bar is not None:
            bar.close()
    out = args.out or Path("results") / (
        f"{arch.name}__{workload.name}__{result.fidelity}__s{args.seed}"
        + run_shape_suffix(args)
        + (f"__trace-{args.trace.stem}" if args.trace is not None else "")
        + (f"__set-{result.config_hash[:8]}" if args.overrides else "")
        + ("__partial" if interrupted else "")
    )
    paths = write_result(result, out)  # saved first: printing cannot lose the result
    if interrupted:
        _mark_partial(out / "result.json", interrupted.requested)
    print(result_table(result))
    if result.placement.get("kind") == "gpu":
        from neurosim.simulate.gpu import gpu_result_table

        print()
        print(gpu_result_table(result))
    paths += views.write_views(args, result, arch, recorder)
    print(f"\nwrote {', '.join(str(p) for p in paths)}")
    if interrupted:
        print(
            f"interrupted: the result above is partial, {result.tokens} of "
            f'{interrupted.requested} tokens (marked "partial": true in {out / "result.json"})',
            file=sys.stderr,
        )
        return 130
    return 0


def _mark_partial(path: Path, requested: int) -> None:
    """Flag a result.json as covering only the tokens finished before an interrupt."""
    import json

    data = json.loads(path.read_text())
    data["partial"] = True
    data["tokens_requested"] = requested
    path.write_text(json.dumps(data, indent=2))


def _compare(args) -> int:
    import csv

    from neurosim.analysis.compare import comparison_row, nsllm_ratios
    from neurosim.analysis.plots import energy_breakdown_chart
    from neurosim.simulate.systems import check_kind, run_system

    if args.tokens < 1:
        raise UsageError(f"--tokens must be at least 1; got {args.tokens}")
    if args.seed < 0:
        raise UsageError(f"--seed must be a non-negative integer; got {args.seed}")
    check_run_shape(args)
    check_kind(args.workload, "workload", "--workload")
    for path in args.architectures:
        check_kind(path, "architecture", "each ARCHITECTURE argument")
    workload = load_workload(args.workload, args.overrides)
    # all valid before any run
    archs = [load_architecture(p, args.overrides) for p in args.architectures]
    bar = _progress_bar(args, args.tokens * len(archs), f"compare {args.fidelity}")
    results, recorders = [], []
    try:
        for path, arch in zip(args.architectures, archs, strict=True):
            if bar is not None:
                bar.set_postfix_str(arch.name)
            recorders.append(views.plot_recorder(args, arch))
            results.append(
                run_system(
                    arch,
                    workload,
                    n_tokens=args.tokens,
                    seed=args.seed,
                    fidelity=args.fidelity,
                    arch_source=str(path),
                    progress=bar.update if bar is not None else None,
                    **run_shape_kwargs(args),
                    recorder=recorders[-1],
                )
            )
    finally:
        if bar is not None:
            bar.close()
    rows = [comparison_row(r) for r in results]
    args.out.mkdir(parents=True, exist_ok=True)
    table = args.out / f"compare__{workload.name}.csv"
    with table.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    chart = energy_breakdown_chart(results, args.out / f"energy__{workload.name}.png")
    pictures = views.compare_pictures(args.plots, results, archs, recorders)
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
    print(f"\nwrote {', '.join(str(p) for p in [table, chart, *pictures])}")
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
    from neurosim.analysis.capacity import capacity
    from neurosim.simulate.systems import check_kind

    if args.parameters <= 0:
        raise UsageError(f"--parameters must be positive; got {args.parameters}")
    if args.weight_bits is not None and args.weight_bits < 1:
        raise UsageError(f"--weight-bits must be at least 1; got {args.weight_bits}")
    check_kind(args.workload, "workload", "--workload")
    for path in args.architectures:
        check_kind(path, "architecture", "each ARCHITECTURE argument")
    workload = load_workload(args.workload, args.overrides)
    archs = [load_architecture(p, args.overrides) for p in args.architectures]
    rows = []
    for arch in archs:
        a = capacity(arch, args.parameters, workload, args.weight_bits)
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

    from neurosim.analysis.reprice import price_table_of, reprice_result, saved_counts
    from neurosim.simulate.systems import check_kind

    check_kind(args.architecture, "architecture", "the ARCHITECTURE argument")
    try:
        saved = json.loads(args.result.read_text())
        old_total = saved["metrics"]["energy_per_token_j"]
        tokens = saved["tokens"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise UsageError(f"{args.result}: not a neurosim result.json ({err})") from None
    arch = load_architecture(args.architecture, args.overrides)
    saved_counts(saved)  # an old or damaged count key is named before prices are compared
    _check_same_design(saved, arch, price_table_of(arch))
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


def _check_same_design(saved: dict, arch, prices: dict) -> None:
    """Refuse a price table that has no price for some of the saved events, saying why."""
    from neurosim.simulate.gpu import GPU_KIND, GpuArchitecture

    unpriced = sorted(
        key for key in saved.get("event_counts", {}) if tuple(key.split("/", 1)) not in prices
    )
    if not unpriced:
        return
    old = saved.get("config", {}).get("architecture", {})
    old_kind = old.get("kind") if old.get("kind") == GPU_KIND else None
    old_kind = old_kind or (old.get("compute") or {}).get("kind", "unknown")
    new_kind = GPU_KIND if isinstance(arch, GpuArchitecture) else arch.compute.kind
    shown = ", ".join(unpriced[:8])
    if len(unpriced) > 8:
        shown += f" (and {len(unpriced) - 8} more)"
    if old_kind != new_kind:
        raise UsageError(
            f"the saved run was simulated on {saved.get('architecture')} ({old_kind}) and "
            f"{arch.name} is a {new_kind} system: the kinds differ, so its price table "
            f"has no price for these events: {shown}. reprice changes the energies of the same "
            f"design; to cost another design, run it: neurosim run {arch.name} "
            f"{saved.get('workload', 'WORKLOAD')}"
        )
    raise UsageError(
        f"{arch.name} has no price for these events of the saved run "
        f"({saved.get('architecture')}): {shown}. reprice needs the same components (same DRAM "
        "channel names, same optional sections); to cost a different design, run it"
    )


def _schema(args) -> int:
    import json

    from neurosim.analysis.config_docs import config_schema

    print(json.dumps(config_schema(args.kind), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `neurosim` command."""
    try:
        args = _parser().parse_args(argv)
        commands = {
            "run": _run,
            "validate": _validate,
            "compare": _compare,
            "capacity": _capacity,
            "reprice": _reprice,
            "schema": _schema,
        }
        commands.update(dict.fromkeys(SWEEP_COMMANDS, run_sweep_command))
        commands["trace"] = run_trace_command
        commands["fpga"] = run_fpga_command
        commands["niai"] = run_niai
        commands["accuracy"] = run_accuracy_command
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
