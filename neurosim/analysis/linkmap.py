"""The link-utilisation map: the network drawn with networkx, each link coloured by its busy
fraction and each compute node by its unit's utilisation.

A single-chip system is one panel; a multi-chip system gets one panel per chip (the
`MAX_CHIP_PANELS` busiest when there are more) plus one panel of the chip links, with
each chip coloured by the mean utilisation of its units. Busy fractions are the run's
`utilization` (busy time / simulated time), looked up by each resource's display name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.colors import ListedColormap, Normalize  # noqa: E402

from neurosim.architecture import Architecture  # noqa: E402
from neurosim.components.routing import CHIP_LINK  # noqa: E402
from neurosim.resources import Resource  # noqa: E402
from neurosim.results.record import Result  # noqa: E402
from neurosim.simulate.run import routing_for  # noqa: E402

MAX_CHIP_PANELS = 8
# busy links from light orange to dark red, so that a lightly used link still shows
LINK_CMAP = ListedColormap(plt.get_cmap("YlOrRd")(np.linspace(0.25, 1.0, 256)), "busy_links")
UNIT_CMAP = "Blues"
IDLE_LINK = "0.85"


@dataclass(frozen=True)
class Figure:
    """A written picture and the titles of its panels."""

    path: Path
    panels: tuple[str, ...]


def _node_size(nodes: int) -> float:
    """Marker area for a panel of `nodes` nodes: smaller when there are many."""
    return min(220.0, 9000.0 / max(nodes, 1))


def _pct(x: float) -> str:
    """A busy percentage, with a decimal when it is small."""
    return f"{x:.0f} %" if x >= 10 else f"{x:.1f} %"


def _draw_links(ax, pos, edges, busy_pct, width_scale: float = 2.5) -> None:
    """Directed links: idle ones thin and grey, busy ones coloured by busy %."""
    graph = nx.DiGraph()
    graph.add_nodes_from(pos)
    graph.add_edges_from(edges)
    idle = [e for e, b in zip(edges, busy_pct, strict=True) if b <= 0]
    busy = [(e, b) for e, b in zip(edges, busy_pct, strict=True) if b > 0]
    style = "arc3,rad=0.12"
    size = _node_size(len(pos))
    if idle:
        nx.draw_networkx_edges(
            graph, pos, edgelist=idle, ax=ax, edge_color=IDLE_LINK, width=0.5,
            arrows=True, arrowsize=5, connectionstyle=style, node_size=size,
        )
    if busy:
        busy.sort(key=lambda eb: eb[1])  # hottest drawn last, on top
        nx.draw_networkx_edges(
            graph, pos, edgelist=[e for e, _ in busy], ax=ax,
            edge_color=[b for _, b in busy], edge_cmap=LINK_CMAP,
            edge_vmin=0.0, edge_vmax=100.0,
            width=[0.8 + width_scale * b / 100 for _, b in busy],
            arrows=True, arrowsize=7, connectionstyle=style, node_size=size,
        )


def _draw_nodes(ax, pos, unit_busy: dict[int, float], marks: dict[int, str]) -> None:
    """Compute nodes coloured by their unit's busy %; memory controllers and gateways
    as labelled squares; other routers as small grey dots."""
    graph = nx.Graph()
    graph.add_nodes_from(pos)
    size = _node_size(len(pos))
    units = sorted(unit_busy)
    if units:
        nx.draw_networkx_nodes(
            graph, pos, nodelist=units, ax=ax, node_color=[unit_busy[n] for n in units],
            cmap=plt.get_cmap(UNIT_CMAP), vmin=0.0, vmax=100.0, node_size=size,
            edgecolors="0.3", linewidths=0.6,
        )
    marked = [n for n in marks if n not in unit_busy]
    if marked:
        nx.draw_networkx_nodes(
            graph, pos, nodelist=marked, ax=ax, node_shape="s", node_color="0.55",
            node_size=size * 1.2, edgecolors="0.2",
        )
    rest = [n for n in pos if n not in unit_busy and n not in marks]
    if rest:
        nx.draw_networkx_nodes(
            graph, pos, nodelist=rest, ax=ax, node_color="0.75", node_size=size / 4
        )
    if len(pos) <= 36:
        labels = {n: marks.get(n, str(n)) for n in pos if n in marks or n in unit_busy}
        nx.draw_networkx_labels(graph, pos, labels=labels, ax=ax, font_size=6)


def link_map(result: Result, arch: Architecture, path: Path) -> Figure:
    """Draw `result`'s link and compute utilisation on `arch`'s topology; write a PNG."""
    chips = int(result.placement.get("chips", 1))
    routing = routing_for(arch, chips)
    util = result.utilization
    busy = np.array(
        [
            100.0 * util.get(Resource.link(a, b, chip=bool(c)).display, 0.0)
            for (a, b), c in zip(routing.links, routing.link_class == CHIP_LINK, strict=True)
        ]
    )
    units = int(result.placement.get("compute_units", arch.compute.count * chips))
    unit_busy = np.array([100.0 * util.get(Resource.compute(u).display, 0.0) for u in range(units)])
    heading = (
        f"{result.architecture} x {result.workload}: link and compute utilisation\n"
        f"({result.fidelity}, {result.tokens} tokens; bottleneck {result.bottleneck}"
    )
    return draw_link_map(arch, chips, busy, unit_busy, heading, path)


def draw_link_map(
    arch: Architecture,
    chips: int,
    busy: np.ndarray,
    unit_busy: np.ndarray,
    heading: str,
    path: Path,
    unit_label: str = "compute unit busy (% of simulated time)",
) -> Figure:
    """Draw links busy `busy` % (by link of `routing_for(arch, chips)`) and compute units
    busy `unit_busy` % (unit u on chip u // compute.count); `heading` ends in an open
    parenthesis the chip note closes."""
    routing = routing_for(arch, chips)
    per_chip = routing.per_chip
    link_src = np.array([a for a, _ in routing.links], dtype=np.int64)
    link_dst = np.array([b for _, b in routing.links], dtype=np.int64)
    is_chip = routing.link_class == CHIP_LINK
    count = arch.compute.count
    core_nodes = arch.core_nodes
    units = unit_busy.size
    unit_chip = np.arange(units) // count
    unit_node = np.array([core_nodes[u % count] for u in range(units)], dtype=np.int64)

    topo = arch.interconnect.topology
    pos = topo.positions()
    marks = {ch.attach_node: f"{ch.name}" for ch in arch.dram_channels}
    if chips > 1 and arch.chips is not None:
        marks.setdefault(arch.chips.gateway_node, "gw")

    onchip_chip = link_src // per_chip
    slots = routing.chips  # chip positions of the layout (a mesh may have spare ones)
    score = np.zeros(slots)
    np.maximum.at(score, onchip_chip[~is_chip], busy[~is_chip])
    np.maximum.at(score, unit_chip, unit_busy)
    shown = np.sort(np.argsort(-score, kind="stable")[:MAX_CHIP_PANELS])
    panels: list[str] = []
    n_panels = len(shown) + (1 if chips > 1 else 0)
    cols = min(3, n_panels)
    rows = math.ceil(n_panels / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols + 1.6, 4.2 * rows + 0.8))
    axes = np.atleast_1d(axes).ravel()
    for ax, c in zip(axes, shown, strict=False):
        sel = np.flatnonzero(~is_chip & (onchip_chip == c))
        edges = [(int(link_src[i] % per_chip), int(link_dst[i] % per_chip)) for i in sel]
        _draw_links(ax, pos, edges, busy[sel].tolist())
        mine = np.flatnonzero(unit_chip == c)
        _draw_nodes(ax, pos, {int(unit_node[u]): float(unit_busy[u]) for u in mine}, marks)
        title = f"chip {c}" if chips > 1 else f"{topo.kind} NoC"
        title += (
            f": hottest link {_pct(busy[sel].max(initial=0.0))}, "
            f"busiest unit {_pct(unit_busy[mine].max(initial=0.0))}"
        )
        ax.set_title(title, fontsize=9)
        panels.append(title)
    if chips > 1:
        ax = axes[len(shown)]
        layout = arch.chips.topology
        cpos = routing.fabric.topology.positions()
        sel = np.flatnonzero(is_chip)
        edges = [(int(link_src[i] // per_chip), int(link_dst[i] // per_chip)) for i in sel]
        _draw_links(ax, cpos, edges, busy[sel].tolist(), width_scale=2.0)
        chip_mean = np.bincount(unit_chip, weights=unit_busy, minlength=slots) / np.maximum(
            np.bincount(unit_chip, minlength=slots), 1
        )
        _draw_nodes(ax, cpos, {c: float(chip_mean[c]) for c in range(chips)}, {})
        title = f"chip links ({layout}, {chips} chips): hottest {_pct(busy[sel].max(initial=0.0))}"
        ax.set_title(title, fontsize=9)
        panels.append(title)
    for ax in axes:
        ax.set_axis_off()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    used = list(axes[:n_panels])
    fig.colorbar(
        ScalarMappable(Normalize(0, 100), LINK_CMAP), ax=used, shrink=0.8,
        label="link busy (% of simulated time)", pad=0.02,
    )
    fig.colorbar(
        ScalarMappable(Normalize(0, 100), plt.get_cmap(UNIT_CMAP)), ax=used, shrink=0.8,
        label=unit_label, pad=0.02,
    )
    more = f"; the {len(shown)} busiest of {chips} chips" if chips > len(shown) else ""
    if chips > 1:
        more += "; chip-link panel: each chip coloured by its units' mean busy %"
    fig.suptitle(f"{heading}{more})", fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Figure(path, tuple(panels))
