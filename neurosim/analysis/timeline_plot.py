"""Static pictures of a timeline: one token's (or a few timesteps') holds with the
critical path, and a spiking network's cores x timesteps heat map.

Resources on the y-axis (the layers and spike phases, the DRAM channels, then the
busiest compute units, ADC banks and links), time on the x-axis, each hold coloured by
what it did. The critical path is the last-arrival chain: starting from the hold that
ends the token, each step goes back to the hold that ended latest at or before the
current one began (on the same resource when several end then, which follows a queue).
It is the chain of work the token waited on; a gap between two of its holds is latency
(a DRAM access, link hops) that no resource was busy for.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from neurosim.analysis.linkmap import Figure  # noqa: E402
from neurosim.simulate.timeline import KINDS, Span  # noqa: E402

ROWS_PER_KIND = 8  # the busiest resources of each kind shown
KIND_LABELS = {
    "schedule": "schedule",
    "dram": "DRAM channels",
    "compute": "compute units",
    "adc": "ADC banks",
    "link": "NoC links",
    "chip_link": "chip links",
    "core": "neuron cores",
}
ACTIVITY_COLORS = {
    "layer": "#9e9e9e",
    "phase": "#c5b0d5",
    "embedding": "#8c564b",
    "fetch": "#1f77b4",
    "state": "#17becf",
    "weights": "#ff7f0e",
    "spikes": "#9467bd",
    "compute": "#2ca02c",
    "convert": "#bcbd22",
    "epilogue": "#98df8a",
    "compute phase": "#c7e9c0",
    "synaptic events": "#2ca02c",
    "neuron updates": "#98df8a",
    "spikes and messages": "#c49c94",
    "analog emulation": "#17becf",
    "barrier": "#7f7f7f",
}
PATH_COLOR = "#d62728"
UTIL_CMAP = "Blues"


def critical_path(spans: Sequence[Span]) -> list[Span]:
    """The last-arrival chain of holds that ends the token (see the module doc), in time
    order; the schedule's own spans (token, layers, phases) are containers, not holds."""
    holds = sorted((s for s in spans if s.kind != "schedule"), key=lambda s: s.end_ps)
    if not holds:
        return []
    ends = [s.end_ps for s in holds]
    current = holds[-1]
    path = [current]
    start = min(s.start_ps for s in holds)
    while current.start_ps > start:
        i = bisect.bisect_right(ends, current.start_ps)
        if i == 0:
            break
        latest = ends[i - 1]
        j = i - 1
        best = holds[j]
        while j >= 0 and ends[j] == latest:  # several end then: prefer the same resource
            if holds[j].track == current.track:
                best = holds[j]
                break
            j -= 1
        current = best
        path.append(current)
    path.reverse()
    return path


def path_shares(path: Sequence[Span]) -> list[tuple[str, float]]:
    """Share of the critical path's busy time on each resource, largest first."""
    per: dict[str, int] = defaultdict(int)
    for s in path:
        per[s.track] += s.end_ps - s.start_ps
    total = sum(per.values()) or 1
    return sorted(((t, v / total) for t, v in per.items()), key=lambda tv: -tv[1])


