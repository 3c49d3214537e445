"""The DES timeline: trace-event structure, span totals against the run's busy times,
the caps, and that recording changes nothing."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest

from neurosim.config.overrides import with_overrides
from neurosim.errors import SimulationError
from neurosim.simulate import timeline
from neurosim.simulate.run import simulate
from neurosim.simulate.timeline import TimelineRecorder

X_FIELDS = ("name", "ts", "dur", "pid", "tid")


def _record(arch, workload, tmp_path, tokens=3, **caps):
    rec = TimelineRecorder(caps.pop("max_steps", tokens), **caps)
    result = simulate(arch, workload, n_tokens=tokens, seed=1, recorder=rec)
    path = rec.write(tmp_path / "timeline.json", {"architecture": arch.name})
    return result, rec, json.loads(path.read_text())


def _thread_names(trace) -> dict[tuple[int, int], str]:
    return {
        (e["pid"], e["tid"]): e["args"]["name"]
        for e in trace["traceEvents"]
        if e["ph"] == "M" and e["name"] == "thread_name"
    }


def _busy_us_per_track(trace) -> tuple[dict[str, float], dict[str, int]]:
    names = _thread_names(trace)
    total: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for e in trace["traceEvents"]:
        if e["ph"] == "X":
            total[names[(e["pid"], e["tid"])]] += e["dur"]
            count[names[(e["pid"], e["tid"])]] += 1
    return total, count


def check_trace_structure(trace) -> None:
    """The trace-event format's required fields, named tracks, monotone counters."""
    assert set(trace) >= {"traceEvents", "otherData"}
    events = trace["traceEvents"]
    assert {e["ph"] for e in events} <= {"X", "C", "M"}
    names = _thread_names(trace)
    processes = {e["pid"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    spans = [e for e in events if e["ph"] == "X"]
    assert spans
    for e in spans:
        for field in X_FIELDS:
            assert field in e, (field, e)
        assert isinstance(e["name"], str) and e["name"]
        assert e["dur"] > 0 and e["ts"] >= 0
        assert (e["pid"], e["tid"]) in names
        assert e["pid"] in processes
    # viewers need the spans of one track to nest: on a resource they never overlap
    by_track = defaultdict(list)
    for e in spans:
        by_track[(e["pid"], e["tid"])].append((e["ts"], e["ts"] + e["dur"]))
    for track, holds in by_track.items():
        holds.sort()
        for (_, end), (start, _) in zip(holds, holds[1:], strict=False):
            assert start >= end - 1e-6, (names[track], start, end)
    counters = [e for e in events if e["ph"] == "C"]
    ts = [e["ts"] for e in counters]
    assert ts == sorted(ts)
    for e in counters:
        assert e["pid"] in processes and e["args"]
    json.dumps(trace)  # plain JSON types only


def test_trace_has_the_required_fields_and_named_tracks(tiny_arch, tiny_workload, tmp_path):
    _, rec, trace = _record(tiny_arch, tiny_workload, tmp_path)
    check_trace_structure(trace)
    names = set(_thread_names(trace).values())
    assert {"dram.ch0", "dram.ch1", "compute[0]", "steps", "layers", "spike phases"} <= names
    assert any(n.startswith("link ") for n in names)
    assert any(e["ph"] == "C" for e in trace["traceEvents"])  # stream-buffer fill
    spans = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    cats = {e["cat"] for e in spans}
    assert {"fetch", "weights", "spikes", "compute", "epilogue", "token"} <= cats
    # spans say what was done: the layer, and the tile in args
    assert any(e["name"].startswith("fetch b0") and "tile" in e["args"] for e in spans)
    assert trace["otherData"]["recorded_steps"] == 3
    assert trace["otherData"]["events"] == len(spans) == rec.events


def test_span_totals_equal_the_reported_busy_time(tiny_arch, tiny_workload, tmp_path):
    """Per resource, spans add up to utilization x elapsed time (at most 1 ps of rounding
    per span, from microsecond timestamps), and every busy resource has its track."""
    result, _, trace = _record(tiny_arch, tiny_workload, tmp_path)
    total, count = _busy_us_per_track(trace)
    elapsed_us = sum(result.latencies_s) * 1e6
    checked = 0
    for name, util in result.utilization.items():
        if name.startswith("max ") or name == "onchip_memory" or util == 0:
            continue
        assert name in total, name
        assert total[name] == pytest.approx(util * elapsed_us, abs=1e-6 * count[name] + 1e-9)
        checked += 1
    assert checked >= 8


def test_shared_adc_banks_get_tracks_matching_their_busy_time(
    tiny_crossbar, tiny_workload, tmp_path
):
    shared = with_overrides(tiny_crossbar, {"adc.arrays_per_bank": 2})
    result, _, trace = _record(shared, tiny_workload, tmp_path, tokens=2)
    check_trace_structure(trace)
    total, count = _busy_us_per_track(trace)
    elapsed_us = sum(result.latencies_s) * 1e6
    banks = [n for n, u in result.utilization.items() if n.startswith("adc[") and u > 0]
    assert banks
    for name in banks:
        assert total[name] == pytest.approx(
            result.utilization[name] * elapsed_us, abs=1e-6 * count[name] + 1e-9
        )


def test_the_fill_counter_keeps_the_last_value_of_each_instant():
    rec = TimelineRecorder(1)
    rec.begin_step(0)
    for ps, used in [(5, 10), (5, 30), (2, 7), (5, 20), (9, 0)]:
        rec.fill(ps, used)
    assert rec.fill_series() == [(2, 7), (5, 20), (9, 0)]


def test_recording_changes_no_result(tiny_arch, tiny_workload, tmp_path):
    plain = simulate(tiny_arch, tiny_workload, n_tokens=3, seed=1)
    recorded, _, _ = _record(tiny_arch, tiny_workload, tmp_path)
    assert recorded.metrics == plain.metrics
    assert recorded.utilization == plain.utilization
    assert recorded.event_counts == plain.event_counts


def test_token_cap_keeps_the_first_tokens(tiny_arch, tiny_workload, tmp_path):
    _, rec, trace = _record(tiny_arch, tiny_workload, tmp_path, tokens=4, max_steps=2)
    spans = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert [e["name"] for e in spans if e["cat"] == "token"] == ["token 0", "token 1"]
    assert all(e["args"]["token"] < 2 for e in spans if "args" in e)
    meta = trace["otherData"]
    assert meta["step_cap"] == 2 and meta["recorded_steps"] == 2
    assert "first 2 token" in meta["cap_note"] and not meta["cut_short"]
    # the unrecorded tokens left the reservation tables alone
    assert all(s.step < 2 for s in rec.spans())


def test_span_cap_cuts_the_recording_short_and_says_so(tiny_arch, tiny_workload, tmp_path):
    _, rec, trace = _record(tiny_arch, tiny_workload, tmp_path, tokens=2, max_events=40)
    assert rec.events == 40
    assert sum(e["ph"] == "X" for e in trace["traceEvents"]) == 40
    meta = trace["otherData"]
    assert meta["cut_short"] and meta["event_cap"] == 40 and "cut short" in meta["cap_note"]


@pytest.mark.parametrize(
    "options", [{"fidelity": "analytic"}, {"contention": False}], ids=["analytic", "free"]
)
def test_a_timeline_needs_the_des_with_contention(tiny_arch, tiny_workload, options):
    with pytest.raises(SimulationError, match="DES with contention"):
        simulate(tiny_arch, tiny_workload, n_tokens=1, recorder=TimelineRecorder(1), **options)


def test_same_config_and_seed_write_the_same_file(tiny_arch, tiny_workload, tmp_path):
    texts = []
    for run in range(2):
        _record(tiny_arch, tiny_workload, tmp_path / str(run), tokens=2)
        texts.append((tmp_path / str(run) / "timeline.json").read_text())
    assert texts[0] == texts[1]


class _PlainNames:
    """Track and span names for a recorder fed by hand (no built system)."""

    def kind(self, kind, index):
        return kind

    def track(self, kind, index):
        return f"{kind} {index}"

    def describe_all(self, labels):
        return [(label[0], f"{label[0]} {label[1]}") for label in labels]


def _hand_recording() -> TimelineRecorder:
    """Single holds and several-server bookings interleaved, one of them empty."""
    rec = TimelineRecorder(1)
    rec.use_names(_PlainNames())
    rec.begin_step(0)
    rec.span("compute", 0, 0, 10, ("compute", 1, -1, -1, -1))
    rec.label = ("spikes", 2, -1, 0, 1)
    rec.span_many("link", np.array([3, 4, 5]), np.array([10, 10, 12]), np.array([5, 0, 7]))
    rec.span("dram", 1, 4, 9)  # the current label
    rec.span("compute", 0, 20, 20, ("compute", 3, -1, -1, -1))  # empty: not kept
    rec.span_many("link", np.array([6]), np.array([30]), np.array([2]), ("spikes", 4, -1, 1, 2))
    rec.span("compute", 1, 30, 40, ("compute", 5, -1, -1, -1))
    rec.end_step(50)
    return rec


def test_spans_come_back_in_recording_order_without_empty_holds():
    spans = _hand_recording().spans()
    assert [(s.kind, s.index, s.start_ps, s.end_ps, s.name) for s in spans] == [
        ("compute", 0, 0, 10, "compute 1"),
        ("link", 3, 10, 15, "spikes 2"),
        ("link", 5, 12, 19, "spikes 2"),
        ("dram", 1, 4, 9, "spikes 2"),
        ("link", 6, 30, 32, "spikes 4"),
        ("compute", 1, 30, 40, "compute 5"),
        ("schedule", 0, 0, 50, "token 0"),
    ]


def test_writing_in_chunks_gives_the_file_written_at_once(tmp_path, monkeypatch):
    rec = _hand_recording()
    whole = json.loads(rec.write(tmp_path / "whole.json", {}).read_text())
    monkeypatch.setattr(timeline, "SPAN_CHUNK", 2)
    chunked = json.loads(rec.write(tmp_path / "chunked.json", {}).read_text())
    assert chunked == whole
    spans = [e for e in whole["traceEvents"] if e["ph"] == "X"]
    assert [(e["name"], e["ts"] * 1e6) for e in spans] == [
        (s.name, s.start_ps) for s in rec.spans()
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chunked.json", "whole.json"]


def test_an_empty_recording_writes_a_valid_file(tmp_path):
    rec = TimelineRecorder(1)
    rec.use_names(_PlainNames())
    trace = json.loads(rec.write(tmp_path / "t.json", {"architecture": "x"}).read_text())
    assert trace["traceEvents"] == []
    assert trace["otherData"]["events"] == 0 and trace["otherData"]["architecture"] == "x"


def test_a_write_that_fails_leaves_no_file(tmp_path, monkeypatch):
    rec = _hand_recording()

    def broken(self):
        yield [timeline._Complete("x", "x", "X", 0.0, 1.0, 1, 1)]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(timeline._Trace, "span_chunks", broken)
    with pytest.raises(OSError, match="No space"):
        rec.write(tmp_path / "t.json", {})
    assert list(tmp_path.iterdir()) == []
