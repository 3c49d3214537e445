"""Command line of sweeps: `sweep`, `sweep-export`, `sweep-point` and `pareto`; nothing else.

`neurosim.cli.app` registers them with :func:`add_sweep_commands` and dispatches the names in
:data:`SWEEP_COMMANDS` to :func:`run_sweep_command`. Exit status of `sweep`: 0 when every
point is done or skipped, 4 (:data:`FAILED_POINTS_EXIT`) when any point of the study is
stored as failed, 130 when interrupted, 2 for a mistake in the spec or the options.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from neurosim.errors import UsageError

__all__ = ["FAILED_POINTS_EXIT", "SWEEP_COMMANDS", "add_sweep_commands", "run_sweep_command"]

SWEEP_COMMANDS = ("sweep", "sweep-export", "sweep-point", "pareto")
FAILED_POINTS_EXIT = 4
"""`neurosim sweep` exit status when the study holds failed points (as SimulationError)."""

_METRICS = "{metric names}"


class _MetricHelp(argparse.HelpFormatter):
    """Fills in the recorded metric names when help is printed (their module loads slowly)."""

    def add_text(self, text: str | None) -> None:
        if text and _METRICS in text:
            from neurosim.sweep.spec import KNOWN_METRICS

            text = text.replace(_METRICS, ", ".join(KNOWN_METRICS))
        super().add_text(text)


def add_sweep_commands(subparsers) -> None:
    """Add the sweep commands to an `argparse` subparsers object."""
    sw = subparsers.add_parser(
        "sweep",
        help="run a declarative parameter sweep (a study) into a SQLite database",
        description="Run every point of a sweep spec not yet stored in the study database; "
        "re-running resumes.",
    )
    sw.add_argument("spec", type=Path, help="sweep spec YAML (see architectures/sweeps/)")
    sw.add_argument(
        "--db", default=None, metavar="FILE", help="study database (default results/sweeps/NAME.db)"
    )
    where = sw.add_mutually_exclusive_group()
    where.add_argument(
        "--jobs", type=int, default=None, help="local worker processes (default: one per core)"
    )
    where.add_argument(
        "--dask",
        metavar="ADDRESS",
        default=None,
        help="run on an existing Dask distributed cluster (e.g. tcp://host:8786)",
    )
    sw.add_argument(
        "--dry-run",
        action="store_true",
        help="check the spec, list the points and their count; run nothing",
    )
    sw.add_argument("--retry-failed", action="store_true", help="recompute failed points")
    sw.add_argument("--quiet", action="store_true", help="no progress bar")

    ex = subparsers.add_parser("sweep-export", help="write a study table as CSV and/or Parquet")
    ex.add_argument("db", type=Path, help="study database")
    ex.add_argument("--csv", default=None, metavar="FILE", help="CSV file to write")
    ex.add_argument(
        "--parquet", default=None, metavar="FILE", help="Parquet file to write (needs pyarrow)"
    )
    ex.add_argument(
        "--all", action="store_true", help="include skipped and failed points (default: done)"
    )

    pt = subparsers.add_parser(
        "sweep-point", help="write one stored point's resolved architecture and workload YAML"
    )
    pt.add_argument("db", type=Path, help="study database")
    pt.add_argument("key", help="the point's key (a unique prefix is enough)")
    pt.add_argument("--out", type=Path, required=True, help="directory for the two YAML files")

    pa = subparsers.add_parser(
        "pareto",
        help="non-dominated points of a study: CSV and a plot (PNG, SVG)",
        description="Non-dominated points of a study over two or three objectives: a CSV of "
        "the front and a plot.",
        epilog=f"METRIC is a recorded metric ({_METRICS}) or any numeric column of the study "
        "table (traffic_*_bytes_per_token, energy_*_j_per_token, chips; see sweep-export). "
        "tokens_per_s and tokens_per_j are maximized, every other metric minimized, unless "
        "--minimize/--maximize say otherwise.",
        formatter_class=_MetricHelp,
    )
    pa.add_argument("db", type=Path, help="study database")
    pa.add_argument("--x", required=True, metavar="METRIC", help="objective on the x axis")
    pa.add_argument("--y", required=True, metavar="METRIC", help="objective on the y axis")
    pa.add_argument("--z", default=None, metavar="METRIC", help="a third objective")
    pa.add_argument(
        "--color", default=None, metavar="PARAM", help="colour points by a swept value or metric"
    )
    pa.add_argument(
        "--minimize", nargs="+", default=[], metavar="METRIC", help="objectives to minimize"
    )
    pa.add_argument(
        "--maximize", nargs="+", default=[], metavar="METRIC", help="objectives to maximize"
    )
    pa.add_argument(
        "--out",
        default=None,
        metavar="PREFIX|DIR/",
        help="output prefix (writes PREFIX.csv, PREFIX.png, ...); an existing directory or "
        "a path ending in / gets DIR/DB_pareto_X_Y.* (default: beside the database)",
    )
    pa.add_argument(
        "--label",
        nargs="+",
        default=None,
        metavar="PARAM",
        help="swept values to label front points with (default: every varying one)",
    )
    pa.add_argument(
        "--formats",
        nargs="+",
        choices=("png", "svg"),
        default=["png", "svg"],
        help="plot formats (default: png svg)",
    )
    pa.add_argument("--title", default=None, help="plot title (default: the front's size)")
    pa.add_argument("--max-labels", type=int, default=12, help="front points labelled (12)")


def _accuracy_for(metrics: list[str]):
    """The per-point accuracy evaluation when the study records accuracy metrics."""
    from neurosim.trace.accuracy import ACCURACY_METRICS, SweepAccuracy

    return SweepAccuracy() if set(metrics) & set(ACCURACY_METRICS) else None


def run_sweep_command(args) -> int:
    """Run the sweep command named by ``args.command``; errors raise NeurosimError."""
    _check_paths(args)
    handlers = {
        "sweep": _sweep,
        "sweep-export": _export,
        "sweep-point": _point,
        "pareto": _pareto,
    }
    return handlers[args.command](args)


# --------------------------------------------------------------------------- paths


def _input_file(path: Path, what: str) -> None:
    if path.is_dir():
        raise UsageError(f"{path}: is a directory; the {what} is a file")
    if not path.exists():
        raise UsageError(f"{path}: no such {what}")


def _output_file(name: str | None, option: str) -> Path | None:
    """The file an output option names (kept as text until here: a trailing / counts)."""
    if name is None:
        return None
    path = Path(name)
    if path.is_dir() or name.endswith(("/", "\\")):
        raise UsageError(f"{option} {name}: is a directory; give a file name")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise UsageError(f"{option} {name}: {parent} is a file, not a directory")
    return path


def _output_dir(path: Path, option: str) -> None:
    for p in (path, *path.parents):
        if p.exists() and not p.is_dir():
            raise UsageError(f"{option} {path}: {p} is a file; give a directory")


def _check_paths(args) -> None:
    """Refuse a directory given for a file, or the reverse, before any work starts."""
    if args.command == "sweep":
        _input_file(args.spec, "sweep spec")
        args.db = _output_file(args.db, "--db")
    else:
        _input_file(args.db, "study database")
    if args.command == "sweep-export":
        args.csv = _output_file(args.csv, "--csv")
        args.parquet = _output_file(args.parquet, "--parquet")
    elif args.command == "sweep-point":
        _output_dir(args.out, "--out")
    elif args.command == "pareto" and args.out is not None:
        if _out_is_dir(args.out):
            _output_dir(Path(args.out), "--out")
        else:
            _output_file(args.out, "--out")


def _out_is_dir(out: str) -> bool:
    """`--out` names a directory: it exists as one, or is written with a trailing slash."""
    return out.endswith(("/", "\\")) or Path(out).is_dir()


# --------------------------------------------------------------------------- sweep


def _db_path(args, study) -> Path:
    return args.db if args.db is not None else Path("results") / "sweeps" / f"{study.name}.db"


def _sweep(args) -> int:
    from neurosim.sweep import load_spec, plan_study, run_study

    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1; got {args.jobs}")
    _refuse_other_kinds(args.spec)
    study = load_spec(args.spec)
    plan = plan_study(study)
    db = _db_path(args, study)
    if args.dry_run:
        _print_plan(study, plan, db)
        return 0
    bar = None
    progress = None
    if not args.quiet and sys.stderr.isatty():
        from tqdm import tqdm

        def progress(p) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(total=p.pending, unit="pt", desc=study.name, dynamic_ncols=True)
            bar.n = p.finished
            bar.set_postfix_str(f"done {p.done}, skipped {p.skipped}, failed {p.failed}")

    try:
        run = run_study(
            study,
            db,
            jobs=args.jobs,
            dask_address=args.dask,
            retry_failed=args.retry_failed,
            progress=progress,
            plan=plan,
            accuracy=_accuracy_for(study.spec.metrics),
        )
    finally:
        if bar is not None:
            bar.close()
    p = run.progress
    rate = 60 * p.finished / run.wall_s if run.wall_s > 0 else 0.0
    counts = ", ".join(f"{n} {s}" for s, n in sorted(run.statuses.items()))
    print(
        f"{study.name}: {p.total} points; {p.stored_before} were stored already; this run "
        f"stored {p.done} done, {p.skipped} skipped, {p.failed} failed in {run.wall_s:.1f} s "
        f"({rate:.0f} points/min, {run.workers})"
    )
    print(f"{db}: {counts}")
    failed = run.statuses.get("failed", 0)
    if failed:
        from neurosim.sweep import Store

        with Store(db) as store:
            for row in store.rows("WHERE status = 'failed'")[:3]:
                print(f"  failed {row['key']}: {row['error']}")
    if run.interrupted:
        print(
            f"interrupted: the {p.finished} points finished in this run are stored; run the "
            "same command again to resume",
            file=sys.stderr,
        )
        return 130
    if failed:
        print(
            f"error: {failed} point(s) of the study failed; they are stored with their error "
            f"(neurosim sweep-export {db} --all --csv FILE lists them); fix the cause and "
            "re-run with --retry-failed",
            file=sys.stderr,
        )
        return FAILED_POINTS_EXIT
    return 0


def _print_plan(study, plan, db: Path) -> None:
    from neurosim.sweep import Store, grid_size
    from neurosim.sweep.names import format_value

    spec = study.spec
    items = sorted([*plan.tasks, *plan.skipped], key=lambda t: t.index)
    stored: dict[str, str] = {}
    if db.is_file():
        with Store(db) as store:
            stored = store.statuses()
    print(
        f"study {study.name}: {plan.total} points, strategy {spec.strategy.kind}, "
        f"{spec.fidelity} fidelity, {spec.tokens} token(s) per point"
    )
    shape = [f"{len(study.architectures)} architecture(s)", f"{len(study.workloads)} workload(s)"]
    if spec.strategy.kind == "grid":
        shape += [f"{a.size} {a.name}" for a in study.axes]
        print(
            "  grid: " + " x ".join(shape) + f" x {len(spec.seeds)} seed(s) = "
            f"{grid_size(study)} points"
        )
    else:
        print("  samples x " + " x ".join(shape) + f" x {len(spec.seeds)} seed(s)")
    if len(items) < grid_size(study) and spec.strategy.kind == "grid":
        print(f"  ({grid_size(study) - len(items)} duplicate points dropped)")
    print(
        f"  {len(plan.skipped)} invalid (will be stored as skipped); "
        f"{sum(1 for t in items if t.key in stored)} already in {db}"
    )
    print()
    print("index  key               seed  base architecture / workload  values")
    for t in items:
        values = ", ".join(f"{k}={format_value(v, k)}" for k, v in t.params.items())
        state = stored.get(t.key, "")
        note = f"  [{state}]" if state else ""
        if hasattr(t, "reason"):
            note += f"  SKIP: {t.reason}"
        print(
            f"{t.index:5d}  {t.key}  {t.seed:4d}  {Path(t.base_architecture).stem} / "
            f"{Path(t.base_workload).stem}  {values}{note}"
        )
    print(f"\n{plan.total} points")


# --------------------------------------------------------------------------- export, point


def _export(args) -> int:
    from neurosim.sweep import export_study

    if args.csv is None and args.parquet is None:
        raise UsageError("give --csv FILE and/or --parquet FILE")
    written = export_study(
        args.db, csv=args.csv, parquet=args.parquet, status=None if args.all else "done"
    )
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0


def _point(args) -> int:
    import yaml

    from neurosim.config.run_shape import RUN_OPTIONS
    from neurosim.sweep import Store

    with Store(args.db) as store:
        row = store.get(args.key)
        name = store.meta().get("name", args.db.stem)
    if row["config"] is None:
        raise UsageError(
            f"point {row['key']} was {row['status']} and has no valid config: {row['error']}"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    arch_path = args.out / "architecture.yaml"
    wl_path = args.out / "workload.yaml"
    opts = row["config"]["options"]
    command = (
        f"neurosim run {arch_path} {wl_path} --seed {opts['seed']} --tokens {opts['tokens']} "
        f"--fidelity {opts['fidelity']}"
    )
    command += "".join(  # the run shape, where it is not a plain decode
        f" {option.flag} {opts[name]}" for name, option in RUN_OPTIONS.items() if name in opts
    )
    values = ", ".join(f"{k}={v}" for k, v in row["params"].items())
    for path, part in ((arch_path, "architecture"), (wl_path, "workload")):
        header = (
            f"# Resolved {part} of point {row['key']} of study {name} ({values}).\n"
            f"# Written by neurosim sweep-point (neurosim {row['version']}); reproduce with:\n"
            f"#   {command}\n"
        )
        text = yaml.safe_dump(row["config"][part], sort_keys=False, allow_unicode=True)
        path.write_text(header + text, encoding="utf-8")
    print(f"point {row['key']} ({row['status']}): {values}")
    print(f"wrote {arch_path}, {wl_path}")
    print(f"reproduce with: {command}")
    return 0


# --------------------------------------------------------------------------- pareto


def _pareto(args) -> int:
    from neurosim.analysis.pareto import objectives, pareto_front
    from neurosim.analysis.sweep_plots import pareto_plot
    from neurosim.sweep import load_study
    from neurosim.sweep.names import format_value

    frame = load_study(args.db)
    if frame.empty:
        raise UsageError(f"{args.db}: no finished (done) points to compare")
    metrics = [args.x, args.y] + ([args.z] if args.z else [])
    if len(set(metrics)) != len(metrics):
        raise UsageError(f"the objectives must differ; got {', '.join(metrics)}")
    params = list(frame.attrs.get("axes", []))
    fixed_cols = {"key", "status", "index", "seed", "tokens", "batch", "prompt_tokens",
                  "wall_s", "version", "error"}
    numeric = [c for c in frame.columns if c not in fixed_cols and c not in params]
    numeric = [c for c in numeric if frame[c].dtype.kind in "if"]
    for m in metrics:
        if m not in frame.columns:
            raise UsageError(f"unknown metric {m!r}; this study has: {', '.join(numeric)}")
    unknown = [p for p in args.label or [] if p not in params]
    if unknown:
        raise UsageError(
            f"unknown --label {', '.join(unknown)}; swept values: {', '.join(params) or 'none'}"
        )
    if args.color is not None and args.color not in frame.columns:
        raise UsageError(
            f"unknown --color {args.color!r}; swept values: {', '.join(params) or 'none'}; "
            "or a metric, or architecture"
        )
    try:
        senses = objectives(metrics, args.minimize, args.maximize)
        front = pareto_front(frame, senses)
    except ValueError as err:
        raise UsageError(str(err)) from None
    stem = f"{args.db.stem}_pareto_{args.x}_{args.y}"
    if args.out is None:
        out = args.db.with_name(stem)
    elif _out_is_dir(args.out):
        out = Path(args.out) / stem
    else:
        out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    on = front[front["on_front"]].sort_values(metrics)
    lead = ["key", "base_architecture", "architecture", "base_workload", "seed"]
    objectives_only = [m for m in metrics if m not in params]  # an objective may be swept
    cols = lead + params + objectives_only
    rest = [c for c in front.columns if c not in cols and c != "on_front"]
    csv_path = out.with_suffix(".csv")
    on[cols + rest].to_csv(csv_path, index=False)
    plots = pareto_plot(
        front,
        x=args.x,
        y=args.y,
        z=args.z,
        senses=senses,
        color=args.color,
        params=args.label or params,
        out_base=out,
        title=args.title,
        max_labels=args.max_labels,
        formats=args.formats,
    )
    print(
        f"{len(on)} of {len(front)} points on the front of "
        + ", ".join(f"{senses[m]} {m}" for m in metrics)
    )
    shown = on.head(20)
    show_params = [p for p in params if front[p].astype(str).nunique() > 1]
    multi_arch = front["architecture"].nunique() > 1
    shown_metrics = [m for m in metrics if m not in show_params]
    head = (["architecture"] if multi_arch else []) + show_params + shown_metrics + ["key"]
    rows = [
        [str(r["architecture"])] * multi_arch
        + [format_value(r[p], p) for p in show_params]
        + [format_value(r[m], m) for m in shown_metrics]
        + [r["key"]]
        for _, r in shown.iterrows()
    ]
    print(_table(head, rows))
    if len(on) > len(shown):
        print(f"... {len(on) - len(shown)} more in {csv_path}")
    print(f"wrote {csv_path}, {', '.join(str(p) for p in plots)}")
    return 0


def _table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------- standalone


def _refuse_other_kinds(path) -> None:
    """One clear line when an architecture or workload file is given as the sweep spec."""
    from neurosim.errors import ConfigError
    from neurosim.simulate.systems import file_kind

    try:
        kind = file_kind(path)
    except ConfigError:
        return  # not recognisably another kind: the spec loader reports what is wrong
    if kind != "sweep":
        shown = "an architecture" if kind in ("architecture", "gpu") else "a workload"
        raise UsageError(
            f"{path}: this looks like {shown} file, but `neurosim sweep` expects a sweep "
            "spec (examples in architectures/sweeps/)"
        )
