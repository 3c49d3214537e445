"""Interconnect topologies as networkx graphs, with deterministic routes.

Nodes are integers. Links are directed edges (one per direction), numbered in a fixed
order. Routing is deterministic: dimension order (X then Y) on a mesh, the shorter way
round on a ring (ties clockwise), one hop on a crossbar. A multi-chip system repeats
the on-chip topology once per chip (node = chip x nodes_per_chip + local node) and
joins the chips' gateway nodes by chip-to-chip links laid out in their own topology;
a route between chips goes source -> its gateway -> chip links -> gateway -> target.
Routes are stored compactly (CSR over node pairs), so thousands of nodes stay cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from neurosim.components.topologies import layout_for

ON_CHIP, CHIP_LINK = 0, 1


def build_graph(topology) -> nx.DiGraph:
    """A directed graph with one edge per link direction."""
    g = nx.DiGraph()
    g.add_nodes_from(range(topology.nodes))
    g.add_edges_from(topology.links())
    return g


def route_nodes(topology, src: int, dst: int) -> list[int]:
    """Node sequence from src to dst (inclusive) under the topology's routing rule."""
    return [src] if src == dst else topology.route(src, dst)


def chip_topology(kind: str, chips: int):
    """The topology joining `chips` chips: a ring, a crossbar, or a near-square mesh."""
    return layout_for(kind, chips)


@dataclass(frozen=True)
class Routing:
    """All routes of a (possibly multi-chip) network, precomputed as arrays.

    The links of the route src->dst are `indices[indptr[p]:indptr[p+1]]` with
    p = src * n_nodes + dst; `hops[src, dst]` counts them and `chip_hops[src, dst]`
    counts the chip-to-chip links among them; `link_class[l]` is ON_CHIP or CHIP_LINK.
    """

    n_nodes: int
    links: tuple[tuple[int, int], ...]
    link_class: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    hops: np.ndarray
    chip_hops: np.ndarray

    @property
    def n_links(self) -> int:
        """Number of directed links."""
        return len(self.links)

    def route_links(self, src: int, dst: int) -> np.ndarray:
        """Indices of the links on the route src->dst, in a fixed (sorted) order."""
        p = src * self.n_nodes + dst
        return self.indices[self.indptr[p] : self.indptr[p + 1]]

    def link_sums(self, pair_weights: np.ndarray) -> np.ndarray:
        """Per-link sum of `pair_weights[src * n + dst]` over the routes that use the link."""
        lengths = np.diff(self.indptr)
        weights = np.repeat(np.asarray(pair_weights, dtype=np.float64), lengths)
        return np.bincount(self.indices, weights=weights, minlength=self.n_links)

    def multicast(self, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """(sources, links) matrix: link use when each source sends to every other target."""
        out = np.zeros((len(sources), self.n_links), dtype=np.int64)
        for i, s in enumerate(sources):
            for d in targets:
                if d != s:
                    out[i, self.route_links(int(s), int(d))] += 1
        return out


def build_routing(
    topology, chip_topology=None, gateway: int = 0, endpoints: np.ndarray | None = None
) -> Routing:
    """Precompute routes between nodes of one chip, or of one chip per `chip_topology` node.

    With `endpoints`, only routes between those nodes are computed (others stay empty);
    a system of many chips needs only the routes between its units and controllers.
    """
    local = build_graph(topology)
    per_chip = topology.nodes
    chips = chip_topology.nodes if chip_topology is not None else 1
    n = per_chip * chips
    edges: list[tuple[int, int, int]] = []
    for c in range(chips):
        base = c * per_chip
        edges += [(base + a, base + b, ON_CHIP) for a, b in local.edges()]
    if chips > 1:
        chip_graph = build_graph(chip_topology)
        edges += [
            (a * per_chip + gateway, b * per_chip + gateway, CHIP_LINK)
            for a, b in chip_graph.edges()
        ]
    edges.sort()
    links = tuple((a, b) for a, b, _ in edges)
    link_class = np.array([k for _, _, k in edges], dtype=np.int64)
    index = {link: i for i, link in enumerate(links)}

    def path(src: int, dst: int) -> list[int]:
        cs, ls = divmod(src, per_chip)
        cd, ld = divmod(dst, per_chip)
        if cs == cd:
            return [cs * per_chip + x for x in route_nodes(topology, ls, ld)]
        out = [cs * per_chip + x for x in route_nodes(topology, ls, gateway)]
        out += [c * per_chip + gateway for c in route_nodes(chip_topology, cs, cd)[1:]]
        out += [cd * per_chip + x for x in route_nodes(topology, gateway, ld)[1:]]
        return out

    ends = np.arange(n) if endpoints is None else np.unique(np.asarray(endpoints))
    lengths = np.zeros(n * n, dtype=np.int64)
    indices: list[int] = []
    hops = np.zeros((n, n), dtype=np.int64)
    chip_hops = np.zeros((n, n), dtype=np.int64)
    for s in ends:
        for d in ends:
            nodes = path(int(s), int(d))
            route = sorted(index[(a, b)] for a, b in zip(nodes, nodes[1:], strict=False))
            indices += route
            lengths[s * n + d] = len(route)
            hops[s, d] = len(route)
            chip_hops[s, d] = int(link_class[route].sum()) if route else 0
    indptr = np.concatenate(([0], np.cumsum(lengths)))
    return Routing(
        n_nodes=n,
        links=links,
        link_class=link_class,
        indptr=indptr,
        indices=np.array(indices, dtype=np.int64),
        hops=hops,
        chip_hops=chip_hops,
    )
