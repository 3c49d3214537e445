"""NIR import, spiking dynamics, placement under core limits and per-timestep traffic."""

from __future__ import annotations

import json
from pathlib import Path

import nir
import numpy as np
import pytest

from neurosim.cli.app import main
from neurosim.config.overrides import with_overrides
from neurosim.errors import UsageError
from neurosim.mapping.snn_placement import place_network
from neurosim.simulate.snn import cost_network
from neurosim.simulate.systems import load_architecture
from neurosim.workload.nir_import import network_from_graph
from neurosim.workload.snn_dynamics import simulate

REPO = Path(__file__).resolve().parents[1]


def _arch(name: str, **changes):
    arch = load_architecture(REPO / "architectures" / f"{name}.yaml")
    return with_overrides(arch, changes, source="test") if changes else arch


def _lif(n, tau=1e-3, r=None, v_th=1.0, dt=1e-3):
    return nir.LIF(
        tau=np.full(n, tau),
        r=np.full(n, tau / dt if r is None else r),
        v_leak=np.zeros(n),
        v_threshold=np.full(n, v_th),
        v_reset=np.zeros(n),
    )


def _chain(weight, lif, recurrent=None):
    n_out, n_in = weight.shape
    nodes = {
        "in": nir.Input(input_type={"input": np.array([n_in])}),
        "fc": nir.Linear(weight=weight),
        "lif": lif,
        "out": nir.Output(output_type={"output": np.array([n_out])}),
    }
    edges = [("in", "fc"), ("fc", "lif"), ("lif", "out")]
    if recurrent is not None:
        nodes["rec"] = nir.Linear(weight=recurrent)
        edges += [("lif", "rec"), ("rec", "lif")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


def test_lif_dynamics_of_two_neurons_by_hand():
    # tau = 2 ms, dt = 1 ms, r = 1: v <- v + 0.5 (-v + I) = 0.5 v + 0.5 I; threshold 0.6
    g = _chain(np.array([[1.0], [0.5]]), _lif(2, tau=2e-3, r=1.0, v_th=0.6))
    net = network_from_graph(g)
    x = {"in": np.ones((4, 1))}
    raster = simulate(net, x, 4, 1e-3)
    # neuron 0: I = 1: v = 0.5, 0.75 -> spike, reset 0, 0.5, 0.75 -> spike
    # neuron 1: I = 0.5: v = 0.25, 0.375, 0.4375, 0.46875 (never above 0.6)
    lif = net.index("lif")
    spikes = [raster.active_at(lif, t).tolist() for t in range(4)]
    assert spikes == [[], [0], [], [0]]
    out = raster.outputs["out"]
    assert out[:, 0].tolist() == [0, 1, 0, 1] and not out[:, 1].any()
    assert raster.synaptic_events[0] == 4 * 2  # one input, two synapses, every step


def test_recurrent_edge_reads_the_previous_timestep():
    # neuron 0 fires at t=0 from input; recurrent weight 10 makes neuron 1 fire at t=1 only
    rec = np.array([[0.0, 0.0], [10.0, 0.0]])
    g = _chain(np.array([[10.0], [0.0]]), _lif(2, tau=1e-3), recurrent=rec)
    net = network_from_graph(g)
    x = {"in": np.array([[1.0], [0.0], [0.0]])}
    raster = simulate(net, x, 3, 1e-3)
    lif = net.index("lif")
    assert [raster.active_at(lif, t).tolist() for t in range(3)] == [[0], [1], []]
    assert [p.delayed for p in net.projections if p.source == p.target] == [True]


def test_conv_pool_flatten_chain_equals_direct_numpy():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(3, 2, 3, 3))
    b = rng.normal(size=3)
    fc = rng.normal(size=(5, 3 * 3 * 3))
    shape = (3, 6, 6)
    g = nir.NIRGraph(
        nodes={
            "in": nir.Input(input_type={"input": np.array([2, 6, 6])}),
            "conv": nir.Conv2d(
                input_shape=(6, 6), weight=w, stride=1, padding=1, dilation=1, groups=1, bias=b
            ),
            "pool": nir.AvgPool2d(
                kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])
            ),
            "flat": nir.Flatten(input_type={"input": np.array([3, 3, 3])}, start_dim=0, end_dim=-1),
            "fc": nir.Linear(weight=fc),
            "li": nir.LI(tau=np.full(5, 1e-3), r=np.ones(5), v_leak=np.zeros(5)),
            "out": nir.Output(output_type={"output": np.array([5])}),
        },
        edges=[
            ("in", "conv"),
            ("conv", "pool"),
            ("pool", "flat"),
            ("flat", "fc"),
            ("fc", "li"),
            ("li", "out"),
        ],
    )
    net = network_from_graph(g)
    x = rng.integers(0, 2, size=(1, 2, 6, 6)).astype(float)
    raster = simulate(net, {"in": x}, 1, 1e-3)
    # direct: zero-padded convolution, 2x2 average pooling, linear; LI with dt = tau gives v = I
    pad = np.pad(x[0], ((0, 0), (1, 1), (1, 1)))
    conv = np.zeros(shape)
    for co in range(3):
        for i in range(6):
            for j in range(6):
                conv[co, i, j] = np.sum(w[co] * pad[:, i : i + 3, j : j + 3]) + b[co]
    pooled = conv.reshape(3, 3, 2, 3, 2).mean(axis=(2, 4))
    expected = fc @ pooled.ravel()
    np.testing.assert_allclose(raster.outputs["out"][0], expected, rtol=1e-12)


