"""Cost of an imported spiking network on a neuromorphic chip, timestep by timestep.

From the functional raster and the placement, every timestep (a bulk-synchronous tick):

1. compute: each core processes the synaptic events of the spikes that reach it and
   updates all its neurons (the preset's unit throughput, `compute.lanes` synops and
   `compute.neuron_updates_per_cycle` updates per cycle, shared by its
   `neuron_cores.cores_per_unit` cores), and spends `neuron_cores.spike_latency_s` per
   spike it generates, `message_out_latency_s` per message it sends and
   `message_in_latency_s` per message it receives; the slowest core sets the phase;
2. spikes: every active neuron sends one message per destination core (`multicast:
   none`) or one packet copied along the union of its dimension-order routes (`tree`);
   the busiest link's serialisation plus the longest route's latency set the phase;
   inputs are injected, and outputs read, at the host node (the chip's gateway);
3. synchronisation: the chip's barrier (`interconnect.barrier_s`), or the system's
   (`chips.barrier_s`) on several chips.

The timestep lasts the sum of the three. An analog chip (`neuron_cores.analog_speedup`,
BrainScaleS-2) instead emulates the network in continuous time: a timestep of dt lasts
dt / speedup, spikes are routed digitally meanwhile (the longer of the two), no barrier.

Events are counted on the same ledger as the LLM path and priced by `results.pricing`:
`compute/synop` per synaptic event, `compute/neuron_update` per neuron per timestep,
`neuron_core/spike`, `neuron_core/message_out` and `neuron_core/message_in` per spike
generated and message sent or received (multicast none: one message per destination
core; tree: one per spike, received once by every destination core), and
`interconnect/bit_hop` and `chip_link/bit` per message bit and link.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np

from neurosim.architecture import Architecture
from neurosim.components.interconnect import link_parameters, route_latency_ps
from neurosim.components.neuron_core import COMPONENT as SPIKE_COMPONENT
from neurosim.components.routing import CHIP_LINK, build_routing, chip_topology
from neurosim.engine import PS_PER_S
from neurosim.ledger import Ledger
from neurosim.mapping.snn_placement import SnnPlacement, _set_keys
from neurosim.results.metrics import RunTotals, metric_values
from neurosim.results.pricing import EnergyBreakdown, price
from neurosim.workload.nir_import import SnnNetwork
from neurosim.workload.snn_dynamics import Raster

__all__ = ["SnnRun", "cost_network"]

SNN_METRICS = (
    "energy_per_timestep_j",
    "latency_per_timestep_s",
    "synaptic_events_total",
    "spikes_total",
    "activation_sparsity",
    "dynamic_power_w",
    "static_power_w",
    "total_power_w",
)
"""Registry metrics that mean something for a spiking-network run."""


@dataclass
class SnnRun:
    """The cost of one spiking-network run."""

    architecture: str
    network: str
    timesteps: int
    chips: int
    latency_s: np.ndarray  # per timestep
    phases_s: dict[str, np.ndarray]  # compute, spikes, sync: per timestep
    ledger: Ledger
    energy: EnergyBreakdown
    metrics: dict[str, float]
    bottleneck: str
    layers: list[dict] = field(default_factory=list)
    link_utilisation_max: float = 0.0
    # the schedule behind the phases, for timelines: each core's busy time per timestep
    # by activity ((timesteps, cores) s each; an analog chip's cores emulate all along),
    # each link's spike serialisation ((timesteps, links) s)
    core_activity_s: dict[str, np.ndarray] = field(default_factory=dict)
    link_busy_s: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    links: list[tuple[int, int]] = field(default_factory=list)
    chip_links: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def elapsed_s(self) -> float:
        """The run's simulated time."""
        return float(self.latency_s.sum())

    @property
    def core_busy_s(self) -> np.ndarray:
        """Each core's busy time over the run (s)."""
        if not self.core_activity_s:
            return np.zeros(0)
        return sum(a.sum(axis=0) for a in self.core_activity_s.values())


@numba.njit(cache=True)
def _core_events(
    indptr_t, active, dest_ptr, dest_core, dest_syn, events, received
):  # pragma: no cover
    """events[t, core] += synapses reached on that core by the active neurons of step t;
    received[t, core] += messages (one per active neuron with synapses there)."""
    for t in range(indptr_t.size - 1):
        for a in range(indptr_t[t], indptr_t[t + 1]):
            j = active[a]
            for k in range(dest_ptr[j], dest_ptr[j + 1]):
                events[t, dest_core[k]] += dest_syn[k]
                received[t, dest_core[k]] += 1


