"""Per-spike and per-message costs of neuromorphic cores, and next-timestep spike delivery."""

from __future__ import annotations

from pathlib import Path

import nir
import numpy as np
import pytest

from neurosim.config.overrides import with_overrides
from neurosim.errors import ConfigError
from neurosim.mapping.snn_placement import place_network
from neurosim.simulate.snn import cost_network
from neurosim.simulate.systems import load_architecture
from neurosim.workload.nir_import import load_nir, network_from_graph
from neurosim.workload.snn_dynamics import poisson_input, simulate

REPO = Path(__file__).resolve().parents[1]
PJ, NS = 1e-12, 1e-9


def _lif(n, v_th=1.0):
    """tau = dt and r = 1: v becomes this timestep's input current."""
    return nir.LIF(
        tau=np.full(n, 1e-3),
        r=np.ones(n),
        v_leak=np.zeros(n),
        v_threshold=np.full(n, v_th),
        v_reset=np.zeros(n),
    )


def _two_layers(n_a: int, n_b: int, b_threshold: float = 1e9) -> nir.NIRGraph:
    """Input -> A (n_a neurons, fire at every input spike) -> B (n_b neurons, by default
    never firing) -> output."""
    nodes = {
        "in": nir.Input(input_type={"input": np.array([1])}),
        "fa": nir.Linear(weight=np.full((n_a, 1), 10.0)),
        "a": _lif(n_a),
        "fb": nir.Linear(weight=np.ones((n_b, n_a))),
        "b": _lif(n_b, v_th=b_threshold),
        "out": nir.Output(output_type={"output": np.array([n_b])}),
    }
    edges = [("in", "fa"), ("fa", "a"), ("a", "fb"), ("fb", "b"), ("b", "out")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


def _cores(n: int, **changes):
    """Loihi as n one-core units on an n x 1 mesh, 2 neurons per core, 1 ns per synaptic
    event and per neuron update, no barrier."""
    arch = load_architecture(REPO / "architectures" / "loihi.yaml")
    base = {
        "compute.count": n,
        "compute.clock_hz": 1e9,
        "compute.lanes": 1,
        "compute.neuron_updates_per_cycle": 1,
        "interconnect.topology": {"kind": "mesh", "width": n, "height": 1},
        "neuron_cores.cores_per_unit": 1,
        "neuron_cores.neurons_per_core": 2,
        "interconnect.barrier_s": 0.0,
    }
    return with_overrides(arch, base | changes, source="test")


COSTS = {
    "neuron_cores.spike_energy_j": 1 * PJ,
    "neuron_cores.spike_latency_s": 30 * NS,
    "neuron_cores.message_out_energy_j": 10 * PJ,
    "neuron_cores.message_out_latency_s": 5 * NS,
    "neuron_cores.message_in_energy_j": 100 * PJ,
    "neuron_cores.message_in_latency_s": 16 * NS,
}


def test_spike_and_message_costs_by_hand_on_two_cores():
    # A's 2 neurons on core 0, B's 2 on core 1; the input (host) spikes every step.
    # Per step: A fires 2 spikes, sends 2 messages (one per spike to core 1), core 0
    # receives the input's message, core 1 receives A's 2.
    net = network_from_graph(_two_layers(2, 2))
    raster = simulate(net, {"in": np.ones((3, 1))}, 3, 1e-3)
    arch = _cores(2, **COSTS)
    pl = place_network(net, arch)
    assert pl.neurons.tolist() == [2, 2]
    run = cost_network(arch, net, raster, pl)
    counts = {e: run.ledger.get("neuron_core", e) for e in ("spike", "message_out", "message_in")}
    assert counts == {"spike": 6, "message_out": 6, "message_in": 9}
    energy = {e: j for (c, e), j in run.energy.dynamic.items() if c == "neuron_core"}
    assert energy == pytest.approx({"spike": 6 * PJ, "message_out": 60 * PJ,
                                    "message_in": 900 * PJ})  # fmt: skip
    # core 0: 2 synaptic events + 2 updates (1 ns each) + 2 x 30 + 2 x 5 + 1 x 16 = 90 ns
    # core 1: 4 synaptic events + 2 updates + 2 x 16 = 38 ns; the slowest core sets it
    assert run.phases_s["compute"] == pytest.approx([90 * NS] * 3)
    # a slower receive makes core 1 the slowest: 6 + 2 x 100 = 206 ns (core 0: 174 ns)
    slow_in = _cores(2, **COSTS | {"neuron_cores.message_in_latency_s": 100 * NS})
    run = cost_network(slow_in, net, raster, pl)
    assert run.phases_s["compute"] == pytest.approx([206 * NS] * 3)
    assert run.bottleneck == "core 1 (compute)"


def test_tree_multicast_sends_one_message_per_spike_unicast_one_per_core():
    # A's 2 neurons on core 0 reach B's 4 neurons on cores 1 and 2: per spike, two messages
    # sent unicast, one as a tree; every destination core receives one either way.
    net = network_from_graph(_two_layers(2, 4))
    raster = simulate(net, {"in": np.ones((2, 1))}, 2, 1e-3)
    counts = {}
    for mode in ("none", "tree"):
        arch = _cores(3, **COSTS, **{"neuron_cores.multicast": mode})
        run = cost_network(arch, net, raster, place_network(net, arch))
        counts[mode] = (run.ledger.get("neuron_core", "message_out"),
                        run.ledger.get("neuron_core", "message_in"))  # fmt: skip
        # core 0: 2 events + 2 updates + 2 spikes x 30 + messages sent x 5 + 16 (input)
        sent_per_step = counts[mode][0] // 2
        assert run.phases_s["compute"][0] == pytest.approx((4 + 60 + 5 * sent_per_step + 16) * NS)
    # 2 steps x 2 spikes: unicast 8 messages, tree 4; received 2 x (2 + 2) + 2 from the host
    assert counts == {"none": (8, 10), "tree": (4, 10)}


def _edge_cnn(arch_name: str, **changes) -> tuple[float, float]:
    net = load_nir(REPO / "workloads/snn/edge-cnn.nir")
    raster = simulate(net, poisson_input(net, 200.0, 100, 1e-3, 0), 100, 1e-3)
    arch = load_architecture(REPO / "architectures" / f"{arch_name}.yaml")
    if changes:
        arch = with_overrides(arch, changes, source="test")
    run = cost_network(arch, net, raster, place_network(net, arch))
    return 1e9 * run.metrics["energy_per_timestep_j"], 1e6 * run.metrics["latency_per_timestep_s"]


def test_presets_without_spike_costs_keep_their_figures():
    # README snn-example before per-spike costs: loihi2 62.58 nJ, 0.6122 us; spinnaker2
    # 1309 nJ, 6.609 us; loihi with the new fields at 0 is its old 804.3 nJ, 7.132 us
    assert _edge_cnn("loihi2") == pytest.approx((62.58, 0.6122), rel=1e-3)
    assert _edge_cnn("spinnaker2") == pytest.approx((1309, 6.609), rel=1e-3)
    zero = {k: 0.0 for k in COSTS}
    assert _edge_cnn("loihi", **zero) == pytest.approx((804.3, 7.132), rel=1e-3)
    energy, latency = _edge_cnn("loihi")
    assert energy > 804.3 * 1.1 and latency > 7.132 * 1.1


def test_next_timestep_delivery_delays_every_layer_by_one_step():
    # B fires on A's two spikes (current 2 > 1.5); the output reads B's spikes
    net = network_from_graph(_two_layers(2, 2, b_threshold=1.5))
    x = {"in": np.array([[1.0], [0.0], [0.0], [0.0]])}
    a, b = net.index("a"), net.index("b")
    same = simulate(net, x, 4, 1e-3)
    later = simulate(net, x, 4, 1e-3, next_timestep=True)
    assert [same.active_at(a, t).size for t in range(4)] == [2, 0, 0, 0]
    assert [same.active_at(b, t).size for t in range(4)] == [2, 0, 0, 0]
    assert same.outputs["out"][:, 0].tolist() == [1, 0, 0, 0]
    assert [later.active_at(a, t).size for t in range(4)] == [0, 2, 0, 0]
    assert [later.active_at(b, t).size for t in range(4)] == [0, 0, 2, 0]
    assert later.outputs["out"][:, 0].tolist() == [0, 0, 0, 1]
    assert later.synaptic_events.tolist() == same.synaptic_events.tolist()


def test_spike_costs_out_of_range_are_config_errors():
    arch = load_architecture(REPO / "architectures" / "loihi.yaml")
    with pytest.raises(ConfigError, match="message_in_latency_s.*between 0 and 0.001 s"):
        with_overrides(arch, {"neuron_cores.message_in_latency_s": 2.0}, source="test")


def test_cli_prints_messages_per_timestep(tmp_path, capsys):
    from neurosim.cli.app import main

    path = tmp_path / "net.nir"
    nir.write(str(path), _two_layers(2, 2))
    spikes = tmp_path / "in.npz"
    np.savez(spikes, x=np.ones((4, 1)))
    code = main(["run", "loihi", str(path), "--input", str(spikes), "--timesteps", "4",
                 "--out", str(tmp_path / "res")])  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0, text
    # one core: A's 2 spikes reach it (2 messages) and the input's 1 message arrives
    assert "messages per timestep      2 sent, 3 received (none multicast)" in text
    assert "spike delivery: same timestep" in text
