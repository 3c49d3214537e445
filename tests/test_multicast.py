"""Multicast of LLM spikes (`interconnect.multicast`): unicast per destination, or one
packet per spike copied where the routes branch (tree), in both fidelities."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO, TWO_CHIPS, variant

from neurosim.architecture import Architecture
from neurosim.config.loader import load_config
from neurosim.config.overrides import with_overrides
from neurosim.errors import ConfigError
from neurosim.results.record import config_hash
from neurosim.simulate.run import prepare, simulate
from neurosim.simulate.systems import load_architecture, load_workload
from neurosim.workload.spikes import TokenSpikes

SMOLLM = REPO / "workloads" / "smollm2-135m.yaml"


def _mesh_2x2(tiny_arch, multicast: str) -> Architecture:
    """The tiny architecture's 4 units on a 2x2 mesh (unit u at node u), all on chip."""
    return variant(
        tiny_arch,
        {
            "interconnect.topology": {"kind": "mesh", "width": 2, "height": 2},
            "interconnect.core_nodes": [0, 1, 2, 3],
            "interconnect.multicast": multicast,
            "dram": None,
            "onchip_memory.capacity_bytes": "64 KiB",
        },
    )


class _OneSpike:
    """A spike source: one neuron of the first site fires once, every other is silent."""

    label = "one spike"

    def __init__(self, graph) -> None:
        self.graph = graph

    def token(self, position: int = 0) -> TokenSpikes:
        counts = tuple(np.zeros(g.width, dtype=np.int64) for g in self.graph.groups)
        counts[0][0] = 1
        return TokenSpikes(position, None, counts)

    def tokens(self, n_tokens: int):
        return (self.token(i) for i in range(n_tokens))


@pytest.mark.parametrize(
    ("multicast", "expected"),
    [
        # unit 0 (node 0) owns the first site; units 0..3 hold its layer. Dimension order
        # (X then Y): 0->1, 0->2 and 0->1->3, so link 0->1 carries two of the three copies
        ("none", {(0, 1): 2, (0, 2): 1, (1, 3): 1}),
        # tree: one packet, copied at node 1: the union of the routes, each link once
        ("tree", {(0, 1): 1, (0, 2): 1, (1, 3): 1}),
    ],
)
def test_one_spike_over_a_2x2_mesh(tiny_arch, tiny_workload, multicast, expected):
    arch = _mesh_2x2(tiny_arch, multicast)
    prep = prepare(arch, tiny_workload)
    source = _OneSpike(prep.graph)
    msg = arch.interconnect.spike_message_bits  # 16
    work = prep.planner.plan(source.token())
    links = prep.planner.routing.links
    bits = work.phase_link_bits(0)[0]
    assert {links[k]: int(b) for k, b in enumerate(bits) if b} == {
        link: n * msg for link, n in expected.items()
    }
    assert int(work.phase_link_bits(0)[1:].sum()) == 0  # the neuron fires at t = 0 only
    hops = sum(expected.values()) * msg  # 64 unicast, 48 tree; no weight traffic on chip
    assert work.counts[("interconnect", "bit_hop")] == hops
    assert work.noc_bytes == hops // 8
    # both fidelities charge the same bits for it, and price them alike
    for fidelity in ("analytic", "des"):
        r = simulate(arch, tiny_workload, n_tokens=2, fidelity=fidelity, source=source)
        assert r.event_counts["interconnect/bit_hop"] == 2 * hops
        per_bit_hop = arch.interconnect.energy_j_per_bit_hop
        assert r.energy_per_token_j["interconnect.bit_hop"] == pytest.approx(hops * per_bit_hop)


@pytest.mark.parametrize(
    ("multicast", "on_chip", "chip_link"),
    [
        # 4 copies on each chip's 2x2 mesh (as above, chip 1's from its gateway, node 0)
        # and one chip-link copy per unit of chip 1
        ("none", 4 + 4, 4),
        ("tree", 3 + 3, 1),  # the union: each chip's 3 links and the chip link, once each
    ],
)
def test_one_spike_over_two_chips(tiny_arch, tiny_workload, multicast, on_chip, chip_link):
    arch = variant(
        _mesh_2x2(tiny_arch, multicast),
        {
            "chips": TWO_CHIPS
        },
    )
    prep = prepare(arch, tiny_workload)
    assert prep.placement.chips == 2 and prep.planner.group_dests[0].size == 8
    work = prep.planner.plan(_OneSpike(prep.graph).token())
    msg = arch.interconnect.spike_message_bits
    assert work.counts[("interconnect", "bit_hop")] == on_chip * msg
    assert work.counts[("chip_link", "bit")] == chip_link * msg


@pytest.fixture(scope="module")
def smollm():
    return load_workload(SMOLLM)


