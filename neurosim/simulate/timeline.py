"""Record when each resource of a DES run was busy, and on what; write trace-event JSON.

The DES hands a `TimelineRecorder` every hold it grants: the reservation tables report
DRAM transfers, link occupancy and ADC conversions (`ReservationTable.recorder`), the
DES runner reports compute-unit work, spike phases, layers and the stream buffer's fill.
Before a booking the runner sets `label` (what the hold is for); nothing yields between
that and the booking, so every hold carries its own label.

Recording goes by *step*: one decoded token here. A run that advances timestep by
timestep (an imported SNN) would open one step per timestep with `begin_step(...,
noun="timestep")` and report its cores' holds through `span`, so the same writer and
pictures serve it.

Only the first `max_steps` steps are kept, and at most `max_events` holds in all: a step
that would go past that is cut short there, and the file's metadata says so. The file is
the trace-event JSON object format that Perfetto and chrome://tracing open as it is:
`traceEvents` holding "X" spans (ts and dur in microseconds), "C" counters and "M"
metadata naming one process per resource kind and one thread per resource, plus
`otherData` with the run and the caps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from neurosim.resources import Resource

# resource kinds, in the order their processes are listed (pid = position + 1)
KINDS = ("schedule", "dram", "compute", "adc", "link", "chip_link", "onchip_memory")
PROCESS_NAMES = {
    "schedule": "schedule (tokens, layers, spike phases)",
    "dram": "DRAM channels",
    "compute": "compute units",
    "adc": "ADC banks",
    "link": "NoC links",
    "chip_link": "chip links",
    "onchip_memory": "on-chip memory",
}
SCHEDULE_TRACKS = ("steps", "layers", "spike phases")  # indices of the schedule's tracks
STEPS, LAYERS, PHASES = range(3)
PS_PER_US = 1_000_000
# a span: about 170 bytes of JSON, so 250,000 of them (and their metadata) stay under 50 MB
DEFAULT_MAX_EVENTS = 250_000


@dataclass(frozen=True, slots=True)
class Span:
    """One recorded hold: a resource busy from `start_ps` to `end_ps` doing `name`."""

    kind: str  # one of KINDS
    track: str  # the resource's display name (as in a result's utilization)
    start_ps: int
    end_ps: int
    name: str
    activity: str  # what kind of work: fetch, weights, spikes, compute, convert, ...
    step: int
    index: int  # the resource's index among its kind (unit, channel, link, bank)
    tile: int  # the weight tile worked on, or -1


class TimelineRecorder:
    """Collects the holds of the first `max_steps` steps of a DES run (see module doc)."""

    def __init__(self, max_steps: int, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        if max_steps < 1:
            raise ValueError(f"max_steps must be at least 1; got {max_steps}")
        self.max_steps = max_steps
        self.max_events = max_events
        self.label: tuple = ("idle", -1, -1, -1, -1)  # (activity, group, tile, t0, t1)
        self.recording = False
        self.cut_short = False  # True once max_events stopped a step part way
        self.step = -1
        self.steps_run = 0
        self.noun = "token"
        self._step_start = 0
        # (kind, index, start, end, label, step); a table granting several servers at
        # once leaves one record of arrays: servers, starts and durations (not ends)
        self._records: list[tuple] = []
        self._count = 0  # spans in the records
        self._fill: list[tuple[int, int]] = []  # (ps, stream-buffer bytes in use)
        self._table_kind: dict[int, str] = {}
        self._tables: list = []
        self._names = None

    # ---- wiring -------------------------------------------------------------------

    def attach(self, system, planner) -> None:
        """Listen to the reservation tables of a built system; learn its names."""
        tables = [(system.interconnect.table, "link")]
        if system.channels:
            tables.append((system.channels[0].table, "dram"))
        if system.adc is not None and planner.adc.arrays_per_bank > 1:
            # a bank of one array's own converters is part of its unit's time, not a
            # resource of its own (as in the run's utilization)
            tables.append((system.adc.table, "adc"))
        for table, kind in tables:
            self._table_kind[id(table)] = kind
            table.recorder = self
            self._tables.append(table)
        self._names = _Names(system, planner)

    def detach(self) -> None:
        """Stop listening: later holds cost nothing."""
        for table in self._tables:
            table.recorder = None
        self.recording = False

    # ---- steps --------------------------------------------------------------------

    def begin_step(self, now: int, noun: str = "token") -> None:
        """A new step (token, or timestep of an SNN run) starts at `now` (ps)."""
        self.step += 1
        self.noun = noun
        self._step_start = now
        self.recording = self.step < self.max_steps and not self.cut_short

    def end_step(self, now: int) -> bool:
        """The step ended at `now`; return whether the next step will be recorded."""
        if self.recording:
            self.steps_run = self.step + 1
            self.label = (self.noun, -1, -1, -1, -1)
            self.span("schedule", STEPS, self._step_start, now)
        return self.step + 1 < self.max_steps and not self.cut_short

    # ---- holds --------------------------------------------------------------------

    def held(self, table, server: int, start: int, duration: int) -> None:
        """A reservation table granted `server` from `start` for `duration` ps."""
        if self.recording and duration:
            self.span(self._table_kind[id(table)], server, start, start + duration)

    def held_many(self, table, servers, starts, durations) -> None:
        """A reservation table granted several servers at once (arrays)."""
        if not self.recording:
            return
        # the table hands over fresh arrays: keep them as they are (empty holds and the
        # span cap are dealt with when reading, so this stays a few microseconds)
        room = self.max_events - self._count
        if servers.size > room:
            servers, starts, durations = servers[:room], starts[:room], durations[:room]
            self.cut_short = True
            self.recording = False
        self._records.append(
            (self._table_kind[id(table)], servers, starts, durations, self.label, self.step)
        )
        self._count += servers.size

    def span(self, kind: str, index: int, start: int, end: int, label: tuple | None = None):
        """Resource (`kind`, `index`) busy from `start` to `end` ps on `label` (default:
        the current `label`); an empty span is not kept."""
        if not self.recording or end <= start:
            return
        if self._count >= self.max_events:
            self.cut_short = True
            self.recording = False
            return
        self._records.append(
            (kind, index, start, end, self.label if label is None else label, self.step)
        )
        self._count += 1

    def fill(self, now: int, used_bytes: int) -> None:
        """The stream buffer holds `used_bytes` from `now` on."""
        if self.recording:
            self._fill.append((now, used_bytes))

    # ---- reading ------------------------------------------------------------------

    @property
    def events(self) -> int:
        """Spans recorded so far (holds of no duration left out)."""
        return sum(
            int(np.count_nonzero(r[3])) if isinstance(r[1], np.ndarray) else 1
            for r in self._records
        )

    def _columns(self, step: int | None = None):
        """The records as parallel lists, one entry per span: track id, start, end,
        label, step; and each track's (kind, index), by track id."""
        tracks: dict[tuple[str, int], int] = {}
        track, start, end, labels, steps = [], [], [], [], []
        for kind, index, s, e, label, st in self._records:
            if step is not None and st != step:
                continue
            if isinstance(index, np.ndarray):  # several servers: e holds durations
                keep = e > 0
                index, e = index[keep], e[keep]
                s = np.broadcast_to(s, keep.shape)[keep]
                ids = [tracks.setdefault((kind, i), len(tracks)) for i in index.tolist()]
                track += ids
                start += s.tolist()
                end += (s + e).tolist()
                labels += [label] * len(ids)
                steps += [st] * len(ids)
            else:
                track.append(tracks.setdefault((kind, index), len(tracks)))
                start.append(s)
                end.append(e)
                labels.append(label)
                steps.append(st)
        return track, start, end, labels, steps, list(tracks)

    def spans(self, step: int | None = None) -> list[Span]:
        """Every recorded span (of one step when `step` is given), in recording order."""
        track, start, end, labels, steps, keys = self._columns(step)
        tracks = self._track_info(keys)
        describe = self._describer()
        out = []
        for t, s, e, label, st in zip(track, start, end, labels, steps, strict=True):
            kind, name, index = tracks[t]
            activity, what = describe(label, st)
            out.append(Span(kind, name, s, e, what, activity, st, index, label[2]))
        return out

    def fill_series(self) -> list[tuple[int, int]]:
        """(ps, stream-buffer bytes in use) in time order."""
        return sorted(self._fill)

    def trace_events(self, metadata: dict) -> dict:
        """The trace-event JSON object: spans, the fill counter, process and thread names."""
        names = self._names
        describe = self._describer()
        noun = self.noun
        lookup: dict[tuple[str, int], tuple[int, int]] = {}
        tracks: list[tuple[str, str, int]] = []  # (kind, display name, index) by tid - 1

        def track(kind: str, index: int) -> tuple[int, int]:
            """(pid, tid) of a resource, numbering tracks as they first appear."""
            found = lookup.get((kind, index))
            if found is None:
                shown = names.kind(kind, index)
                tracks.append((shown, names.track(kind, index), index))
                found = lookup[(kind, index)] = (KINDS.index(shown) + 1, len(tracks))
            return found

        events: list[dict] = []
        for kind, index, start, end, label, step in self._records:
            activity, name = describe(label, step)
            if isinstance(index, np.ndarray):  # several servers at once: end holds durations
                keep = end > 0
                starts = np.broadcast_to(start, keep.shape)[keep]
                ts = np.round(starts / PS_PER_US, 6).tolist()
                dur = np.round(end[keep] / PS_PER_US, 6).tolist()
                ids = [lookup.get((kind, i)) or track(kind, i) for i in index[keep].tolist()]
                events += [
                    {"name": name, "cat": activity, "ph": "X", "ts": t, "dur": d,
                     "pid": pt[0], "tid": pt[1]}
                    for t, d, pt in zip(ts, dur, ids, strict=True)
                ]
                continue
            pid, tid = lookup.get((kind, index)) or track(kind, index)
            event = {"name": name, "cat": activity, "ph": "X", "ts": _us(start),
                     "dur": _us(end - start), "pid": pid, "tid": tid}
            if label[2] >= 0:
                event["args"] = {noun: step, "tile": label[2]}
            events.append(event)
        pid_mem = KINDS.index("onchip_memory") + 1
        for ps, used in self.fill_series():
            events.append(
                {
                    "name": "stream buffer fill",
                    "ph": "C",
                    "ts": _us(ps),
                    "pid": pid_mem,
                    "args": {"bytes in use": used},
                }
            )
        meta: list[dict] = []
        used_kinds = {kind for kind, _, _ in tracks} | ({"onchip_memory"} if self._fill else set())
        for kind in KINDS:
            if kind in used_kinds:
                pid = KINDS.index(kind) + 1
                meta.append(_meta("process_name", pid, None, {"name": PROCESS_NAMES[kind]}))
                meta.append(_meta("process_sort_index", pid, None, {"sort_index": pid}))
        for tid, (kind, name, index) in enumerate(tracks, start=1):
            pid = KINDS.index(kind) + 1
            meta.append(_meta("thread_name", pid, tid, {"name": name}))
            meta.append(_meta("thread_sort_index", pid, tid, {"sort_index": index}))
        other = dict(metadata)
        other.update(
            {
                "recorded_steps": self.steps_run,
                "step": self.noun,
                "step_cap": self.max_steps,
                "event_cap": self.max_events,
                "events": self.events,
                "cut_short": self.cut_short,
                "time_unit": "ts and dur in microseconds (holds are integer picoseconds)",
                "cap_note": (
                    f"only the first {self.max_steps} {self.noun}(s) are recorded, and at "
                    f"most {self.max_events} spans"
                    + (" (reached: the last recorded step is cut short)" if self.cut_short
                       else "")
                ),
            }
        )
        return {"traceEvents": meta + events, "displayTimeUnit": "ns", "otherData": other}

    def write(self, path: Path, metadata: dict) -> Path:
        """Write the trace-event JSON file (see `trace_events`)."""
        data = orjson.dumps(self.trace_events(metadata))  # ~10x the standard json's speed
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def _track_info(self, keys: list[tuple[str, int]]) -> list[tuple[str, str, int]]:
        """(kind, display name, index) of each (kind, index) in `keys`."""
        names = self._names
        return [(names.kind(kind, index), names.track(kind, index), index) for kind, index in keys]

    def _describer(self):
        """`describe(label, step)` -> (activity, span name), remembered per label."""
        names = self._names
        cache: dict[int, tuple[str, str]] = {}

        def describe(label: tuple, step: int) -> tuple[str, str]:
            if label[0] in ("token", "timestep"):
                return label[0], f"{label[0]} {step}"
            # labels are kept alive by the recorder, so their ids are unique keys
            found = cache.get(id(label))
            if found is None:
                found = cache[id(label)] = names.describe(label)
            return found

        return describe


