"""Multi-chip routing: the templated routes equal routes over the whole system's graph.

The reference below is the plain algorithm (every link of every chip in one sorted
list, each route walked node by node); the system under test composes per-chip and
chip-to-chip templates. They must agree link for link on every pair.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurosim.architecture import Architecture
from neurosim.components.interconnect import link_parameters
from neurosim.components.routing import CHIP_LINK, ON_CHIP, build_routing, chip_topology
from neurosim.components.topologies import CrossbarTopology, MeshTopology, RingTopology
from neurosim.config.loader import load_config
from neurosim.config.overrides import with_overrides
from neurosim.config.workload import Workload
from neurosim.simulate.run import prepare
from neurosim.workload.coding import spikes_per_timestep
from neurosim.workload.spikes import SyntheticSpikeSource

FIXTURES = Path(__file__).parent / "fixtures"


def _walk(topology, src: int, dst: int) -> list[int]:
    return [src] if src == dst else topology.route(src, dst)


class _Reference:
    """Every link and route of the system, built pair by pair."""

    def __init__(self, topology, chips_topology, gateway: int) -> None:
        per_chip = topology.nodes
        chips = chips_topology.nodes if chips_topology is not None else 1
        edges = {
            (c * per_chip + a, c * per_chip + b, ON_CHIP)
            for c in range(chips)
            for a, b in topology.links()
        }
        if chips_topology is not None:
            edges |= {
                (a * per_chip + gateway, b * per_chip + gateway, CHIP_LINK)
                for a, b in chips_topology.links()
            }
        ordered = sorted(edges)
        self.links = tuple((a, b) for a, b, _ in ordered)
        self.link_class = np.array([k for _, _, k in ordered])
        index = {link: i for i, link in enumerate(self.links)}
        self.n_nodes = per_chip * chips

        def path(src: int, dst: int) -> list[int]:
            cs, ls = divmod(src, per_chip)
            cd, ld = divmod(dst, per_chip)
            if cs == cd:
                return [cs * per_chip + x for x in _walk(topology, ls, ld)]
            out = [cs * per_chip + x for x in _walk(topology, ls, gateway)]
            out += [c * per_chip + gateway for c in _walk(chips_topology, cs, cd)[1:]]
            return out + [cd * per_chip + x for x in _walk(topology, gateway, ld)[1:]]

        self.routes = {
            (s, d): sorted(index[hop] for hop in zip(path(s, d), path(s, d)[1:], strict=False))
            for s in range(self.n_nodes)
            for d in range(self.n_nodes)
        }


SYSTEMS = {
    "mesh chips in a ring of 2 (links listed twice)": (
        MeshTopology(width=2, height=2),
        chip_topology("ring", 2),
        3,
    ),
    "mesh chips in a 5-chip mesh (3 x 2, one chip spare)": (
        MeshTopology(width=3, height=2),
        chip_topology("mesh", 5),
        0,
    ),
    "ring chips on a crossbar, gateway 1": (RingTopology(size=4), chip_topology("crossbar", 3), 1),
    "crossbar chips in a ring of 5": (CrossbarTopology(size=3), chip_topology("ring", 5), 2),
    "one mesh chip": (MeshTopology(width=3, height=3), None, 0),
}


@pytest.fixture(params=list(SYSTEMS), scope="module")
def system(request):
    topology, chips, gateway = SYSTEMS[request.param]
    return build_routing(topology, chips, gateway), _Reference(topology, chips, gateway)


def test_links_numbered_as_one_sorted_list(system):
    routing, ref = system
    assert routing.links == ref.links
    np.testing.assert_array_equal(routing.link_class, ref.link_class)
    assert routing.n_nodes == ref.n_nodes


def test_every_route_and_hop_count_matches(system):
    routing, ref = system
    n = ref.n_nodes
    src, dst = np.divmod(np.arange(n * n), n)
    hops, chip_hops = routing.hop_counts(src, dst)
    for s, d, h, ch in zip(src, dst, hops, chip_hops, strict=True):
        expected = ref.routes[(int(s), int(d))]
        assert routing.route_links(s, d).tolist() == expected, (s, d)
        assert h == len(expected)
        assert ch == int(ref.link_class[expected].sum())


def test_hop_counts_broadcast(system):
    routing, ref = system
    nodes = np.arange(ref.n_nodes)
    hops, chip_hops = routing.hop_counts(nodes[:, None], nodes[None, :])
    assert hops.shape == (ref.n_nodes, ref.n_nodes)
    assert hops[0, ref.n_nodes - 1] == len(ref.routes[(0, ref.n_nodes - 1)])
    assert (chip_hops <= hops).all()


def test_multicast_counts_every_route(system):
    routing, ref = system
    rng = np.random.default_rng(7)
    for _ in range(6):
        sources = rng.choice(ref.n_nodes, size=rng.integers(1, 6), replace=False)
        targets = rng.choice(ref.n_nodes, size=rng.integers(1, 8))  # repeats allowed
        expected = np.zeros((sources.size, len(ref.links)), dtype=np.int64)
        for i, s in enumerate(sources):
            for d in targets:
                if d != s:
                    np.add.at(expected[i], ref.routes[(int(s), int(d))], 1)
        np.testing.assert_array_equal(routing.multicast(sources, targets), expected)


def test_link_sums_add_each_pair_over_its_route(system):
    routing, ref = system
    n = ref.n_nodes
    weights = np.zeros(n * n)
    weights[[1, n + 2, n * n - 1]] = [8.0, 3.0, 5.0]
    expected = np.zeros(len(ref.links))
    for p in np.flatnonzero(weights):
        np.add.at(expected, ref.routes[divmod(int(p), n)], weights[p])
    np.testing.assert_array_equal(routing.link_sums(weights), expected)


def test_a_large_system_routes_only_what_is_asked():
    """400 chips: building routes nothing; one route touches one chip pair."""
    routing = build_routing(MeshTopology(width=2, height=1), chip_topology("mesh", 400), 0)
    assert routing.n_nodes == 800
    assert routing.n_links == 400 * 2 + 2 * 2 * 20 * 19
    hops, chip_hops = routing.hop_counts(np.array([1]), np.array([799]))
    assert chip_hops[0] == 19 + 19 and hops[0] == 1 + 38 + 1
    links = routing.route_links(1, 799)
    assert [routing.links[i] for i in links][0] == (0, 2)  # X first from chip 0
    assert int((routing.link_class[links] == CHIP_LINK).sum()) == 38


@pytest.mark.parametrize("layout", [{"chips.topology": "mesh", "chips.gateway_node": 3}, {}])
def test_spike_phases_of_a_multi_chip_system(layout):
    """Per (group, timestep): bits on every link and route latency, recomputed pair by
    pair from the owners' spikes, every destination's route and each link's latency."""
    arch = with_overrides(load_config(Architecture, FIXTURES / "tiny_crossbar.yaml"), layout)
    prep = prepare(arch, load_config(Workload, FIXTURES / "tiny_workload.yaml"))
    planner, graph = prep.planner, prep.graph
    assert prep.placement.chips > 1
    routing, msg = planner.routing, arch.interconnect.spike_message_bits
    _, link_latency = link_parameters(arch, routing)
    (token,) = SyntheticSpikeSource(graph, seed=3).tokens(1)
    work = planner.plan(token)
    for g, (group, counts) in enumerate(zip(graph.groups, token.counts, strict=True)):
        owners = planner.owner_index[g]
        bits = np.zeros((group.timesteps, routing.n_links), dtype=np.int64)
        latency = np.zeros(group.timesteps, dtype=np.int64)
        for u in np.unique(owners):
            fired = spikes_per_timestep(counts[owners == u], group.timesteps, "binary")
            for d in planner.group_dests[g]:
                src, dst = planner.core_nodes[u], planner.core_nodes[d]
                links = routing.route_links(src, dst)
                bits[:, links] += fired[:, None] * msg
                if links.size:
                    latency = np.maximum(latency, np.where(fired > 0, link_latency[links].sum(), 0))
        np.testing.assert_array_equal(work.phase_link_bits(g), bits)
        phases = slice(work.phase_offsets[g], work.phase_offsets[g + 1])
        np.testing.assert_array_equal(work.phase_latency_ps[phases], latency)
    assert work.counts[("chip_link", "bit")] > 0
