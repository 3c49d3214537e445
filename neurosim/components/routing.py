"""Routes of a system of identical chips, composed on demand from two templates.

Nodes are integers. Links are directed (one per direction) and numbered in sorted
(source node, target node) order. Routing is deterministic and belongs to each topology
kind (`components.topologies`): dimension order (X then Y) on a mesh, the shorter way
round a ring (ties clockwise), one hop on a crossbar. A multi-chip system repeats the
on-chip topology once per chip (node = chip x nodes_per_chip + local node) and joins
the chips' gateway nodes by chip-to-chip links laid out in their own topology; a route
between chips goes source -> its gateway -> chip links -> gateway -> target.

Every chip is the same, so routes are worked out once per topology template (the chip's,
the chip-to-chip layout's), only for the pairs asked for, and a system route is its
pieces with their link ids mapped to the system's numbering. Nothing is stored per
(node, node) pair, so a system of hundreds of chips routes in milliseconds.
"""

from __future__ import annotations

import numpy as np

from neurosim.components.topologies import layout_for

ON_CHIP, CHIP_LINK = 0, 1


def chip_topology(kind: str, chips: int):
    """The topology joining `chips` chips: a ring, a crossbar, or a near-square mesh."""
    return layout_for(kind, chips)


def _segments(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For segments [starts[i], starts[i] + lengths[i]): (segment of each element, element)."""
    seg = np.repeat(np.arange(lengths.size), lengths)
    offsets = np.arange(seg.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return seg, np.repeat(starts, lengths) + offsets


class _Template:
    """One topology's links (sorted, numbered from 0) and its routes as link ids, each
    route worked out by the topology's own rule the first time it is asked for."""

    def __init__(self, topology) -> None:
        self.topology = topology
        self.nodes = topology.nodes
        links = sorted(set(topology.links()))
        self.src = np.array([a for a, _ in links], dtype=np.int64)
        self.dst = np.array([b for _, b in links], dtype=np.int64)
        self._index = {link: i for i, link in enumerate(links)}
        self._routes: dict[int, np.ndarray] = {}

    @property
    def n_links(self) -> int:
        """Number of directed links."""
        return self.src.size

    def route(self, src: int, dst: int) -> np.ndarray:
        """Link ids of the route src->dst, in travel order (empty when src == dst)."""
        key = src * self.nodes + dst
        links = self._routes.get(key)
        if links is None:
            nodes = [src] if src == dst else self.topology.route(src, dst)
            hops = zip(nodes, nodes[1:], strict=False)
            links = np.array([self._index[hop] for hop in hops], dtype=np.int64)
            self._routes[key] = links
        return links

    def gather(self, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Links of the routes of all pairs (src[i], dst[i]) at once: (pair i, link id)."""
        keys = src * self.nodes + dst
        uniq, inverse = np.unique(keys, return_inverse=True)
        routes = [self.route(int(k) // self.nodes, int(k) % self.nodes) for k in uniq]
        lengths = np.array([r.size for r in routes], dtype=np.int64)
        flat = np.concatenate([np.zeros(0, dtype=np.int64), *routes])
        starts = np.cumsum(lengths) - lengths
        pair, at = _segments(starts[inverse], lengths[inverse])
        return pair, flat[at]

    def hops(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Links on the route of each pair (src[i], dst[i])."""
        keys = src * self.nodes + dst
        uniq, inverse = np.unique(keys, return_inverse=True)
        lengths = [self.route(int(k) // self.nodes, int(k) % self.nodes).size for k in uniq]
        return np.array(lengths, dtype=np.int64)[inverse]


class Routing:
    """All links and routes of a (possibly multi-chip) network.

    `links[l]` is link l as (source node, target node), `link_class[l]` ON_CHIP or
    CHIP_LINK. Routes come from `route_links` (one pair) or `hop_counts`, `link_sums`
    and `multicast` (many pairs, vectorised); each is worked out when first asked for.
    """

    def __init__(self, topology, chip_topology=None, gateway: int = 0) -> None:
        self.chip = _Template(topology)
        self.fabric = _Template(chip_topology) if chip_topology is not None else None
        self.per_chip = topology.nodes
        self.chips = chip_topology.nodes if chip_topology is not None else 1
        self.gateway = gateway
        self.n_nodes = self.per_chip * self.chips
        base = np.arange(self.chips, dtype=np.int64)[:, None] * self.per_chip
        src = [(base + self.chip.src).ravel()]
        dst = [(base + self.chip.dst).ravel()]
        if self.fabric is not None:
            src.append(self.fabric.src * self.per_chip + gateway)
            dst.append(self.fabric.dst * self.per_chip + gateway)
        src_all, dst_all = np.concatenate(src), np.concatenate(dst)
        order = np.argsort(src_all * self.n_nodes + dst_all, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        n_onchip = self.chips * self.chip.n_links
        self.onchip_id = rank[:n_onchip].reshape(self.chips, self.chip.n_links)
        self.chip_link_id = rank[n_onchip:]
        self.links: tuple[tuple[int, int], ...] = tuple(
            zip(src_all[order].tolist(), dst_all[order].tolist(), strict=True)
        )
        self.link_class = np.where(order >= n_onchip, CHIP_LINK, ON_CHIP).astype(np.int64)
        self._routes: dict[tuple[int, int], np.ndarray] = {}

    @property
    def n_links(self) -> int:
        """Number of directed links."""
        return len(self.links)

    def route_links(self, src: int, dst: int) -> np.ndarray:
        """Indices of the links on the route src->dst, in a fixed (sorted) order."""
        key = (int(src), int(dst))
        links = self._routes.get(key)
        if links is None:
            _, links = self._gather(np.array([key[0]]), np.array([key[1]]))
            links = np.sort(links)
            self._routes[key] = links
        return links

    def _gather(self, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Links of the routes of all pairs (src[i], dst[i]): (pair i, system link id)."""
        cs, ls = np.divmod(src, self.per_chip)
        cd, ld = np.divmod(dst, self.per_chip)
        near = np.flatnonzero(cs == cd)
        pair, local = self.chip.gather(ls[near], ld[near])
        pairs, ids = [near[pair]], [self.onchip_id[cs[near[pair]], local]]
        far = np.flatnonzero(cs != cd)
        if far.size:
            gw = np.full(far.size, self.gateway, dtype=np.int64)
            pair, local = self.chip.gather(ls[far], gw)  # up to the source's gateway
            pairs.append(far[pair])
            ids.append(self.onchip_id[cs[far[pair]], local])
            pair, hop = self.fabric.gather(cs[far], cd[far])  # chip to chip
            pairs.append(far[pair])
            ids.append(self.chip_link_id[hop])
            pair, local = self.chip.gather(gw, ld[far])  # down from the target's gateway
            pairs.append(far[pair])
            ids.append(self.onchip_id[cd[far[pair]], local])
        return np.concatenate(pairs), np.concatenate(ids)

    def hop_counts(self, src, dst) -> tuple[np.ndarray, np.ndarray]:
        """(links, chip-to-chip links) on the route of every pair; src and dst broadcast."""
        src, dst = np.broadcast_arrays(np.asarray(src, np.int64), np.asarray(dst, np.int64))
        shape = src.shape
        cs, ls = np.divmod(src.ravel(), self.per_chip)
        cd, ld = np.divmod(dst.ravel(), self.per_chip)
        hops = self.chip.hops(ls, ld)
        chip_hops = np.zeros_like(hops)
        far = np.flatnonzero(cs != cd)
        if far.size:
            gw = np.full(far.size, self.gateway, dtype=np.int64)
            chip_hops[far] = self.fabric.hops(cs[far], cd[far])
            hops[far] = self.chip.hops(ls[far], gw) + chip_hops[far] + self.chip.hops(gw, ld[far])
        return hops.reshape(shape), chip_hops.reshape(shape)

    def link_sums(self, pair_weights: np.ndarray) -> np.ndarray:
        """Per-link sum of `pair_weights[src * n + dst]` over the routes that use the link."""
        weights = np.asarray(pair_weights, dtype=np.float64)
        used = np.flatnonzero(weights)
        pair, links = self._gather(*np.divmod(used, self.n_nodes))
        return np.bincount(links, weights=weights[used][pair], minlength=self.n_links)

    def multicast(self, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """(sources, links) matrix: link use when each source sends to every other target.

        A route to a target on another chip is the same hops to the source's gateway, the
        chip-to-chip hops between the two chips and the same hops down from the target's
        gateway, so those three parts are counted once per source chip, chip pair and
        target rather than once per (source, target) pair.
        """
        sources = np.asarray(sources, dtype=np.int64)
        targets = np.asarray(targets, dtype=np.int64)
        n_links, P = self.n_links, self.per_chip
        cs, ls = np.divmod(sources, P)
        ct, lt = np.divmod(targets, P)
        src_chips, src_chip = np.unique(cs, return_inverse=True)  # chips with a source
        tgt_chips, tgt_per_chip = np.unique(ct, return_counts=True)  # chips with a target
        out = np.zeros((sources.size, n_links), dtype=np.int64)
        # targets on the source's own chip (a route to itself has no links)
        near_s, near_t = np.nonzero(cs[:, None] == ct[None, :])
        pair, local = self.chip.gather(ls[near_s], lt[near_t])
        np.add.at(out, (near_s[pair], self.onchip_id[cs[near_s[pair]], local]), 1)
        if self.fabric is None:
            return out
        # up to the gateway, once per target elsewhere
        far_count = targets.size - np.bincount(ct, minlength=self.chips)[cs]
        gw = np.full(sources.size, self.gateway, dtype=np.int64)
        pair, local = self.chip.gather(ls, gw)
        np.add.at(out, (pair, self.onchip_id[cs[pair], local]), far_count[pair])
        by_chip = np.zeros((src_chips.size, n_links), dtype=np.int64)
        # chip to chip, once per target on the far chip
        a = np.repeat(src_chips, tgt_chips.size)
        b = np.tile(tgt_chips, src_chips.size)
        weight = np.tile(tgt_per_chip, src_chips.size)
        pair, hop = self.fabric.gather(a, b)
        np.add.at(by_chip, (pair // tgt_chips.size, self.chip_link_id[hop]), weight[pair])
        # down from the far gateway to every target, less the targets on the source's chip
        pair, local = self.chip.gather(np.full(targets.size, self.gateway, np.int64), lt)
        down = self.onchip_id[ct[pair], local]
        by_chip += np.bincount(down, minlength=n_links)
        row_of_chip = np.full(self.chips, -1, dtype=np.int64)
        row_of_chip[src_chips] = np.arange(src_chips.size)
        home = row_of_chip[ct[pair]]
        np.add.at(by_chip, (home[home >= 0], down[home >= 0]), -1)
        return out + by_chip[src_chip]


def build_routing(topology, chip_topology=None, gateway: int = 0) -> Routing:
    """Routes between nodes of one chip, or of one chip per `chip_topology` node."""
    return Routing(topology, chip_topology, gateway)