@numba.njit(cache=True)
def _source_counts(
    indptr_t, active, core_of, messages, spiking, spikes, sent
):  # pragma: no cover
    """At each active neuron's core in step t: spikes[t, core] += 1 (spiking populations)
    and sent[t, core] += the messages the neuron sends."""
    for t in range(indptr_t.size - 1):
        for a in range(indptr_t[t], indptr_t[t + 1]):
            j = active[a]
            c = core_of[j]
            spikes[t, c] += spiking
            sent[t, c] += messages[j]


@numba.njit(cache=True)
def _link_loads(
    indptr_t, active, class_of, ptr, links, weight, latency, msgs, path
):  # pragma: no cover
    """msgs[t, link] += messages of the active neurons of step t; path[t]: longest route."""
    for t in range(indptr_t.size - 1):
        for a in range(indptr_t[t], indptr_t[t + 1]):
            c = class_of[active[a]]
            if c < 0:
                continue
            for k in range(ptr[c], ptr[c + 1]):
                msgs[t, links[k]] += weight[k]
            if latency[c] > path[t]:
                path[t] = latency[c]


class _Fabric:
    """Nodes, routes and link parameters of the chips the network occupies."""

    def __init__(self, arch: Architecture, placement: SnnPlacement) -> None:
        topo = arch.interconnect.topology
        self.per_chip = topo.nodes
        self.gateway = arch.chips.gateway_node if arch.chips is not None else 0
        between = None
        if placement.chips > 1:
            between = chip_topology(arch.chips.topology, placement.chips)
        self.routing = build_routing(topo, between, self.gateway)
        self.ps_per_bit, _ = link_parameters(arch, self.routing)
        self.arch = arch
        per_unit = arch.neuron_cores.cores_per_unit
        unit_nodes = np.asarray(arch.core_nodes, dtype=np.int64)
        c = np.arange(placement.cores)
        chip, local = np.divmod(c, placement.cores_per_chip)
        nodes = chip * self.per_chip + unit_nodes[local // per_unit]
        self.host_core = placement.cores  # a pseudo-core at the gateway of chip 0: the host
        self.node_of_core = np.append(nodes, self.gateway)


def _fan_out_classes(fabric, src_nodes, ptr, dest, tree: bool):
    """Group a population's neurons by (source node, destination cores): class of each
    neuron (-1: sends nothing), each class's messages per link and route latency."""
    dest_nodes = fabric.node_of_core[dest] if dest.size else dest
    key_sets = _set_keys(ptr, dest_nodes * 4096 + 1) if dest.size else np.zeros(ptr.size - 1)
    sends = np.diff(ptr) > 0
    keys = np.stack([src_nodes, key_sets.astype(np.int64)], axis=1)
    class_of = np.full(ptr.size - 1, -1, dtype=np.int64)
    n_links = fabric.routing.n_links
    if not sends.any():
        return class_of, None, np.zeros(0)
    uniq, first, inverse = np.unique(keys[sends], axis=0, return_index=True, return_inverse=True)
    class_of[sends] = inverse.ravel()
    reps = np.flatnonzero(sends)[first]
    n_classes = reps.size
    # every (class, destination node) with the cores it holds
    lengths = ptr[reps + 1] - ptr[reps]
    cls = np.repeat(np.arange(n_classes), lengths)
    at = (
        np.repeat(ptr[reps], lengths)
        + np.arange(lengths.sum())
        - np.repeat(np.cumsum(lengths) - lengths, lengths)
    )
    pairs, copies = np.unique(np.stack([cls, dest_nodes[at]], axis=1), axis=0, return_counts=True)
    cls, dst = pairs[:, 0], pairs[:, 1]
    src = src_nodes[reps][cls]
    node_pairs, which = np.unique(np.stack([src, dst], axis=1), axis=0, return_inverse=True)
    which = which.ravel()
    pair_latency = route_latency_ps(fabric.arch, fabric.routing, node_pairs[:, 0], node_pairs[:, 1])
    latency = np.zeros(n_classes)
    np.maximum.at(latency, cls, pair_latency[which].astype(np.float64))
    routes = [fabric.routing.route_links(a, b) for a, b in node_pairs.tolist()]
    sizes = np.array([r.size for r in routes], dtype=np.int64)
    route_links = np.concatenate(routes) if routes else np.zeros(0, np.int64)
    starts = np.cumsum(sizes) - sizes
    n_hops = sizes[which]
    row = np.repeat(cls, n_hops)
    link = route_links[
        np.repeat(starts[which], n_hops)
        + np.arange(n_hops.sum())
        - np.repeat(np.cumsum(n_hops) - n_hops, n_hops)
    ]
    weight = np.ones(row.size) if tree else np.repeat(copies, n_hops).astype(np.float64)
    keys, at = np.unique(row * n_links + link, return_inverse=True)
    per_key = np.ones(keys.size) if tree else np.bincount(at.ravel(), weights=weight)
    rows, links = np.divmod(keys, n_links)
    ptr = np.zeros(n_classes + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_classes), out=ptr[1:])
    return class_of, (ptr, links, per_key), latency


