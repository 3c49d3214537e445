"""Interconnect topologies as networkx graphs, with deterministic routes.

Nodes are integers 0..n-1. Links are directed edges (one per direction), numbered in
a fixed order. Routing is deterministic: dimension order (X then Y) on a mesh, the
shorter way round on a ring (ties clockwise), one hop on a crossbar.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from neurosim.config.architecture import CrossbarTopology, MeshTopology, RingTopology


def build_graph(topology: MeshTopology | RingTopology | CrossbarTopology) -> nx.DiGraph:
    """A directed graph with one edge per link direction."""
    g = nx.DiGraph()
    g.add_nodes_from(range(topology.nodes))
    if isinstance(topology, MeshTopology):
        w, h = topology.width, topology.height
        for y in range(h):
            for x in range(w):
                n = y * w + x
                if x + 1 < w:
                    g.add_edge(n, n + 1)
                    g.add_edge(n + 1, n)
                if y + 1 < h:
                    g.add_edge(n, n + w)
                    g.add_edge(n + w, n)
    elif isinstance(topology, RingTopology):
        n = topology.size
        for i in range(n):
            g.add_edge(i, (i + 1) % n)
            g.add_edge((i + 1) % n, i)
    else:
        for i in range(topology.size):
            for j in range(topology.size):
                if i != j:
                    g.add_edge(i, j)
    return g


def _route_nodes(topology, src: int, dst: int) -> list[int]:
    """Node sequence from src to dst (inclusive) under the topology's routing rule."""
    if src == dst:
        return [src]
    if isinstance(topology, MeshTopology):
        w = topology.width
        x, y = src % w, src // w
        dx, dy = dst % w, dst // w
        path = [src]
        while x != dx:
            x += 1 if dx > x else -1
            path.append(y * w + x)
        while y != dy:
            y += 1 if dy > y else -1
            path.append(y * w + x)
        return path
    if isinstance(topology, RingTopology):
        n = topology.size
        forward = (dst - src) % n
        step = 1 if forward <= n - forward else -1
        path = [src]
        while path[-1] != dst:
            path.append((path[-1] + step) % n)
        return path
    return [src, dst]


@dataclass(frozen=True)
class Routing:
    """All routes of a topology, precomputed as arrays.

    `incidence[src, dst, link]` is 1 when the route src->dst uses the link;
    `hops[src, dst]` counts the links of that route.
    """

    graph: nx.DiGraph
    links: tuple[tuple[int, int], ...]
    incidence: np.ndarray
    hops: np.ndarray

    @property
    def n_links(self) -> int:
        """Number of directed links."""
        return len(self.links)

    def route_links(self, src: int, dst: int) -> np.ndarray:
        """Indices of the links on the route src->dst, in a fixed (sorted) order."""
        return np.flatnonzero(self.incidence[src, dst])


def build_routing(topology) -> Routing:
    """Precompute the route between every pair of nodes."""
    graph = build_graph(topology)
    links = tuple(sorted(graph.edges()))
    index = {link: i for i, link in enumerate(links)}
    n = topology.nodes
    incidence = np.zeros((n, n, len(links)), dtype=np.int64)
    hops = np.zeros((n, n), dtype=np.int64)
    for s in range(n):
        for d in range(n):
            path = _route_nodes(topology, s, d)
            for a, b in zip(path, path[1:], strict=False):
                if not graph.has_edge(a, b):
                    raise ValueError(f"route {s}->{d} uses missing link {a}->{b}")
                incidence[s, d, index[(a, b)]] = 1
            hops[s, d] = len(path) - 1
    return Routing(graph=graph, links=links, incidence=incidence, hops=hops)