def _rows(
    spans: Sequence[Span], pinned: Sequence[Span] = ()
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """(kind, track) rows to draw, top to bottom, and a note per kind on what is left out:
    of each kind, the tracks the `pinned` spans (the critical path) use, then the busiest,
    `ROWS_PER_KIND` in all."""
    on_path = {(s.kind, s.track) for s in pinned}
    busy: dict[tuple[str, str], int] = defaultdict(int)
    index: dict[tuple[str, str], int] = {}
    for s in spans:
        busy[(s.kind, s.track)] += s.end_ps - s.start_ps
        index[(s.kind, s.track)] = s.index
    rows: list[tuple[str, str]] = []
    notes: dict[str, str] = {}
    for kind in KINDS:
        # the schedule's first track holds the steps themselves, which frame the picture
        tracks = [k for k in busy if k[0] == kind and not (kind == "schedule" and index[k] == 0)]
        if not tracks:
            continue
        if kind != "schedule" and len(tracks) > ROWS_PER_KIND:
            notes[kind] = f"{ROWS_PER_KIND} of {len(tracks)}: critical path, busiest"
            tracks = sorted(tracks, key=lambda k: (k not in on_path, -busy[k]))[:ROWS_PER_KIND]
        rows += sorted(tracks, key=lambda k: index[k])
    return rows, notes


def _time_unit(span_ps: int) -> tuple[float, str]:
    """Picoseconds per plotted unit, and its name, for a token of `span_ps`."""
    for scale, name in ((1e9, "ms"), (1e6, "us"), (1e3, "ns")):
        if span_ps >= 2 * scale:
            return scale, name
    return 1.0, "ps"


def token_timeline(spans: Sequence[Span], path: Path, title: str, noun: str = "token") -> Figure:
    """Draw one token's spans (`TimelineRecorder.spans(step)`) with its critical path
    (or the spans of a few timesteps of a spiking network, `noun` "timestep")."""
    if not spans:
        raise ValueError("no spans to draw")
    t0 = min(s.start_ps for s in spans)
    t1 = max(s.end_ps for s in spans)
    scale, unit = _time_unit(t1 - t0)
    crit = critical_path(spans)
    rows, notes = _rows(spans, crit)
    row_of = {r: i for i, r in enumerate(rows)}
    on_path = {id(s) for s in crit}
    bars: dict[tuple[int, str], list[tuple[float, float]]] = defaultdict(list)
    path_bars: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for s in spans:
        row = row_of.get((s.kind, s.track))
        if row is None:
            continue
        seg = ((s.start_ps - t0) / scale, (s.end_ps - s.start_ps) / scale)
        bars[(row, s.activity)].append(seg)
        if id(s) in on_path:
            path_bars[row].append(seg)
    fig, ax = plt.subplots(figsize=(13, 0.28 * len(rows) + 2.6))
    for (row, activity), segs in bars.items():
        color = ACTIVITY_COLORS.get(activity, "0.4")
        if activity == "layer":  # back-to-back layers in alternating shades
            segs = sorted(segs)
            color = ["#9e9e9e" if i % 2 else "#cfcfcf" for i in range(len(segs))]
        ax.broken_barh(segs, (row - 0.4, 0.8), facecolors=color, linewidth=0)
    for row, segs in path_bars.items():
        ax.broken_barh(segs, (row - 0.45, 0.9), facecolors="none", edgecolors=PATH_COLOR,
                       linewidth=1.2)
    drawn = [s for s in crit if (s.kind, s.track) in row_of]
    if drawn:
        xs = [((s.start_ps + s.end_ps) / 2 - t0) / scale for s in drawn]
        ys = [row_of[(s.kind, s.track)] for s in drawn]
        ax.plot(xs, ys, color=PATH_COLOR, linewidth=0.6, alpha=0.6)
    labels = []
    for kind, track in rows:
        note = notes.get(kind)
        labels.append(f"{track}" + (f"  [{note}]" if note and track == _first(rows, kind) else ""))
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, (t1 - t0) / scale)
    ax.set_xlabel(f"time since the {noun} started ({unit})")
    used = sorted({a for _, a in bars}, key=lambda a: list(ACTIVITY_COLORS).index(a)
                  if a in ACTIVITY_COLORS else 99)
    handles = [Patch(color=ACTIVITY_COLORS.get(a, "0.4"), label=a) for a in used]
    handles.append(Patch(facecolor="none", edgecolor=PATH_COLOR, label="critical path"))
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    shares = path_shares(crit)[:3]
    path_note = ", ".join(f"{t} {100 * v:.1f} %" for t, v in shares)
    ax.set_title(f"{title}\ncritical path busy time: {path_note}", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Figure(path, (title,))


def _first(rows: list[tuple[str, str]], kind: str) -> str | None:
    """The first row of `kind`, which carries the kind's note."""
    return next((t for k, t in rows if k == kind), None)


MAX_HEATMAP_CORES = 64  # rows of the timestep heat map: the busiest cores beyond this


def timestep_heatmap(
    busy: np.ndarray, critical: np.ndarray | None, path: Path, title: str
) -> Figure:
    """Cores x timesteps: each core's busy share of each timestep (`busy`, (timesteps,
    cores), fractions), the critical core of each timestep (the slowest, which sets its
    compute phase; `critical`, None when no core does) marked with a red dot."""
    steps, cores = busy.shape
    if not steps or not cores:
        raise ValueError("no core activity to draw")
    rows = np.arange(cores)
    note = ""
    if cores > MAX_HEATMAP_CORES:
        on_path = np.unique(critical) if critical is not None else np.zeros(0, np.int64)
        rest = np.setdiff1d(np.argsort(-busy.sum(axis=0), kind="stable"), on_path,
                            assume_unique=True)
        keep = np.concatenate((on_path, rest))[:MAX_HEATMAP_CORES]
        rows = np.sort(keep)
        note = f" ({rows.size} of {cores} cores: critical, then busiest)"
    fig, ax = plt.subplots(figsize=(11, 0.22 * rows.size + 2.4))
    image = ax.imshow(100 * busy[:, rows].T, aspect="auto", interpolation="nearest",
                      cmap=UTIL_CMAP, vmin=0, vmax=100,
                      extent=(-0.5, steps - 0.5, rows.size - 0.5, -0.5))
    if critical is not None:
        row_of = np.full(cores, -1)
        row_of[rows] = np.arange(rows.size)
        shown = row_of[critical] >= 0
        ax.scatter(np.flatnonzero(shown), row_of[critical[shown]], s=10, color=PATH_COLOR)
        note += "\nred dot: each timestep's critical core (the slowest: it sets the compute phase)"
    ax.set_yticks(range(rows.size), [f"core {c}" for c in rows], fontsize=7)
    ax.set_xlabel("timestep")
    fig.colorbar(image, ax=ax, label="core busy (% of the timestep)", pad=0.02)
    ax.set_title(title + note, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Figure(path, (title,))