def cost_network(
    arch: Architecture, net: SnnNetwork, raster: Raster, placement: SnnPlacement
) -> SnnRun:
    """Time and energy of every timestep of `raster` on `arch` as placed."""
    limits = arch.neuron_cores
    T = raster.timesteps
    fabric = _Fabric(arch, placement)
    tree = limits.multicast == "tree"
    bits = arch.interconnect.spike_message_bits
    events = np.zeros((T, placement.cores), dtype=np.int64)
    spikes_out = np.zeros((T, placement.cores), dtype=np.int64)
    sent = np.zeros((T, placement.cores), dtype=np.int64)
    received = np.zeros((T, placement.cores), dtype=np.int64)
    msgs = np.zeros((T, fabric.routing.n_links))
    path_ps = np.zeros(T)
    host = fabric.gateway
    for i, pop in enumerate(net.populations):
        ptr, dest = placement.dest_indptr[i], placement.dest_core[i]
        if dest.size:
            _core_events(
                raster.indptr[i], raster.active[i], ptr, dest, placement.dest_synapses[i],
                events, received,
            )  # fmt: skip
        cores = placement.core_of[i]
        src_nodes = (
            np.full(pop.size, host, np.int64) if cores is None else fabric.node_of_core[cores]
        )
        reads_out = any(
            pr.source == i and net.populations[pr.target].kind == "output" for pr in net.projections
        )
        if reads_out and cores is not None:  # outputs go to the host as well
            ptr, dest = _with_host(ptr, dest, fabric.host_core)
        if cores is not None:
            fan_out = np.diff(ptr)
            messages = np.minimum(fan_out, 1) if tree else fan_out
            _source_counts(
                raster.indptr[i], raster.active[i], cores, messages, int(pop.spiking),
                spikes_out, sent,
            )  # fmt: skip
        class_of, links, latency = _fan_out_classes(fabric, src_nodes, ptr, dest, tree)
        if links is not None:
            _link_loads(
                raster.indptr[i], raster.active[i], class_of, *links, latency, msgs, path_ps
            )
    activity_s = core_activity_s(arch, events, placement, spikes_out, sent, received)
    core_s = sum(activity_s.values())
    compute_s = core_s.max(axis=1) if placement.cores else np.zeros(T)
    link_s = msgs * bits * fabric.ps_per_bit[None, :] / PS_PER_S
    spikes_s = (link_s.max(axis=1) if link_s.size else np.zeros(T)) + path_ps / PS_PER_S
    sync = arch.interconnect.barrier_s
    if placement.chips > 1 and arch.chips is not None and arch.chips.barrier_s > 0:
        sync = arch.chips.barrier_s
    sync_s = np.full(T, sync)
    if limits.analog_speedup is not None:  # analog: continuous time, accelerated
        compute_s = np.full(T, raster.dt / limits.analog_speedup)
        activity_s = {"analog emulation": np.repeat(compute_s[:, None], placement.cores, axis=1)}
        sync_s = np.zeros(T)
        latency = np.maximum(compute_s, spikes_s)
    else:
        latency = compute_s + spikes_s + sync_s
    elapsed = float(latency.sum())

    ledger = Ledger()
    placed_events = int(events.sum())
    ledger.add("compute", "synop", placed_events)
    ledger.add("compute", "neuron_update", int(placement.neurons.sum()) * T)
    ledger.add(SPIKE_COMPONENT, "spike", int(spikes_out.sum()))
    ledger.add(SPIKE_COMPONENT, "message_out", int(sent.sum()))
    ledger.add(SPIKE_COMPONENT, "message_in", int(received.sum()))
    chip_link = fabric.routing.link_class == CHIP_LINK
    on_chip_bits = float(msgs[:, ~chip_link].sum()) * bits
    ledger.add("interconnect", "bit_hop", round(on_chip_bits))
    if chip_link.any():
        ledger.add("chip_link", "bit", round(float(msgs[:, chip_link].sum()) * bits))
    energy = price(ledger.items(), arch, elapsed, chips=placement.chips)

    spikes = sum(
        int(raster.counts(i).sum()) for i, p in enumerate(net.populations) if p.spiking and p.placed
    )
    neurons = int(placement.neurons.sum())
    totals = RunTotals(
        latencies_s=latency.tolist(),
        elapsed_s=elapsed,
        energy=energy,
        parameters=float(net.synapses),
        weight_bytes=float(placement.synapses.sum()) * limits.synapse_bits / 8,
        memory_footprint_bytes=float(placement.synapses.sum()) * limits.synapse_bits / 8,
        synops=float(placed_events),
        spikes=float(spikes),
        timesteps=T,
        neuron_steps=float(neurons * T),
    )
    values = metric_values(totals)
    metrics = {k: values[k] for k in SNN_METRICS if k in values}
    phases = {"compute": compute_s, "spikes": spikes_s, "sync": sync_s}
    busiest_core = f"core {int(core_s.sum(axis=0).argmax())} (compute)"
    if limits.analog_speedup is not None:
        busiest_core = f"analog emulation (dt / {limits.analog_speedup:g})"
    busy = {
        busiest_core: float(compute_s.sum()),
        "spike traffic": float(spikes_s.sum()),
        "synchronisation": float(sync_s.sum()),
    }
    if link_s.size:
        lk = int(link_s.sum(axis=0).argmax())
        a, b = fabric.routing.links[lk]
        busy.pop("spike traffic")
        busy[f"link {a}->{b} (spike traffic)"] = float(spikes_s.sum())
    bottleneck = max(busy, key=busy.get)
    layers = []
    for i, p in enumerate(net.populations):
        if p.kind == "input":
            continue
        active = int(raster.counts(i).sum())
        layers.append(
            {
                "population": p.name,
                "kind": p.kind,
                "neurons": p.size,
                "cores": int(np.unique(placement.core_of[i]).size) if p.placed else 0,
                "active_per_timestep": active / T,
                "activation_sparsity": 1.0 - active / (p.size * T),
            }
        )
    link_util = float(link_s.sum(axis=0).max() / elapsed) if link_s.size and elapsed else 0.0
    return SnnRun(
        architecture=arch.name,
        network=net.name,
        timesteps=T,
        chips=placement.chips,
        latency_s=latency,
        phases_s=phases,
        ledger=ledger,
        energy=energy,
        metrics=metrics,
        bottleneck=bottleneck,
        layers=layers,
        link_utilisation_max=link_util,
        core_activity_s=activity_s,
        link_busy_s=link_s,
        links=fabric.routing.links,
        chip_links=chip_link,
    )