@pytest.fixture(scope="module")
def spinnaker2_runs(smollm):
    """SpiNNaker 2 (tree multicast, 5 chips for SmolLM2-135M) at both settings and fidelities."""
    arch = load_architecture(REPO / "architectures" / "spinnaker2.yaml")
    assert arch.interconnect.multicast == "tree"
    runs = {}
    for multicast, fidelities in (("tree", ("analytic", "des")), ("none", ("analytic",))):
        a = with_overrides(arch, {"interconnect.multicast": multicast})
        for fidelity in fidelities:
            runs[multicast, fidelity] = simulate(a, smollm, n_tokens=2, fidelity=fidelity)
    return runs


def test_des_and_analytic_carry_the_same_multicast_bits(spinnaker2_runs):
    analytic, des = spinnaker2_runs["tree", "analytic"], spinnaker2_runs["tree", "des"]
    assert analytic.placement["chips"] == 5
    for key in ("interconnect/bit_hop", "chip_link/bit"):
        assert des.event_counts[key] == analytic.event_counts[key]
        priced = key.replace("/", ".")
        assert des.energy_per_token_j[priced] == analytic.energy_per_token_j[priced]
    assert des.metrics["tokens_per_s"] <= analytic.metrics["tokens_per_s"] * (1 + 1e-9)


def test_tree_carries_each_link_once_per_spike(spinnaker2_runs):
    tree, unicast = spinnaker2_runs["tree", "analytic"], spinnaker2_runs["none", "analytic"]
    # fewer copies on every class of link, so a faster and cheaper token
    for key in ("interconnect/bit_hop", "chip_link/bit"):
        assert tree.event_counts[key] < unicast.event_counts[key]
    assert tree.metrics["tokens_per_s"] > unicast.metrics["tokens_per_s"]
    assert tree.metrics["energy_per_token_j"] < unicast.metrics["energy_per_token_j"]


def test_unicast_is_what_every_preset_computed_before(spinnaker2_runs, smollm):
    # figures of the commit before multicast existed on the LLM path (analytic, 2 tokens,
    # seed 0): a preset without multicast, and SpiNNaker 2 set back to unicast, are unchanged
    # (SpiNNaker 2's token rate since re-pinned: 27.7996 -> 27.9003 when each unit got its
    # own chip's on-chip bandwidth instead of a share of every chip's units)
    r = spinnaker2_runs["none", "analytic"]
    assert r.metrics["tokens_per_s"] == 27.900289301652872
    assert r.event_counts["interconnect/bit_hop"] == 13153277120
    assert r.event_counts["chip_link/bit"] == 2602605560
    loihi = load_architecture(REPO / "architectures" / "loihi.yaml")
    assert loihi.interconnect.multicast == "none"
    r = simulate(loihi, smollm, n_tokens=2, fidelity="analytic")
    assert r.metrics["tokens_per_s"] == 17.83973180326356
    assert r.metrics["energy_per_token_j"] == 0.06707804890343999
    assert r.event_counts["interconnect/bit_hop"] == 7238659840
    assert r.event_counts["chip_link/bit"] == 1753334272


def test_older_neuron_cores_setting_still_loads(tmp_path):
    text = (REPO / "architectures" / "spinnaker2.yaml").read_text()
    old = text.replace("  multicast: tree\n", "").replace(
        "  routes_per_core: 107\n", "  routes_per_core: 107\n  multicast: tree\n"
    )
    assert old != text and "interconnect.multicast" in old  # provenance key kept
    path = tmp_path / "old_spinnaker2.yaml"
    path.write_text(old)
    arch = load_config(Architecture, path)
    assert arch.interconnect.multicast == "tree" and arch.neuron_cores.multicast == "tree"
    # one setting: the spiking-network path reads the interconnect's
    net = with_overrides(arch, {"interconnect.multicast": "none"})
    assert net.neuron_cores.multicast == "none"
    # and --set with the older key changes that one setting
    net = with_overrides(net, {"neuron_cores.multicast": "tree"})
    assert net.interconnect.multicast == "tree" and net.neuron_cores.multicast == "tree"


def test_two_settings_that_disagree_name_both_keys(tmp_path):
    text = (REPO / "architectures" / "spinnaker2.yaml").read_text()
    path = tmp_path / "both.yaml"
    path.write_text(text.replace("  routes_per_core: 107\n",
                                 "  routes_per_core: 107\n  multicast: none\n"))
    with pytest.raises(ConfigError) as err:
        load_config(Architecture, path)
    message = str(err.value)
    assert "interconnect.multicast" in message and "neuron_cores.multicast" in message
    assert "disagree" in message and "both.yaml" in message


def test_default_setting_keeps_config_hashes(tiny_arch, tiny_workload):
    # an architecture that does not multicast hashes as before the field existed
    dump = tiny_arch.model_dump(mode="json")
    assert "multicast" not in dump["interconnect"]
    assert config_hash(dump, tiny_workload.model_dump(mode="json"), {}) == "9b2b74f5e824d048"
    tree = with_overrides(tiny_arch, {"interconnect.multicast": "tree"})
    assert tree.model_dump(mode="json")["interconnect"]["multicast"] == "tree"
    assert tiny_arch.model_dump()["interconnect"]["multicast"] == "none"  # what --set edits
