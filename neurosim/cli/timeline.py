"""Where a run's time goes: `run --timeline FILE.json` (trace-event JSON for Perfetto or
chrome://tracing), `--timeline-tokens`, `--timeline-spans`, and `--plots DIR` on `run`
and `compare` (the link-utilisation map and, from the DES, one token's timeline)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from neurosim.cli.paths import output_dir, output_file
from neurosim.errors import UsageError

# one token of vck190_nsllm x nsllm-1.5b is about 200,000 spans (22 MB); the span cap
# keeps presets with bigger tokens (loihi: 2 million spans) under about 50 MB
DEFAULT_TIMELINE_TOKENS = 1
PLOT_TOKEN = 0  # the token drawn by --plots


def add_run_options(run: argparse.ArgumentParser) -> None:
    """--timeline, --timeline-tokens, --timeline-spans and --plots on `run`."""
    from neurosim.simulate.timeline import DEFAULT_MAX_EVENTS

    g = run.add_argument_group("timeline and pictures")
    g.add_argument(
        "--timeline",
        type=output_file,
        default=None,
        metavar="FILE.json",
        help="write the DES's activity as trace-event JSON (open it in https://ui.perfetto.dev "
        "or chrome://tracing): one track per DRAM channel, compute unit, shared ADC bank and "
        "busy link, the layers and spike phases, the stream buffer's fill as a counter; "
        "DES with contention only",
    )
    g.add_argument(
        "--timeline-tokens",
        type=int,
        default=None,
        metavar="N",
        help=f"tokens the timeline keeps, the first N (default {DEFAULT_TIMELINE_TOKENS}: about "
        "22 MB for vck190_nsllm x nsllm-1.5b); the cap is stated in the file's otherData",
    )
    g.add_argument(
        "--timeline-spans",
        type=int,
        default=None,
        metavar="N",
        help=f"at most N spans in the timeline (default {DEFAULT_MAX_EVENTS:,}, under about "
        "50 MB); a token that would exceed it is cut short there, and the file says so",
    )
    add_plots_option(g, "the link-utilisation map (linkmap.png) and, with the DES, "
                     f"token {PLOT_TOKEN}'s timeline with its critical path (timeline.png)")


def add_plots_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup,
                     what: str | None = None) -> None:
    """--plots DIR (on `run`, and on `compare` for one map per architecture)."""
    parser.add_argument(
        "--plots",
        type=output_dir,
        default=None,
        metavar="DIR",
        help="write pictures into DIR: "
        + (what or "one link-utilisation map per architecture (linkmap__ARCH.png) and, "
           f"with --fidelity des, token {PLOT_TOKEN}'s timeline (timeline__ARCH.png)"),
    )


def _is_gpu(arch) -> bool:
    from neurosim.simulate.gpu import GpuArchitecture

    return isinstance(arch, GpuArchitecture)


def _check_caps(args) -> None:
    """--timeline-tokens and --timeline-spans: positive, and only with --timeline."""
    for flag, value in (
        ("--timeline-tokens", args.timeline_tokens),
        ("--timeline-spans", args.timeline_spans),
    ):
        if value is None:
            continue
        if args.timeline is None:
            raise UsageError(f"{flag} applies only with --timeline FILE.json")
        if value < 1:
            raise UsageError(f"{flag} must be at least 1; got {value}")


def run_recorder(args, arch):
    """The recorder `run` needs (None: no timeline asked for or none possible); refuses
    --timeline where the run has no per-resource schedule."""
    from neurosim.simulate.timeline import DEFAULT_MAX_EVENTS, TimelineRecorder

    _check_caps(args)
    if args.timeline is not None:
        if _is_gpu(arch):
            raise UsageError(
                f"--timeline: {arch.name} is a GPU, modelled analytically (a roofline with no "
                "per-resource schedule); timelines are for chip architectures"
            )
        if args.fidelity != "des":
            raise UsageError(
                "--timeline needs --fidelity des: the analytic fidelity is a max-plus bound "
                "that computes when each tile is ready and each unit finishes, not when each "
                "link or DRAM channel is held, so it has no timeline to write"
            )
        if args.no_contention:
            raise UsageError(
                "--timeline needs contention: without it the DES does not queue holds on "
                "links and channels, so they overlap and no per-resource timeline exists"
            )
        tokens = args.timeline_tokens or DEFAULT_TIMELINE_TOKENS
        spans = args.timeline_spans or DEFAULT_MAX_EVENTS
        return TimelineRecorder(min(tokens, args.tokens), spans)
    return plot_recorder(args, arch)


def plot_recorder(args, arch):
    """A one-token recorder for --plots' timeline picture when the run can record."""
    from neurosim.simulate.timeline import TimelineRecorder

    contention = not getattr(args, "no_contention", False)
    if args.plots is None or _is_gpu(arch) or args.fidelity != "des" or not contention:
        return None
    return TimelineRecorder(PLOT_TOKEN + 1)


