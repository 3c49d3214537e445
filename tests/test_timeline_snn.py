"""Timelines of imported spiking networks: trace structure, busy time per core and link
track against the run's, the timestep cap, the analog case and `run NET.nir --timeline
--plots`."""

from __future__ import annotations

import json
from pathlib import Path

import nir
import numpy as np
import pytest
from test_timeline import _busy_us_per_track, check_trace_structure

from neurosim.cli.app import main
from neurosim.config.overrides import with_overrides
from neurosim.mapping.snn_placement import place_network
from neurosim.simulate.snn import cost_network
from neurosim.simulate.snn_timeline import record_timesteps
from neurosim.simulate.systems import load_architecture
from neurosim.simulate.timeline import TimelineRecorder
from neurosim.workload.nir_import import load_nir, network_from_graph
from neurosim.workload.snn_dynamics import simulate

REPO = Path(__file__).resolve().parents[1]
EDGE_CNN = REPO / "workloads" / "snn" / "edge-cnn.nir"
PNG = b"\x89PNG\r\n\x1a\n"


def _lif(n: int) -> nir.LIF:
    return nir.LIF(tau=np.full(n, 1e-3), r=np.ones(n), v_leak=np.zeros(n),
                   v_threshold=np.full(n, 0.5))


def _four_core_run(timesteps: int = 12):
    """One input neuron feeding four populations of 1,024 neurons: four Loihi cores on a
    2x2 mesh, one per node, the input injected at node 0 on the timesteps it fires."""
    nodes = {"in": nir.Input(input_type={"input": np.array([1])})}
    edges = []
    for k in range(4):
        nodes[f"fc{k}"] = nir.Linear(weight=np.full((1024, 1), 0.2 * (k + 1)))
        nodes[f"lif{k}"] = _lif(1024)
        edges += [("in", f"fc{k}"), (f"fc{k}", f"lif{k}")]
    net = network_from_graph(nir.NIRGraph(nodes=nodes, edges=edges))
    arch = with_overrides(
        load_architecture(REPO / "architectures" / "loihi.yaml"),
        {
            "compute.count": 4,
            "interconnect.topology": {"kind": "mesh", "width": 2, "height": 2},
            "neuron_cores.cores_per_unit": 1,
        },
        source="test",
    )
    fires = (np.random.default_rng(3).random((timesteps, 1)) < 0.5).astype(float)
    raster = simulate(net, {"in": fires}, timesteps, 1e-3)
    return cost_network(arch, net, raster, place_network(net, arch))


def _record(run, tmp_path, steps=None, **caps):
    rec = TimelineRecorder(steps or run.timesteps, **caps)
    record_timesteps(run, rec)
    path = rec.write(tmp_path / "snn.json", {"network": run.network})
    return rec, json.loads(path.read_text())


def test_snn_trace_has_a_track_per_core_and_busy_link_matching_the_run(tmp_path):
    run = _four_core_run()
    _, trace = _record(run, tmp_path)
    check_trace_structure(trace)
    total, count = _busy_us_per_track(trace)
    busy_s = run.core_busy_s
    assert busy_s.size == 4 and (busy_s > 0).all()
    utilisation = busy_s / run.elapsed_s
    for core in range(4):  # per core: utilisation x duration, to the picosecond per span
        name = f"core {core}"
        assert total[name] == pytest.approx(
            utilisation[core] * run.elapsed_s * 1e6, abs=1e-6 * count[name] + 1e-9
        )
    link_s = run.link_busy_s.sum(axis=0)
    busy_links = np.flatnonzero(link_s)
    assert busy_links.size >= 3  # the host at node 0 reaches nodes 1, 2, 3
    for link in busy_links.tolist():
        a, b = run.links[link]
        name = f"link {a}->{b}"
        assert total[name] == pytest.approx(link_s[link] * 1e6, abs=1e-6 * count[name] + 1e-9)
    assert total["timesteps"] == pytest.approx(run.elapsed_s * 1e6, abs=1e-6 * run.timesteps)
    spans = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    # Loihi's cores also spend time on each spike generated and message sent or received
    assert {e["cat"] for e in spans} == {
        "synaptic events", "neuron updates", "spikes and messages", "spikes", "compute phase",
        "barrier", "timestep",
    }
    assert any(e["name"] == "neuron updates t3" for e in spans)
    meta = trace["otherData"]
    assert meta["step"] == "timestep" and meta["recorded_steps"] == run.timesteps
    processes = {e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "process_name"}
    assert "neuron cores" in processes


