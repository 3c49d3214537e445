"""Run a workload on an architecture at either fidelity and summarise it as a Result."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from neurosim.architecture import Architecture
from neurosim.components.routing import build_routing, chip_topology
from neurosim.config.workload import Workload
from neurosim.engine import ps_to_seconds, seconds_to_ps
from neurosim.errors import SimulationError
from neurosim.ledger import Ledger
from neurosim.mapping.placement import Placement, place
from neurosim.resources import Resource
from neurosim.results.metrics import RunTotals
from neurosim.results.pricing import EnergyBreakdown, area_m2, price
from neurosim.results.record import Result, build_result
from neurosim.simulate.analytic import token_end_ps
from neurosim.simulate.build import build_system
from neurosim.simulate.busy import BusyMeter, TokenBusy
from neurosim.simulate.des import DesTokenRunner
from neurosim.simulate.timeline import TimelineRecorder
from neurosim.simulate.work import TokenWork, WorkPlanner
from neurosim.workload.model import ModelGraph, build_model_graph
from neurosim.workload.spikes import SpikeSource, SyntheticSpikeSource, TokenSpikes

FIDELITIES = ("analytic", "des")


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run: `result` summarises the tokens finished before it."""

    def __init__(self, result: Result, requested: int) -> None:
        super().__init__(f"interrupted after {result.tokens} of {requested} tokens")
        self.result = result
        self.requested = requested

    def __reduce__(self):
        return (type(self), (self.result, self.requested))


@dataclass
class Prepared:
    """Everything that depends on the configs but not on the tokens."""

    arch: Architecture
    workload: Workload
    graph: ModelGraph
    placement: Placement
    planner: WorkPlanner


def prepare(arch: Architecture, workload: Workload, arch_source: str | None = None) -> Prepared:
    """Build the model graph, the placement, the routes and the work planner."""
    graph = build_model_graph(workload)
    placement = place(arch, graph, source=arch_source)
    routing = routing_for(arch, placement.chips)
    planner = WorkPlanner(arch, graph, placement, routing)
    return Prepared(arch, workload, graph, placement, planner)


def routing_for(arch: Architecture, chips: int):
    """Routes of the whole system: the on-chip topology, once per chip, plus chip links."""
    if chips == 1 or arch.chips is None:
        return build_routing(arch.interconnect.topology)
    return build_routing(
        arch.interconnect.topology,
        chip_topology=chip_topology(arch.chips.topology, chips),
        gateway=arch.chips.gateway_node,
    )


@dataclass
class Accumulator:
    """Running totals over tokens, so memory does not grow with the token count."""

    latencies_ps: list[int]
    busy: dict[Resource, float] | None = None  # seconds per resource, filled in at the end
    spikes: int = 0
    synops: int = 0
    dram_read: dict[str, int] | None = None
    dram_write: dict[str, int] | None = None
    onchip_read: int = 0
    onchip_write: int = 0
    noc_bytes: int = 0
    chip_link_bytes: int = 0

    def add(self, work: TokenWork) -> None:
        """Fold one token's figures in."""
        self.spikes += work.spikes
        self.synops += work.synops
        if self.dram_read is None:
            self.dram_read = dict.fromkeys(work.dram_read_bytes, 0)
            self.dram_write = dict.fromkeys(work.dram_write_bytes, 0)
        for k, v in work.dram_read_bytes.items():
            self.dram_read[k] += v
        for k, v in work.dram_write_bytes.items():
            self.dram_write[k] += v
        self.onchip_read += work.onchip_read_bytes
        self.onchip_write += work.onchip_write_bytes
        self.noc_bytes += work.noc_bytes
        self.chip_link_bytes += work.chip_link_bytes


def busy_times(meter: BusyMeter, work: TokenWork) -> TokenBusy:
    """Busy time of each resource in one token (independent of contention)."""
    return meter.measure(work)


