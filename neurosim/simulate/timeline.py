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

import gc
from array import array
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path

import msgspec
import numpy as np

from neurosim.resources import Resource

# resource kinds, in the order their processes are listed (pid = position + 1)
KINDS = ("schedule", "dram", "compute", "adc", "link", "chip_link", "onchip_memory", "core")
PROCESS_NAMES = {
    "schedule": "schedule (tokens, layers, spike phases)",
    "dram": "DRAM channels",
    "compute": "compute units",
    "adc": "ADC banks",
    "link": "NoC links",
    "chip_link": "chip links",
    "onchip_memory": "on-chip memory",
    "core": "neuron cores",
}
KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}
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
        # Holds are kept as integers, not objects (a third of the memory, and nothing for
        # the garbage collector to walk): one hold is six integers in `_single` (kind,
        # index, start, end, label number, step); a table granting several servers at
        # once leaves one entry in `_grouped` with its arrays (servers, starts, durations)
        # and the number of single holds before it (the recording order).
        self._single = array("q")
        self._grouped: list[tuple] = []  # (singles before, kind, indices, starts, durations,
        #                                    label number, step)
        self._label_ids: dict[tuple, int] = {}  # each distinct label, numbered as first seen
        self._count = 0  # spans in the records
        self._fill = array("q")  # (ps, stream-buffer bytes in use), flattened
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
            table.recorder, table.record_as = self, kind
            self._tables.append(table)
        self._names = _Names(system, planner)

    def use_names(self, names) -> None:
        """Name tracks and spans with `names` (`kind`, `track`, `describe`, as `_Names`),
        for a run with no built system (an imported spiking network)."""
        self._names = names

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

    def span_many(self, kind: str, indices, starts, durations, label: tuple | None = None):
        """Resources (`kind`, each of `indices`) busy from `starts` for `durations` ps
        (arrays of one length) on `label` (default: the current `label`)."""
        if not self.recording:
            return
        # fresh arrays are kept as they are (empty holds and the span cap are dealt with
        # when reading, so this stays a few microseconds)
        room = self.max_events - self._count
        if indices.size > room:
            indices, starts, durations = indices[:room], starts[:room], durations[:room]
            self.cut_short = True
            self.recording = False
        self._grouped.append((len(self._single) // 6, KIND_CODE[kind], indices, starts,
                              durations, self._label_id(label), self.step))
        self._count += indices.size

    def span(self, kind: str, index: int, start: int, end: int, label: tuple | None = None):
        """Resource (`kind`, `index`) busy from `start` to `end` ps on `label` (default:
        the current `label`); an empty span is not kept."""
        if not self.recording or end <= start:
            return
        if self._count >= self.max_events:
            self.cut_short = True
            self.recording = False
            return
        self._single.extend(
            (KIND_CODE[kind], index, start, end, self._label_id(label), self.step)
        )
        self._count += 1

    def _label_id(self, label: tuple | None) -> int:
        """The number of `label` (default: the current `label`), given when first seen."""
        if label is None:
            label = self.label
        found = self._label_ids.get(label)
        if found is None:
            found = self._label_ids[label] = len(self._label_ids)
        return found

    def fill(self, now: int, used_bytes: int) -> None:
        """The stream buffer holds `used_bytes` from `now` on."""
        if self.recording:
            self._fill.extend((now, used_bytes))

    # ---- reading ------------------------------------------------------------------

    @property
    def events(self) -> int:
        """Spans recorded so far (holds of no duration left out)."""
        return len(self._single) // 6 + sum(
            int(np.count_nonzero(g[4])) for g in self._grouped
        )

    def _table(self) -> _Table:
        """The records as numpy columns, one row per span, in recording order."""
        single = np.frombuffer(self._single, dtype=np.int64).reshape(-1, 6).copy()
        labels = list(self._label_ids)
        if not self._grouped:
            kind, index, start, end, label, step = single.T
            return _Table(kind, index, start, end, label, step, labels)
        before, g_kind, indices, starts, durations, g_label, g_step = zip(
            *self._grouped, strict=True
        )
        sizes = np.array([a.size for a in indices], dtype=np.int64)
        dur = np.concatenate(durations).astype(np.int64)
        keep = dur > 0  # empty holds are not spans
        member = np.repeat(np.arange(len(sizes)), sizes)[keep]
        kept = np.bincount(member, minlength=len(sizes))
        n_single, n_grouped = single.shape[0], int(kept.sum())
        # places in recording order: a single hold comes after the grouped spans of every
        # group recorded before it; a group's spans after the single holds before it
        before = np.array(before, dtype=np.int64)
        kept_before = np.cumsum(kept) - kept  # grouped spans of the earlier groups
        grouped_before_single = np.concatenate(([0], np.cumsum(kept)))[
            np.searchsorted(before, np.arange(n_single), side="right")
        ]
        at_single = np.arange(n_single) + grouped_before_single
        rank = np.arange(n_grouped) - np.repeat(kept_before, kept)
        at_grouped = np.repeat(before + kept_before, kept) + rank
        g_start = np.concatenate(starts).astype(np.int64)[keep]
        grouped_columns = (
            np.repeat(np.array(g_kind, dtype=np.int64), kept),
            np.concatenate(indices).astype(np.int64)[keep],
            g_start,
            g_start + dur[keep],
            np.repeat(np.array(g_label, dtype=np.int64), kept),
            np.repeat(np.array(g_step, dtype=np.int64), kept),
        )
        columns = []
        for i, grouped in enumerate(grouped_columns):
            column = np.empty(n_single + n_grouped, dtype=np.int64)
            column[at_single] = single[:, i]
            column[at_grouped] = grouped
            columns.append(column)
        return _Table(*columns, labels)

    def spans(self, step: int | None = None) -> list[Span]:
        """Every recorded span (of one step when `step` is given), in recording order."""
        table = self._table()
        sel = slice(None) if step is None else table.step == step
        kind, index = table.kind[sel].tolist(), table.index[sel].tolist()
        label, steps = table.label[sel].tolist(), table.step[sel].tolist()
        start, end = table.start[sel].tolist(), table.end[sel].tolist()
        names = self._names
        tracks: dict[tuple[int, int], tuple[str, str]] = {}
        described = self._described(table)
        out = []
        for k, i, s, e, lab, st in zip(kind, index, start, end, label, steps, strict=True):
            found = tracks.get((k, i))
            if found is None:
                found = tracks[(k, i)] = (names.kind(KINDS[k], i), names.track(KINDS[k], i))
            activity, what = described[lab]
            if activity == self.noun:
                what = f"{activity} {st}"
            out.append(Span(found[0], found[1], s, e, what, activity, st, i,
                            table.labels[lab][2]))
        return out

    def fill_series(self) -> list[tuple[int, int]]:
        """(ps, stream-buffer bytes in use) in time order, one per instant: the fill once
        that instant's changes are done (a counter shows only that one)."""
        if not self._fill:
            return []
        fill = np.frombuffer(self._fill, dtype=np.int64).reshape(-1, 2).copy()
        fill = fill[np.argsort(fill[:, 0], kind="stable")]  # same instant: recording order
        last = np.append(fill[1:, 0] != fill[:-1, 0], True)
        return [(t, used) for t, used in fill[last].tolist()]

    def _trace(self, metadata: dict) -> _Trace:
        """The trace-event file's parts: spans as columns, the fill counter, process and
        thread names, and `otherData`.

        Built column-wise: numpy works out every span's track, times and name; the span
        objects are made chunk by chunk when written (the only per-span Python work)."""
        table = self._table()
        names = self._names
        noun = self.noun
        # tracks: one per (kind, index) used, numbered by kind then index
        width = int(table.index.max()) + 1 if table.index.size else 1
        used = np.zeros(len(KINDS) * width, dtype=bool)
        key = table.kind * width + table.index
        used[key] = True
        track_keys = np.flatnonzero(used)
        tid_of = np.zeros(used.size, dtype=np.int64)
        tid_of[track_keys] = np.arange(1, track_keys.size + 1)
        tracks: list[tuple[str, str, int]] = []  # (shown kind, display name, index) by tid - 1
        for k, i in zip(*np.divmod(track_keys, width), strict=True):
            kind, i = KINDS[int(k)], int(i)
            tracks.append((names.kind(kind, i), names.track(kind, i), i))
        pid_of_track = np.array([0] + [KINDS.index(kind) + 1 for kind, _, _ in tracks])
        tid = tid_of[key]
        pid = pid_of_track[tid]
        # names: one per label, the step spans named after their step
        described = self._described(table)
        label_name = np.array([what for _, what in described] or [""], dtype=object)
        label_cat = np.array([activity for activity, _ in described] or [""], dtype=object)
        name = label_name[table.label]
        cat = label_cat[table.label]
        is_step = np.array([a == noun for a, _ in described] or [False])[table.label]
        if is_step.any():
            name[is_step] = [f"{noun} {st}" for st in table.step[is_step].tolist()]
        tile = np.array([lab[2] for lab in table.labels] or [-1], dtype=np.int64)[table.label]
        ts = table.start / PS_PER_US  # exact: the nearest double to ps / 10^6
        dur = (table.end - table.start) / PS_PER_US
        # args: one object per (label, step) of a tile's work, shared by its spans; None
        # (left out) for the rest
        args = np.full(tile.size, None, dtype=object)
        tiled = tile >= 0
        if tiled.any():
            pair = table.label[tiled] * (int(table.step.max()) + 1) + table.step[tiled]
            _, first, inverse = np.unique(pair, return_index=True, return_inverse=True)
            shared = [{noun: s, "tile": k} for k, s in zip(
                tile[tiled][first].tolist(), table.step[tiled][first].tolist(), strict=True
            )]
            args[tiled] = np.array(shared, dtype=object)[inverse.ravel()]
        spans = (name, cat, ts, dur, pid, tid, args)
        pid_mem = KINDS.index("onchip_memory") + 1
        fill = np.array(self.fill_series(), dtype=np.int64).reshape(-1, 2)
        counters = [
            {"name": "stream buffer fill", "ph": "C", "ts": t, "pid": pid_mem,
             "args": {"bytes in use": used}}
            for t, used in zip((fill[:, 0] / PS_PER_US).tolist(), fill[:, 1].tolist(),
                               strict=True)
        ]
        meta: list[dict] = []
        used_kinds = {kind for kind, _, _ in tracks} | ({"onchip_memory"} if self._fill else set())
        for kind in KINDS:
            if kind in used_kinds:
                p = KINDS.index(kind) + 1
                meta.append(_meta("process_name", p, None, {"name": PROCESS_NAMES[kind]}))
                meta.append(_meta("process_sort_index", p, None, {"sort_index": p}))
        for t, (kind, shown, index) in enumerate(tracks, start=1):
            p = KINDS.index(kind) + 1
            meta.append(_meta("thread_name", p, t, {"name": shown}))
            meta.append(_meta("thread_sort_index", p, t, {"sort_index": index}))
        other = dict(metadata)
        other.update(
            {
                "recorded_steps": self.steps_run,
                "step": self.noun,
                "step_cap": self.max_steps,
                "event_cap": self.max_events,
                "events": int(table.start.size),
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
        return _Trace(meta, spans, counters, other)

    def write(self, path: Path, metadata: dict) -> Path:
        """Write the trace-event JSON object: `displayTimeUnit`, `otherData` and
        `traceEvents` (names of processes and threads, then spans, then the fill counter).

        msgspec encodes every value; the file is written as it is encoded. The object is
        encoded with its event array empty, and the events go in that array's place: the
        spans a chunk at a time (a chunk's objects are made, encoded and freed while they
        are in the cache), each chunk encoded as an array whose items join the others.
        A write that fails part way leaves no file behind."""
        # the span objects are young and many: a collection pass while they are built
        # would walk them (and the run's heap) for nothing, so the collector waits
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            trace = self._trace(metadata)
            encoder = msgspec.json.Encoder()
            envelope = encoder.encode(
                {"displayTimeUnit": "ns", "otherData": trace.other, "traceEvents": []}
            )
            assert envelope.endswith(b"[]}")  # the empty event array, then the object's end
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                with path.open("wb") as out:
                    out.write(envelope[:-3])
                    opening = b"["  # before the first item; a comma before each later one
                    for items in chain([trace.meta], trace.span_chunks(), [trace.counters]):
                        if items:
                            out.write(opening)
                            out.write(memoryview(encoder.encode(items))[1:-1])  # the items
                            opening = b","
                    out.write(b"[]}" if opening == b"[" else b"]}")
            except BaseException:
                if path.is_file():  # a file cut off part way is no trace: none is left
                    path.unlink()
                raise
        finally:
            if was_enabled:
                gc.enable()
        return path

    def _described(self, table: _Table) -> list[tuple[str, str]]:
        """(activity, span name) of each of the table's distinct labels (a step's own
        label is named after its step when written)."""
        if not table.labels:
            return []
        return self._names.describe_all(table.labels)


class _Complete(msgspec.Struct, gc=False, omit_defaults=True):
    """One "X" (complete) event of the trace-event format, encoded as a JSON object with
    these keys in this order (`args` left out when None). A struct, not a dict: a third of
    the memory and half the time to make, for the hundreds of thousands a token has."""

    name: str
    cat: str
    ph: str
    ts: float  # us
    dur: float  # us
    pid: int
    tid: int
    args: dict | None = None


SPAN_CHUNK = 8192  # spans made and encoded at a time when writing


@dataclass(frozen=True, slots=True)
class _Trace:
    """A trace-event file's parts (see `TimelineRecorder._trace`)."""

    meta: list[dict]  # "M" events naming processes and threads
    spans: tuple  # columns of the "X" events: name, cat, ts, dur, pid, tid, args
    counters: list[dict]  # "C" events
    other: dict  # otherData

    def span_chunks(self):
        """The "X" events, `SPAN_CHUNK` at a time."""
        n = self.spans[0].size
        for at in range(0, n, SPAN_CHUNK):
            name, cat, ts, dur, pid, tid, args = (c[at : at + SPAN_CHUNK] for c in self.spans)
            yield list(map(
                _Complete, name.tolist(), cat.tolist(), repeat("X", name.size), ts.tolist(),
                dur.tolist(), pid.tolist(), tid.tolist(), args.tolist(),
            ))


@dataclass(frozen=True, slots=True)
class _Table:
    """Every recorded span as numpy columns (see `TimelineRecorder._table`)."""

    kind: np.ndarray  # position in KINDS of the kind recorded (links not yet split)
    index: np.ndarray
    start: np.ndarray  # ps
    end: np.ndarray  # ps
    label: np.ndarray  # position in `labels`
    step: np.ndarray
    labels: list[tuple]


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

    def describe_all(self, labels: list[tuple]) -> list[tuple[str, str]]:
        """`describe` of each label, worked out once per name: labels that differ only in
        their tile, of one linear, share it."""
        acts, groups, tiles, t0, t1 = (np.asarray(c) for c in zip(*labels, strict=True))
        codes: dict[str, int] = {}
        act = np.array([codes.setdefault(a, len(codes)) for a in acts.tolist()])
        n_groups = len(self.groups)
        linear = self.tile_linear[np.maximum(tiles, 0)].astype(np.int64)
        what = np.where(tiles >= 0, n_groups + 1 + linear, groups + 1)  # 0: neither
        columns = (act, what, t0 + 1, t1 + 1)
        try:
            key = np.ravel_multi_index(columns, tuple(int(c.max()) + 1 for c in columns))
        except ValueError:  # too many combinations for one integer key: one by one
            return [self.describe(label) for label in labels]
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        named = [self.describe(labels[i]) for i in first.tolist()]
        return [named[i] for i in inverse.ravel().tolist()]

    def describe(self, label: tuple) -> tuple[str, str]:
        """(activity, span name) of a label (activity, group, tile, t0, t1)."""
        activity, g, k, t0, t1 = label
        if activity in ("token", "timestep"):  # a step: named after its number when written
            return activity, activity
        if k >= 0:
            what = self.linears[int(self.tile_linear[k])]
        elif g >= 0:
            what = self.groups[g]
        else:
            what = ""
        if t0 >= 0:
            what += f" t{t0}" if t1 <= t0 + 1 else f" t{t0}-{t1 - 1}"
        return activity, f"{activity} {what}".strip()