def test_the_compute_phase_lasts_the_slowest_core_and_spikes_follow_it(tmp_path):
    run = _four_core_run(timesteps=8)
    rec, _ = _record(run, tmp_path)
    for step in range(run.timesteps):
        spans = rec.spans(step=step)
        core_end = max(s.end_ps for s in spans if s.kind == "core")
        phase = next(s for s in spans if s.activity == "compute phase")
        assert phase.end_ps == core_end  # the critical core ends the phase, to the ps
        assert all(s.start_ps == phase.end_ps for s in spans if s.kind == "link")


def test_timestep_cap_keeps_the_first_timesteps_and_says_so(tmp_path):
    run = _four_core_run()
    rec, trace = _record(run, tmp_path, steps=3)
    spans = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert [e["name"] for e in spans if e["cat"] == "timestep"] == [
        "timestep 0", "timestep 1", "timestep 2",
    ]
    meta = trace["otherData"]
    assert meta["step_cap"] == 3 and meta["recorded_steps"] == 3 and not meta["cut_short"]
    assert "first 3 timestep" in meta["cap_note"]
    total, count = _busy_us_per_track(trace)
    first = sum(a[:3] for a in run.core_activity_s.values()).sum(axis=0)
    assert total["core 1"] == pytest.approx(first[1] * 1e6, abs=1e-6 * count["core 1"])
    assert {s.step for s in rec.spans()} == {0, 1, 2}


def test_span_cap_cuts_a_network_timeline_short(tmp_path):
    run = _four_core_run()
    rec, trace = _record(run, tmp_path, max_events=25)
    assert rec.events == 25 and trace["otherData"]["cut_short"]


def test_an_analog_chip_emulates_on_every_core_while_spikes_are_routed(tmp_path):
    net = load_nir(EDGE_CNN)
    arch = load_architecture(REPO / "architectures" / "brainscales2.yaml")
    raster = simulate(net, {"input": np.ones((5, 1, 8, 8))}, 5, 1e-3)
    run = cost_network(arch, net, raster, place_network(net, arch))
    _, trace = _record(run, tmp_path)
    check_trace_structure(trace)  # emulation and routing on tracks of their own
    total, count = _busy_us_per_track(trace)
    for core, busy in enumerate(run.core_busy_s):
        assert total[f"core {core}"] == pytest.approx(busy * 1e6, abs=1e-6 * count[f"core {core}"])
    assert total["phases"] == pytest.approx(run.elapsed_s * 1e6)  # dt / 1000 each
    assert total["spike routing"] > 0


def test_cli_writes_a_network_timeline_and_its_pictures(tmp_path, capsys):
    timeline, plots = tmp_path / "t.json", tmp_path / "plots"
    argv = ["run", "spinnaker2", str(EDGE_CNN), "--input-rate", "200", "--timesteps", "20",
            "--out", str(tmp_path / "res"), "--timeline", str(timeline),
            "--timeline-timesteps", "5", "--plots", str(plots)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    trace = json.loads(timeline.read_text())
    check_trace_structure(trace)
    meta = trace["otherData"]
    assert meta["step_cap"] == 5 and meta["recorded_steps"] == 5 and meta["timesteps"] == 20
    assert meta["network"] == "edge-cnn" and meta["architecture"] == "spinnaker2"
    for name in ("timesteps.png", "timeline.png", "linkmap.png"):
        assert (plots / name).read_bytes().startswith(PNG)
        assert str(plots / name) in out
    assert "busiest core: core 0" in out and "critical core" in out
    result = json.loads((tmp_path / "res" / "result.json").read_text())
    assert 0 < result["core_busy_fraction"][0] <= 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--timeline", "T", "--timeline-tokens", "2"], "use --timeline-timesteps N"),
        (["--timeline", "T", "--timeline-timesteps", "0"], "--timeline-timesteps must be at"),
        (["--timeline-timesteps", "4"], "--timeline-timesteps applies only with --timeline"),
    ],
)
def test_impossible_network_timelines_are_refused_before_any_work(
    tmp_path, capsys, extra, message
):
    extra = [str(tmp_path / "t.json") if a == "T" else a for a in extra]
    argv = ["run", "loihi", str(EDGE_CNN), "--input-rate", "200", "--timesteps", "5",
            "--out", str(tmp_path / "res"), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "res").exists() and not (tmp_path / "t.json").exists()


def test_an_llm_run_refuses_the_timestep_cap(capsys):
    argv = ["run", "vck190_nsllm", "nsllm-1.5b", "--timeline-timesteps", "3"]
    assert main(argv) == 2
    assert "--timeline-timesteps applies to spiking networks" in capsys.readouterr().err