def core_activity_s(
    arch: Architecture,
    events: np.ndarray,
    placement: SnnPlacement,
    spikes_out: np.ndarray | None = None,
    sent: np.ndarray | None = None,
    received: np.ndarray | None = None,
):
    """Each core's busy time per timestep, by activity: {activity: (timesteps, cores) s}.

    A digital core processes its synaptic events, then updates its neurons, at its share
    of the unit's rates, then spends the preset's per-spike and per-message latencies on
    the spikes it generated and the messages it sent and received; the timestep's compute
    phase lasts the slowest core's sum. The one place per-core work is timed, so timelines
    show what the cost counts."""
    cfg, limits = arch.compute, arch.neuron_cores
    cycle_s = 1.0 / cfg.clock_hz
    per_core_lanes = cfg.lanes / limits.cores_per_unit
    per_core_updates = cfg.neuron_updates_per_cycle / limits.cores_per_unit
    activity = {
        "synaptic events": events / per_core_lanes * cycle_s,
        "neuron updates": np.broadcast_to(
            placement.neurons[None, :] / per_core_updates * cycle_s, events.shape
        ),
    }
    if spikes_out is not None:
        messages_s = limits.spike_busy_s(spikes_out, sent, received)
        if np.any(messages_s):
            activity["spikes and messages"] = messages_s
    return activity


def _with_host(ptr: np.ndarray, dest: np.ndarray, host: int):
    """Every neuron's destinations plus the host pseudo-core."""
    n = ptr.size - 1
    new_ptr = ptr + np.arange(n + 1)
    out = np.empty(dest.size + n, dtype=np.int64)
    is_host = np.zeros(out.size, dtype=bool)
    is_host[new_ptr[1:] - 1] = True
    out[is_host] = host
    out[~is_host] = dest
    return new_ptr, out
