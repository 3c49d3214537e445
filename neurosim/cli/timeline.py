"""Where a run's time goes: `run --timeline FILE.json` (trace-event JSON for Perfetto or
chrome://tracing), `--timeline-tokens`, `--timeline-spans`, and `--plots DIR` on `run`
and `compare` (the link-utilisation map and, from the DES, one token's timeline); for an
imported spiking network, `--timeline-timesteps` and a cores x timesteps heat map."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from neurosim.cli.paths import output_dir, output_file
from neurosim.errors import UsageError

# one token of vck190_nsllm x nsllm-1.5b is about 200,000 spans (22 MB); the span cap
# keeps presets with bigger tokens (loihi: 2 million spans) under about 50 MB
DEFAULT_TIMELINE_TOKENS = 1
PLOT_TOKEN = 0  # the token drawn by --plots
# a spiking network's timestep is a few spans per used core and busy link: the default
# --timesteps is recorded whole, and the span cap bounds the file for big networks
DEFAULT_TIMELINE_TIMESTEPS = 100
PLOT_TIMESTEPS = 3  # the timesteps drawn in a spiking network's timeline.png


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
        "--timeline-timesteps",
        type=int,
        default=None,
        metavar="N",
        help="for a spiking network (.nir): timesteps the timeline keeps, the first N "
        f"(default {DEFAULT_TIMELINE_TIMESTEPS}); the cap is stated in the file's otherData",
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
                     f"token {PLOT_TOKEN}'s timeline with its critical path (timeline.png); "
                     "for a spiking network, also a cores x timesteps heat map (timesteps.png)")


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


def _check_caps(args, step_flag: str = "--timeline-tokens") -> None:
    """The step cap (`step_flag`) and --timeline-spans: positive, and only with --timeline."""
    for flag, value in (
        (step_flag, getattr(args, step_flag[2:].replace("-", "_"))),
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

    if args.timeline_timesteps is not None:
        raise UsageError(
            "--timeline-timesteps applies to spiking networks (a .nir WORKLOAD); an LLM "
            "run's timeline keeps tokens: --timeline-tokens N"
        )
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


# ---- imported spiking networks -------------------------------------------------------


def check_network_views(args) -> None:
    """Refuse impossible timeline options of a spiking-network run, before any work."""
    if args.timeline_tokens is not None:
        raise UsageError(
            "--timeline-tokens: a spiking network advances by timesteps, not tokens; "
            "use --timeline-timesteps N"
        )
    _check_caps(args, "--timeline-timesteps")


def network_views(args, run, arch, meta: dict) -> list[Path]:
    """`run NET.nir --timeline/--plots`: the trace-event JSON of the first timesteps and
    the pictures (heat map, timeline of the first timesteps, link map)."""
    if args.timeline is None and args.plots is None:
        return []
    from neurosim.simulate.snn_timeline import record_timesteps
    from neurosim.simulate.timeline import DEFAULT_MAX_EVENTS, TimelineRecorder

    if args.timeline is not None:
        steps = min(args.timeline_timesteps or DEFAULT_TIMELINE_TIMESTEPS, run.timesteps)
        recorder = TimelineRecorder(steps, args.timeline_spans or DEFAULT_MAX_EVENTS)
    else:
        recorder = TimelineRecorder(min(PLOT_TIMESTEPS, run.timesteps))
    record_timesteps(run, recorder)
    out: list[Path] = []
    if args.timeline is not None:
        from neurosim import __version__

        meta = {
            "generator": f"neurosim {__version__}",
            **meta,
            "bottleneck": run.bottleneck,
            "model": "the per-timestep cost model's schedule: every core starts at the "
            "timestep's start, every link at the spike phase's start, then the barrier",
            "open_with": "https://ui.perfetto.dev or chrome://tracing",
        }
        path = args.timeline
        out.append(_write("the timeline", path, lambda: recorder.write(path, meta)))
    if args.plots is not None:
        out += _network_pictures(args.plots, run, arch, recorder)
    busy = run.core_busy_s / run.elapsed_s if run.elapsed_s else run.core_busy_s
    if busy.size:
        top = int(busy.argmax())
        print(f"\nbusiest core: core {top}, {100 * busy[top]:.1f} % busy", end="")
        critical = _critical_cores(run)
        if critical is not None:
            cores, counts = np.unique(critical, return_counts=True)
            lead = int(counts.argmax())
            print(
                f"; critical core (the slowest, which sets the compute phase): core "
                f"{int(cores[lead])} in {int(counts[lead])} of {run.timesteps} timesteps",
                end="",
            )
        print()
    return out


def _critical_cores(run):
    """The slowest core of each timestep (None on an analog chip, where no core sets the
    timestep's length)."""
    from neurosim.simulate.snn_timeline import ANALOG

    if not run.core_activity_s or ANALOG in run.core_activity_s:
        return None
    return sum(run.core_activity_s.values()).argmax(axis=1)


def _network_pictures(directory: Path, run, arch, recorder) -> list[Path]:
    """timesteps.png, timeline.png and (when the network uses links) linkmap.png."""
    from neurosim.analysis.linkmap import draw_link_map
    from neurosim.analysis.timeline_plot import timestep_heatmap, token_timeline

    out: list[Path] = []
    title = f"{run.architecture} x {run.network}"
    latency = np.where(run.latency_s > 0, run.latency_s, 1.0)[:, None]
    if run.core_activity_s:
        share = sum(run.core_activity_s.values()) / latency
        path = directory / "timesteps.png"
        heading = f"{title}: each core's busy share of each timestep"
        draw = lambda: timestep_heatmap(share, _critical_cores(run), path, heading).path  # noqa: E731
        out.append(_write("the timestep heat map", path, draw))
    spans = [s for s in recorder.spans() if s.step < PLOT_TIMESTEPS]
    if spans:
        steps = len({s.step for s in spans})
        path = directory / "timeline.png"
        heading = f"{title}: the first {steps} timestep(s)"
        draw = lambda: token_timeline(spans, path, heading, noun="first timestep").path  # noqa: E731
        out.append(_write("the timeline picture", path, draw))
    if run.links and run.elapsed_s:
        link_busy = 100 * run.link_busy_s.sum(axis=0) / run.elapsed_s
        unit_busy = _unit_busy(run, arch)
        path = directory / "linkmap.png"
        heading = (f"{title}: link and core utilisation\n(spiking network, {run.timesteps} "
                   f"timesteps; bottleneck {run.bottleneck}")
        draw = lambda: draw_link_map(  # noqa: E731
            arch, run.chips, link_busy, unit_busy, heading, path,
            unit_label="busiest core of the unit (% of simulated time)",
        ).path
        out.append(_write("the link map", path, draw))
    else:
        print(f"note: no link map for {run.architecture}: the network uses no links",
              file=sys.stderr)
    return out


def _unit_busy(run, arch) -> np.ndarray:
    """Busy % of each compute unit of the chips used: its busiest core's."""
    per_unit = arch.neuron_cores.cores_per_unit
    count = arch.compute.count
    per_chip = count * per_unit
    busy = 100 * run.core_busy_s / run.elapsed_s
    core = np.arange(busy.size)
    unit = (core // per_chip) * count + (core % per_chip) // per_unit
    out = np.zeros(count * run.chips)
    np.maximum.at(out, unit, busy)
    return out