def drawn_ahead(tokens: Iterator[TokenSpikes]) -> Iterator[TokenSpikes]:
    """The same tokens in the same order, each drawn on a worker thread while the caller
    works on the one before (numpy's generators and the planning kernels release the GIL).
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(next, tokens, None)
        while (token := pending.result()) is not None:
            pending = pool.submit(next, tokens, None)
            yield token


def simulate(
    arch: Architecture,
    workload: Workload,
    n_tokens: int = 8,
    seed: int = 0,
    fidelity: str = "des",
    contention: bool = True,
    source: SpikeSource | None = None,
    progress=None,
    arch_source: str | None = None,
    prepared: Prepared | None = None,
    recorder: TimelineRecorder | None = None,
) -> Result:
    """Decode `n_tokens` tokens of `workload` on `arch`; return the summarised result.

    `prepared` is `prepare(arch, workload)` made earlier for these same configs (a sweep
    worker reuses it across seeds); it is never modified here. `recorder` (DES with
    contention only) records the first tokens' per-resource holds.
    """
    if n_tokens < 1:
        raise SimulationError(f"n_tokens must be at least 1; got {n_tokens}")
    if seed < 0:
        raise SimulationError(f"seed must be a non-negative integer; got {seed}")
    if fidelity not in FIDELITIES:
        raise ValueError(f"unknown fidelity {fidelity!r}; known: {', '.join(FIDELITIES)}")
    if recorder is not None and (fidelity != "des" or not contention):
        raise SimulationError(
            "a timeline needs the DES with contention: the analytic fidelity and a run "
            "without contention have no per-resource schedule (holds would overlap)"
        )
    wall0 = time.perf_counter()
    prep = prepared if prepared is not None else prepare(arch, workload, arch_source)
    overhead_ps = seconds_to_ps(arch.host.per_token_overhead_s)
    acc = Accumulator(latencies_ps=[])
    meter = BusyMeter(prep.planner)
    ledger = Ledger()
    src = source if source is not None else SyntheticSpikeSource(prep.graph, seed)
    tokens = drawn_ahead(iter(src.tokens(n_tokens)))
    events = 0
    interrupted = False
    if fidelity == "analytic":
        now = 0
        try:
            for tok in tokens:
                work = prep.planner.plan(tok)
                busy = busy_times(meter, work)
                end = token_end_ps(
                    work,
                    prep.placement,
                    now,
                    arch.mapping.sparse_weight_fetch,
                    len(arch.dram_channels),
                    floor_ps=busy.longest_ps() if contention else 0,
                    contention=contention,
                )
                # commit the finished token in one short step, so an interrupt keeps whole tokens
                acc.latencies_ps.append(end - now + overhead_ps)
                now = end + overhead_ps
                ledger.add_all(work.counts)
                acc.add(work)
                meter.add(busy)
                if progress:
                    progress(1)
        except KeyboardInterrupt:
            if not acc.latencies_ps:
                raise
            interrupted = True
        elapsed_ps = now
    else:
        system = build_system(arch, prep.planner, seed, contention)
        runner = DesTokenRunner(system, prep.planner, recorder)
        if recorder is not None:
            recorder.attach(system, prep.planner)
        env = system.ctx.env
        finished_ps = 0
        finished_counts: dict = {}
        try:
            for tok in tokens:
                work = prep.planner.plan(tok)
                busy = busy_times(meter, work)
                start = env.now
                if runner.recorder is not None:
                    runner.recorder.begin_step(start)
                proc = env.process(runner.token(work, floor_ps=busy.onchip if contention else 0))
                env.run(until=proc)
                if runner.recorder is not None and not runner.recorder.end_step(env.now):
                    runner.recorder.detach()  # the cap is reached: the rest runs unrecorded
                    runner.recorder = None
                if overhead_ps:
                    env.run(until=env.timeout(overhead_ps))
                acc.latencies_ps.append(env.now - start)
                acc.add(work)
                meter.add(busy)
                finished_ps = env.now
                finished_counts = dict(system.ctx.ledger.items())
                if progress:
                    progress(1)
        except KeyboardInterrupt:
            if not acc.latencies_ps:
                raise
            interrupted = True
        elapsed_ps = finished_ps
        ledger = Ledger()  # the finished tokens' counts, not those of a token cut short
        ledger.add_all(finished_counts)
        events = env.events_processed
    acc.busy = meter.seconds()
    elapsed_s = ps_to_seconds(elapsed_ps)
    energy = price(ledger.items(), arch, elapsed_s, chips=prep.placement.chips)
    result = summarise(
        prep=prep,
        options={
            "fidelity": fidelity,
            "contention": contention,
            "seed": seed,
            "tokens": len(acc.latencies_ps),
            "spikes": getattr(src, "label", type(src).__name__),
        },
        acc=acc,
        elapsed_s=elapsed_s,
        energy=energy,
        ledger=ledger,
        wall_s=time.perf_counter() - wall0,
        engine_events=events,
    )
    if interrupted:
        raise RunInterrupted(result, requested=n_tokens)
    return result


def summarise(
    *,
    prep: Prepared,
    options: dict,
    acc: Accumulator,
    elapsed_s: float,
    energy: EnergyBreakdown,
    ledger: Ledger,
    wall_s: float,
    engine_events: int,
) -> Result:
    """The Result of a chip run: its totals, traffic per memory level and placement."""
    arch, placement = prep.arch, prep.placement
    n = max(1, len(acc.latencies_ps))
    weight_bytes = float(placement.resident_weight_bytes + placement.streamed_weight_bytes)
    areas = area_m2(arch, placement.chips, placement.arrays)
    totals = RunTotals(
        latencies_s=[ps_to_seconds(x) for x in acc.latencies_ps],
        elapsed_s=elapsed_s,
        energy=energy,
        parameters=prep.graph.parameters,
        weight_bytes=weight_bytes,
        memory_footprint_bytes=weight_bytes + prep.graph.state_bytes,
        synops=acc.synops,
        spikes=acc.spikes,
        offchip_components=frozenset(f"dram.{ch.name}" for ch in arch.dram_channels),
        area_m2=areas,
    )
    traffic = {
        "dram_read": sum(acc.dram_read.values()) / n,
        "dram_write": sum(acc.dram_write.values()) / n,
        "onchip_read": acc.onchip_read / n,
        "onchip_write": acc.onchip_write / n,
        "noc": acc.noc_bytes / n,
        "chip_links": acc.chip_link_bytes / n,
    }
    for name, v in acc.dram_read.items():
        traffic[f"dram.{name}_read"] = v / n
    summary = placement.summary(arch)
    if areas:
        summary["area_m2"] = areas
    return build_result(
        arch=arch,
        workload=prep.workload,
        options=options,
        totals=totals,
        traffic_bytes_per_token=traffic,
        busy_s=acc.busy,
        ledger=ledger,
        placement=summary,
        wall_s=wall_s,
        engine_events=engine_events,
    )