def test_unsupported_node_names_it_and_lists_the_supported(tmp_path, capsys):
    g = nir.NIRGraph(
        nodes={
            "in": nir.Input(input_type={"input": np.array([2])}),
            "d": nir.Delay(delay=np.ones(2)),
            "out": nir.Output(output_type={"output": np.array([2])}),
        },
        edges=[("in", "d"), ("d", "out")],
    )
    path = tmp_path / "delay.nir"
    nir.write(str(path), g)
    code = main(["run", "loihi", str(path), "--input-rate", "10", "--timesteps", "2"])
    err = capsys.readouterr().err
    assert code == 2
    assert "node 'd' is a Delay" in err and "Conv2d" in err and "CubaLIF" in err
    assert "Traceback" not in err


def test_a_population_is_split_over_cores_at_the_neuron_limit():
    n = 2500  # Loihi: 1,024 neurons per core -> 1024 + 1024 + 452
    g = _chain(np.ones((n, 1)), _lif(n))
    net = network_from_graph(g)
    pl = place_network(net, _arch("loihi"))
    assert pl.neurons.tolist() == [1024, 1024, 452]
    assert pl.fan_in.tolist() == [1, 1, 1]


def test_synapse_memory_and_fan_in_limits():
    # 200 neurons x 1,000 inputs; 128 KiB at 8 bits = 131,072 synapses -> 131 neurons per core
    g = _chain(np.ones((200, 1000)), _lif(200))
    pl = place_network(network_from_graph(g), _arch("loihi"))
    assert pl.neurons.tolist() == [131, 69]
    assert pl.synapses.tolist() == [131000, 69000]
    # TrueNorth: 300 inputs > 256 axons of a core, and neurosim does not split a neuron
    g = _chain(np.ones((4, 300)), _lif(4))
    with pytest.raises(UsageError, match="300 distinct presynaptic sources.*fan_in_per_core 256"):
        place_network(network_from_graph(g), _arch("truenorth"))