def _write(what: str, path: Path, write):
    """Run `write()`; an OS error (permissions, full disk) becomes a usage error."""
    try:
        return write()
    except OSError as err:
        raise UsageError(f"cannot write {what} {path}: {err.strerror or err}") from None


def write_views(args, result, arch, recorder) -> list[Path]:
    """Write what `run` was asked for: the timeline JSON and the pictures."""
    out: list[Path] = []
    if args.timeline is not None and recorder is not None:
        from neurosim import __version__

        meta = {
            "generator": f"neurosim {__version__}",
            "architecture": result.architecture,
            "workload": result.workload,
            "fidelity": result.fidelity,
            "seed": result.seed,
            "tokens_run": result.tokens,
            "config_hash": result.config_hash,
            "bottleneck": result.bottleneck,
            "open_with": "https://ui.perfetto.dev or chrome://tracing",
        }
        path = args.timeline
        out.append(_write("the timeline", path, lambda: recorder.write(path, meta)))
    if args.plots is not None:
        out += pictures(args.plots, result, arch, recorder)
    return out


def pictures(directory: Path, result, arch, recorder, suffix: str = "") -> list[Path]:
    """The link map and (when recorded) the token timeline of one result, in `directory`."""
    if _is_gpu(arch):
        print(f"note: no pictures for {arch.name}: a GPU has no modelled network", file=sys.stderr)
        return []
    from neurosim.analysis.linkmap import link_map
    from neurosim.analysis.timeline_plot import critical_path, path_shares, token_timeline

    path = directory / f"linkmap{suffix}.png"
    out = [_write("the link map", path, lambda: link_map(result, arch, path).path)]
    if recorder is None or recorder.events == 0:
        print(
            f"note: no timeline picture for {result.architecture}: it needs --fidelity des "
            "with contention",
            file=sys.stderr,
        )
        return out
    spans = recorder.spans(PLOT_TOKEN)
    cut = " (cut short by the span cap)" if recorder.cut_short else ""
    title = (
        f"{result.architecture} x {result.workload}: token {PLOT_TOKEN} "
        f"(seed {result.seed}, DES){cut}"
    )
    path = directory / f"timeline{suffix}.png"
    draw = lambda: token_timeline(spans, path, title).path  # noqa: E731
    out.append(_write("the timeline picture", path, draw))
    shares = path_shares(critical_path(spans))[:3]
    print(
        f"\ncritical path of token {PLOT_TOKEN} ({result.architecture}): busy time on "
        + ", ".join(f"{track} {100 * share:.1f} %" for track, share in shares)
    )
    return out


def compare_pictures(directory: Path | None, results, archs, recorders) -> list[Path]:
    """`compare --plots`: each architecture's pictures, named after it."""
    if directory is None:
        return []
    out: list[Path] = []
    seen: dict[str, int] = {}
    for result, arch, recorder in zip(results, archs, recorders, strict=True):
        n = seen[result.architecture] = seen.get(result.architecture, 0) + 1
        suffix = f"__{result.architecture}" + (f"_{n}" if n > 1 else "")
        out += pictures(directory, result, arch, recorder, suffix)
    return out