def _us(ps: int) -> float:
    """Picoseconds as microseconds, exact to the picosecond."""
    return round(ps / PS_PER_US, 6)


def _meta(name: str, pid: int, tid: int | None, args: dict) -> dict:
    """One "M" metadata event."""
    event = {"name": name, "ph": "M", "pid": pid, "args": args}
    if tid is not None:
        event["tid"] = tid
    return event


class _Names:
    """Names of a built system's resources and of the work its holds are for."""

    def __init__(self, system, planner) -> None:
        self.groups = [g.name for g in planner.graph.groups]
        placement = planner.placement
        self.tile_linear = placement.tile_linear
        self.linears = placement.linear_names
        self.channels = [ch.name for ch in system.arch.dram_channels]
        self.routing = planner.routing

    def kind(self, kind: str, index: int) -> str:
        """Links split into on-chip links and chip links."""
        if kind == "link" and self.routing.link_class[index]:
            return "chip_link"
        return kind

    def track(self, kind: str, index: int) -> str:
        """The resource's display name, as a result's utilization names it."""
        if kind == "schedule":
            return SCHEDULE_TRACKS[index]
        if kind == "dram":
            return Resource.dram(self.channels[index]).display
        if kind == "compute":
            return Resource.compute(index).display
        if kind == "adc":
            return Resource.adc_bank(index).display
        a, b = self.routing.links[index]
        return Resource.link(a, b, chip=bool(self.routing.link_class[index])).display

    def describe(self, label: tuple) -> tuple[str, str]:
        """(activity, span name) of a label (activity, group, tile, t0, t1)."""
        activity, g, k, t0, t1 = label
        if k >= 0:
            what = self.linears[int(self.tile_linear[k])]
        elif g >= 0:
            what = self.groups[g]
        else:
            what = ""
        if t0 >= 0:
            what += f" t{t0}" if t1 <= t0 + 1 else f" t{t0}-{t1 - 1}"
        return activity, f"{activity} {what}".strip()
