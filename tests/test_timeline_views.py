"""`run --timeline/--plots`, `compare --plots`: the files, the refusals, the pictures'
panels and the critical path."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES, TINY_ARCH, TINY_WORKLOAD
from test_timeline import check_trace_structure

from neurosim.analysis.linkmap import MAX_CHIP_PANELS, link_map
from neurosim.analysis.timeline_plot import ROWS_PER_KIND, _rows, critical_path, path_shares
from neurosim.cli.app import main
from neurosim.config.overrides import with_overrides
from neurosim.simulate.run import prepare, simulate
from neurosim.simulate.timeline import Span

PNG = b"\x89PNG\r\n\x1a\n"


def _span(track, start, end, kind="dram", index=0):
    return Span(kind, track, start, end, "x", "fetch", 0, index, -1)


def test_run_writes_the_timeline_and_both_pictures(tmp_path, capsys):
    timeline, plots = tmp_path / "t" / "run.json", tmp_path / "plots"
    argv = ["run", str(TINY_ARCH), str(TINY_WORKLOAD), "--tokens", "3", "--quiet",
            "--out", str(tmp_path / "res"), "--timeline", str(timeline),
            "--timeline-tokens", "2", "--plots", str(plots)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    trace = json.loads(timeline.read_text())
    check_trace_structure(trace)
    meta = trace["otherData"]
    assert meta["recorded_steps"] == 2 and meta["tokens_run"] == 3
    assert meta["architecture"] == "tiny_test_arch" and meta["fidelity"] == "des"
    for name in ("linkmap.png", "timeline.png"):
        assert (plots / name).read_bytes().startswith(PNG)
        assert str(plots / name) in out
    assert str(timeline) in out


def test_plots_with_the_analytic_fidelity_draw_only_the_map(tmp_path, capsys):
    plots = tmp_path / "plots"
    argv = ["run", str(TINY_ARCH), str(TINY_WORKLOAD), "--tokens", "1", "--quiet",
            "--fidelity", "analytic", "--out", str(tmp_path / "res"), "--plots", str(plots)]
    assert main(argv) == 0
    assert "no timeline picture" in capsys.readouterr().err
    assert sorted(p.name for p in plots.iterdir()) == ["linkmap.png"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--fidelity", "analytic"], "--timeline needs --fidelity des"),
        (["--no-contention"], "--timeline needs contention"),
        (["--timeline-tokens", "0"], "--timeline-tokens must be at least 1"),
        (["--timeline-spans", "0"], "--timeline-spans must be at least 1"),
    ],
)
def test_impossible_timelines_are_refused_before_any_work(tmp_path, capsys, extra, message):
    timeline = tmp_path / "t.json"
    argv = ["run", str(TINY_ARCH), str(TINY_WORKLOAD), "--out", str(tmp_path / "res"),
            "--timeline", str(timeline), *extra]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and message in captured.err
    assert "Traceback" not in captured.err
    assert not timeline.exists() and not (tmp_path / "res").exists()


def test_caps_without_a_timeline_and_gpus_are_refused(tmp_path, capsys):
    assert main(["run", str(TINY_ARCH), str(TINY_WORKLOAD), "--timeline-tokens", "2"]) == 2
    assert "--timeline-tokens applies only with --timeline" in capsys.readouterr().err
    assert main(["run", "a800", "nsllm-1.5b", "--timeline", str(tmp_path / "g.json")]) == 2
    assert "a800 is a GPU" in capsys.readouterr().err


def test_an_unwritable_timeline_is_a_clean_error(tmp_path, capsys):
    """A write that fails (here a full device) is a message and exit 2, no traceback."""
    argv = ["run", str(TINY_ARCH), str(TINY_WORKLOAD), "--tokens", "1", "--quiet",
            "--out", str(tmp_path / "res"), "--timeline", "/dev/full"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "cannot write the timeline /dev/full" in err and "Traceback" not in err


def test_compare_plots_one_map_and_timeline_per_architecture(tmp_path, capsys):
    plots = tmp_path / "plots"
    argv = ["compare", str(TINY_ARCH), str(FIXTURES / "tiny_crossbar.yaml"),
            "--workload", str(TINY_WORKLOAD), "--tokens", "1", "--fidelity", "des",
            "--quiet", "--out", str(tmp_path / "cmp"), "--plots", str(plots)]
    assert main(argv) == 0
    names = sorted(p.name for p in plots.iterdir())
    assert names == [
        "linkmap__tiny_crossbar.png", "linkmap__tiny_test_arch.png",
        "timeline__tiny_crossbar.png", "timeline__tiny_test_arch.png",
    ]
    assert str(plots / "linkmap__tiny_crossbar.png") in capsys.readouterr().out


@pytest.mark.parametrize("units_per_chip", [4, 1])
def test_the_map_has_a_panel_per_chip_and_one_for_chip_links(
    tiny_crossbar, tiny_workload, tmp_path, units_per_chip
):
    arch = with_overrides(tiny_crossbar, {"compute.count": units_per_chip})
    chips = prepare(arch, tiny_workload).placement.chips
    assert chips > 1
    result = simulate(arch, tiny_workload, n_tokens=1, fidelity="analytic")
    fig = link_map(result, arch, tmp_path / "map.png")
    assert fig.path.read_bytes().startswith(PNG)
    assert len(fig.panels) == min(chips, MAX_CHIP_PANELS) + 1
    assert fig.panels[-1].startswith(f"chip links (ring, {chips} chips)")


def test_a_single_chip_map_is_one_panel(tiny_arch, tiny_workload, tmp_path):
    result = simulate(tiny_arch, tiny_workload, n_tokens=1, fidelity="analytic")
    fig = link_map(result, tiny_arch, tmp_path / "map.png")
    assert len(fig.panels) == 1 and fig.panels[0].startswith("mesh NoC")


def test_critical_path_follows_the_last_arrival_and_prefers_the_queue():
    a = _span("dram.a", 0, 10)
    b = _span("dram.a", 10, 20)
    c = _span("compute[0]", 25, 30, "compute")
    other = _span("link 1->2", 4, 10, "link")  # also ends at 10: the queue on dram.a wins
    late = _span("link 2->1", 5, 22, "link")  # ends after c's... no: 22 < 25, latest before c
    assert critical_path([a, b, c, other]) == [a, b, c]
    assert critical_path([a, b, c, other, late]) == [late, c]
    assert path_shares([a, b, c]) == [("dram.a", 20 / 25), ("compute[0]", 5 / 25)]


def test_the_picture_keeps_the_busiest_rows_of_each_kind():
    spans = [_span(f"link {i}->0", 0, i + 1, "link", i) for i in range(ROWS_PER_KIND + 5)]
    rows, notes = _rows(spans)
    assert len(rows) == ROWS_PER_KIND
    assert ("link", "link 0->0") not in rows  # the least busy are left out
    assert notes["link"] == f"{ROWS_PER_KIND} of {ROWS_PER_KIND + 5}: critical path, busiest"
    # a track on the critical path is drawn even when it is not among the busiest
    rows, _ = _rows(spans, pinned=[spans[0]])
    assert ("link", "link 0->0") in rows and len(rows) == ROWS_PER_KIND
    assert ("link", "link 5->0") not in rows
