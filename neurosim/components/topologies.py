"""Network topology kinds: each owns its config, its links and its routing rule.

`TOPOLOGIES` maps every `kind` to its class; chip-to-chip layouts are built from the
same classes (`layout_for`). Nodes are integers; links are directed (one per direction).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field

from neurosim.config.base import StrictModel


def circle_positions(nodes: int) -> dict[int, tuple[float, float]]:
    """`nodes` points clockwise round the unit circle, node 0 at the top (for drawing)."""
    return {
        n: (math.cos(math.pi / 2 - 2 * math.pi * n / nodes),
            math.sin(math.pi / 2 - 2 * math.pi * n / nodes))
        for n in range(nodes)
    }


class MeshTopology(StrictModel):
    """2-D mesh with dimension-order (X then Y) routing."""

    kind: Literal["mesh"] = "mesh"
    width: int = Field(gt=0, description="routers per row")
    height: int = Field(gt=0, description="rows of routers")

    @property
    def nodes(self) -> int:
        """Number of routers."""
        return self.width * self.height

    def links(self) -> list[tuple[int, int]]:
        """Directed links between horizontal and vertical neighbours."""
        w, out = self.width, []
        for y in range(self.height):
            for x in range(w):
                n = y * w + x
                if x + 1 < w:
                    out += [(n, n + 1), (n + 1, n)]
                if y + 1 < self.height:
                    out += [(n, n + w), (n + w, n)]
        return out

    def route(self, src: int, dst: int) -> list[int]:
        """X first, then Y."""
        w = self.width
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

    def positions(self) -> dict[int, tuple[float, float]]:
        """Where to draw each node: the grid, row 0 on top."""
        return {n: (float(n % self.width), -float(n // self.width)) for n in range(self.nodes)}

    @classmethod
    def for_nodes(cls, n: int) -> MeshTopology:
        """A mesh as square as possible holding `n` nodes."""
        width = math.ceil(math.sqrt(n))
        return cls(width=width, height=math.ceil(n / width))


class RingTopology(StrictModel):
    """Bidirectional ring; packets take the shorter direction (ties go clockwise)."""

    kind: Literal["ring"] = "ring"
    size: int = Field(gt=1, description="routers on the ring")

    @property
    def nodes(self) -> int:
        """Number of routers."""
        return self.size

    def links(self) -> list[tuple[int, int]]:
        """Both directions between ring neighbours."""
        n = self.size
        return [e for i in range(n) for e in ((i, (i + 1) % n), ((i + 1) % n, i))]

    def route(self, src: int, dst: int) -> list[int]:
        """The shorter way round; ties clockwise."""
        n = self.size
        forward = (dst - src) % n
        step = 1 if forward <= n - forward else -1
        path = [src]
        while path[-1] != dst:
            path.append((path[-1] + step) % n)
        return path

    def positions(self) -> dict[int, tuple[float, float]]:
        """Where to draw each node: clockwise round a circle from the top."""
        return circle_positions(self.nodes)

    @classmethod
    def for_nodes(cls, n: int) -> RingTopology:
        """A ring of `n` nodes."""
        return cls(size=n)


class CrossbarTopology(StrictModel):
    """Full crossbar: every node reaches every other in one hop."""

    kind: Literal["crossbar"] = "crossbar"
    size: int = Field(gt=1, description="ports")

    @property
    def nodes(self) -> int:
        """Number of ports."""
        return self.size

    def links(self) -> list[tuple[int, int]]:
        """One link per ordered pair of ports."""
        return [(i, j) for i in range(self.size) for j in range(self.size) if i != j]

    def route(self, src: int, dst: int) -> list[int]:
        """One hop."""
        return [src, dst]

    def positions(self) -> dict[int, tuple[float, float]]:
        """Where to draw each port: clockwise round a circle from the top."""
        return circle_positions(self.nodes)

    @classmethod
    def for_nodes(cls, n: int) -> CrossbarTopology:
        """A crossbar of `n` ports."""
        return cls(size=n)


TOPOLOGIES: dict[str, type[MeshTopology | RingTopology | CrossbarTopology]] = {
    "mesh": MeshTopology,
    "ring": RingTopology,
    "crossbar": CrossbarTopology,
}

Topology = Annotated[MeshTopology | RingTopology | CrossbarTopology, Field(discriminator="kind")]


def layout_for(kind: str, nodes: int) -> MeshTopology | RingTopology | CrossbarTopology:
    """The `kind` topology joining `nodes` nodes; an unknown kind is an error."""
    if kind not in TOPOLOGIES:
        raise ValueError(f"unknown topology kind {kind!r}; known kinds: {sorted(TOPOLOGIES)}")
    if kind != "mesh" and nodes < 2:
        raise ValueError(f"a {kind} of chips needs at least 2 chips")
    return TOPOLOGIES[kind].for_nodes(nodes)