def _fan_out_net():
    """One input neuron feeding 4 populations of 1,024 neurons: on Loihi, four cores in four
    different units (8 cores per unit, so pad with filler populations)."""
    nodes = {"in": nir.Input(input_type={"input": np.array([1])})}
    edges = []
    for k in range(4):
        nodes[f"fc{k}"] = nir.Linear(weight=np.ones((1024, 1)))
        nodes[f"lif{k}"] = _lif(1024, v_th=1e9)
        edges += [("in", f"fc{k}"), (f"fc{k}", f"lif{k}")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


def test_one_spike_over_a_2x2_mesh_unicast_and_multicast():
    # 2x2 mesh, one core per unit: the input (host at node 0) reaches cores at nodes 0..3.
    # Dimension order (X then Y): routes 0->1, 0->2, 0->1->3: 4 link messages unicast,
    # 3 links as a multicast tree.
    net = network_from_graph(_fan_out_net())
    x = {"in": np.array([[1.0]])}
    raster = simulate(net, x, 1, 1e-3)
    hops = {}
    for mode in ("none", "tree"):
        arch = _arch(
            "loihi",
            **{
                "compute.count": 4,
                "interconnect.topology": {"kind": "mesh", "width": 2, "height": 2},
                "neuron_cores.cores_per_unit": 1,
                "neuron_cores.multicast": mode,
            },
        )
        pl = place_network(net, arch)
        run = cost_network(arch, net, raster, pl)
        bits = arch.interconnect.spike_message_bits
        hops[mode] = run.ledger.get("interconnect", "bit_hop") / bits
    assert hops == {"none": 4, "tree": 3}


def test_network_larger_than_a_chip_runs_multichip_or_says_how_many_chips(tmp_path):
    n = 130 * 1024  # 130 Loihi cores > 128 per chip
    g = _chain(np.ones((n, 1)), _lif(n))
    net = network_from_graph(g)
    raster = simulate(net, {"in": np.ones((2, 1))}, 2, 1e-3)
    arch = _arch("loihi")
    pl = place_network(net, arch)
    assert (pl.cores, pl.chips) == (130, 2)
    run = cost_network(arch, net, raster, pl)
    assert run.ledger.get("chip_link", "bit") > 0
    with pytest.raises(UsageError, match="needs 130 cores = 2 loihi chips.*chips.count 1"):
        place_network(net, _arch("loihi", **{"chips.count": 1}))


def test_cli_run_with_npz_input_writes_a_result(tmp_path, capsys):
    rng = np.random.default_rng(0)
    path = tmp_path / "net.nir"
    nir.write(str(path), _chain(rng.normal(size=(8, 3)), _lif(8, v_th=0.5)))
    spikes = tmp_path / "in.npz"
    np.savez(spikes, x=rng.random((20, 3)) < 0.3)
    out = tmp_path / "res"
    code = main(
        [
            "run",
            "spinnaker2",
            str(path),
            "--input",
            str(spikes),
            "--timesteps",
            "20",
            "--out",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    data = json.loads((out / "result.json").read_text())
    assert data["metrics"]["energy_per_timestep_j"] > 0
    assert (
        data["metrics"]["spikes_total"]
        == sum(1 - s for s in [data["layers"][0]["activation_sparsity"]]) * 8 * 20
    )
    assert "energy_per_timestep_j" in text and "bottleneck" in text


def test_cli_refuses_missing_input_and_architectures_without_core_limits(tmp_path, capsys):
    path = tmp_path / "net.nir"
    nir.write(str(path), _chain(np.ones((2, 2)), _lif(2)))
    assert main(["run", "loihi", str(path)]) == 2
    assert "--input SPIKES.npz or --input-rate HZ" in capsys.readouterr().err
    assert main(["run", "vck190_nsllm", str(path), "--input-rate", "5"]) == 2
    assert "no neuron_cores section" in capsys.readouterr().err


def test_small_populations_share_a_core_and_analog_time_is_accelerated():
    # 192 + 32 + 10 neurons: one Loihi core (1,024 neurons, fan-in and memory to spare)
    net = network_from_graph(_example_graph())
    pl = place_network(net, _arch("loihi"))
    assert pl.cores == 1 and pl.neurons.tolist() == [234]
    # BrainScaleS-2: 256 neurons per half; a timestep of dt lasts dt / 1000 when the spike
    # traffic is shorter than that
    raster = simulate(net, {"input": np.zeros((5, 1, 8, 8))}, 5, 1e-3)
    arch = _arch("brainscales2")
    run = cost_network(arch, net, raster, place_network(net, arch))
    assert run.latency_s.tolist() == [1e-6] * 5
    assert run.bottleneck.startswith("analog emulation")


def _example_graph():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_example_snn", REPO / "scripts" / "make_example_snn.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.edge_cnn()


def test_shipped_example_is_what_its_script_writes(tmp_path):
    shipped = nir.read(str(REPO / "workloads" / "snn" / "edge-cnn.nir"))
    fresh = _example_graph()
    assert set(shipped.nodes) == set(fresh.nodes)
    for name, node in fresh.nodes.items():
        for field in ("weight", "tau", "tau_mem", "v_threshold"):
            if hasattr(node, field):
                np.testing.assert_array_equal(
                    getattr(shipped.nodes[name], field), getattr(node, field)
                )


def test_conv1d_with_stride_dilation_and_groups_equals_direct_numpy():
    rng = np.random.default_rng(4)
    w = rng.normal(size=(4, 1, 3))  # 4 outputs, groups 2: 2 input channels, 1 per group
    g = nir.NIRGraph(
        nodes={
            "in": nir.Input(input_type={"input": np.array([2, 10])}),
            "conv": nir.Conv1d(input_shape=None, weight=w, stride=2, padding=1, dilation=2,
                               groups=2, bias=np.zeros(4)),
            "out": nir.Output(output_type={"output": np.array([4, 4])}),
        },
        edges=[("in", "conv"), ("conv", "out")],
    )  # fmt: skip
    net = network_from_graph(g)
    x = rng.normal(size=(1, 2, 10))
    got = simulate(net, {"in": x}, 1, 1e-3).outputs["out"][0].reshape(4, -1)
    pad = np.pad(x[0], ((0, 0), (1, 1)))
    n_out = (10 + 2 - 2 * 2 - 1) // 2 + 1
    want = np.zeros((4, n_out))
    for co in range(4):
        ci = co // 2  # two outputs per group, one input channel per group
        for o in range(n_out):
            want[co, o] = sum(w[co, 0, k] * pad[ci, o * 2 + 2 * k] for k in range(3))
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_route_table_limit_splits_the_sending_core():
    # TrueNorth: 256 routes per core, one per (neuron, destination core). 256 source
    # neurons each feeding two 256-neuron populations (two destination cores) need 512
    # routes on one core, so the sources are split over two cores of 128.
    nodes = {
        "in": nir.Input(input_type={"input": np.array([1])}),
        "fc": nir.Linear(weight=np.ones((256, 1))),
        "src": _lif(256),
    }
    edges = [("in", "fc"), ("fc", "src")]
    for k in range(2):
        nodes[f"w{k}"] = nir.Linear(weight=np.eye(256))
        nodes[f"dst{k}"] = _lif(256)
        edges += [("src", f"w{k}"), (f"w{k}", f"dst{k}")]
    net = network_from_graph(nir.NIRGraph(nodes=nodes, edges=edges))
    pl = place_network(net, _arch("truenorth"))
    _, per_core = np.unique(pl.core_of[net.index("src")], return_counts=True)
    assert per_core.tolist() == [128, 128]
    assert pl.routes.max() <= 256


def test_llm_only_options_are_refused_for_a_network(tmp_path, capsys):
    path = tmp_path / "net.nir"
    nir.write(str(path), _chain(np.ones((2, 2)), _lif(2)))
    code = main(["run", "loihi", str(path), "--input-rate", "5", "--attention", "softmax"])
    assert code == 2 and "--attention: LLM workloads only" in capsys.readouterr().err
