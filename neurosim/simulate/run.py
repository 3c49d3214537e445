"""Run a workload on an architecture at either fidelity and summarise it as a Result."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from neurosim.architecture import Architecture
from neurosim.components.host import HostWork, TokenShape, host_work
from neurosim.components.routing import build_routing, chip_topology
from neurosim.config.workload import Workload
from neurosim.engine import ps_to_seconds, seconds_to_ps, young_objects_only
from neurosim.errors import CapabilityError, SimulationError, UsageError
from neurosim.ledger import Ledger
from neurosim.mapping.kv import KvPlacement, place_kv
from neurosim.mapping.placement import Placement, place
from neurosim.resources import Resource
from neurosim.results.metrics import RunTotals
from neurosim.results.pricing import EnergyBreakdown, area_m2, price, price_table
from neurosim.results.record import Result, build_result
from neurosim.simulate.analytic import token_end_ps
from neurosim.simulate.build import build_system
from neurosim.simulate.busy import BusyMeter, TokenBusy
from neurosim.simulate.des import DesTokenRunner
from neurosim.simulate.learning import WeightUpdates
from neurosim.simulate.timeline import TimelineRecorder
from neurosim.simulate.work import TokenWork, WorkPlanner
from neurosim.workload.attention import kv_shape
from neurosim.workload.model import ModelGraph, build_model_graph
from neurosim.workload.spikes import (
    SpikeSource,
    SyntheticSpikeSource,
    TokenSpikes,
    synthetic_label,
)

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
    host: HostWork
    batch: int = 1


def prepare(
    arch: Architecture,
    workload: Workload,
    arch_source: str | None = None,
    graph: ModelGraph | None = None,
    batch: int = 1,
) -> Prepared:
    """Build the model graph (unless given), the placement (recurrent state for `batch`
    sequences), the routes, the work planner and the host's share of every token."""
    if graph is None:
        graph = build_model_graph(workload, head_on_host="lm_head" in arch.host.runs)
    placement = place(arch, graph, source=arch_source, sequences=batch)
    routing = routing_for(arch, placement.chips)
    planner = WorkPlanner(arch, graph, placement, routing)
    host = host_work_of(arch, graph)
    return Prepared(arch, workload, graph, placement, planner, host, batch)


def host_work_of(arch: Architecture, graph: ModelGraph) -> HostWork:
    """What the host and its link add to every token of `graph` on `arch`."""
    wl = graph.workload
    head = graph.host_head or graph.groups[-1].linears[0]
    shape = TokenShape(
        embedding_row_bytes=graph.embedding_row_bytes,
        head_in_features=wl.head.site.width,
        head_in_levels=wl.head.site.levels,
        head_weights=head.weights,
        head_weight_bytes=head.weight_bytes,
        vocab=wl.head.out,
    )
    return host_work(arch.host, shape)


def kv_placement(
    prep: Prepared, tokens: int, files: str
) -> KvPlacement | None:
    """Where the KV cache of `tokens` tokens per sequence lives (None without softmax
    attention); CapabilityError, naming `files`, when the chip cannot run it."""
    shape = kv_shape(prep.workload)
    if shape is None:
        return None
    if prep.arch.attention_engine is None:
        raise CapabilityError(
            f"{files}: the workload runs softmax attention (blocks.attention, "
            "blocks.mixer_pattern or --attention), "
            f"but the architecture has no unit that can: {prep.arch.compute.kind} units have no "
            "multipliers or exponentials; describe the units that score, normalise and sum "
            "in an attention_engine section, or run the workload's linear attention"
        )
    state = prep.graph.state_bytes * prep.batch
    return place_kv(prep.arch, prep.placement, shape, tokens, prep.batch, state, files)


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

    latencies_ps: list[int]  # of each decode step
    busy: dict[Resource, float] | None = None  # seconds per resource, filled in at the end
    prefill_ps: int = 0
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

    def add_writes(self, writes, channel_names: list[str]) -> None:
        """Fold in the weight writes of a learning token (memory traffic they cause)."""
        for name, bits in zip(channel_names, writes.channel_bits.tolist(), strict=True):
            self.dram_write[name] += bits // 8
        self.onchip_write += writes.onchip_bits // 8


def busy_times(meter: BusyMeter, work: TokenWork) -> TokenBusy:
    """Busy time of each resource in one token (independent of contention)."""
    return meter.measure(work)


def drawn_ahead(make_tokens: Callable[[], Iterator[TokenSpikes]]) -> Iterator[TokenSpikes]:
    """The tokens `make_tokens()` yields, in order, each drawn on a worker thread while
    the caller works on the one before (numpy's generators and the planning kernels
    release the GIL). The worker starts at once: `make_tokens` (building a source) and
    the first draw overlap whatever the caller does before asking for the first token.
    """
    pool = ThreadPoolExecutor(max_workers=1)
    tokens = pool.submit(make_tokens)
    pending = pool.submit(lambda: next(tokens.result(), None))
    return _handed_over(pool, tokens, pending)


def _handed_over(pool: ThreadPoolExecutor, tokens, pending) -> Iterator[TokenSpikes]:
    """Yield the drawn tokens, asking for the next before handing one over."""
    with pool:
        while (token := pending.result()) is not None:
            pending = pool.submit(next, tokens.result(), None)
            yield token


MAX_SAMPLED_VECTORS = 16
"""Most token vectors of one step whose spikes are drawn and planned one by one; a larger
step (a long prompt, a big batch) plans this many and scales their work to the rest."""


@dataclass(frozen=True)
class Step:
    """One step of a run: `vectors` token vectors of `sequences` sequences processed
    together, each sequence having `context` tokens cached before it."""

    prefill: bool
    vectors: int
    sequences: int
    context: int


def run_steps(n_tokens: int, batch: int, prompt_tokens: int, context_tokens: int) -> list[Step]:
    """The prefill step (when there is a prompt), then one decode step per output token."""
    steps = []
    if prompt_tokens:
        steps.append(Step(True, prompt_tokens * batch, batch, context_tokens))
    first = context_tokens + prompt_tokens
    steps += [Step(False, batch, batch, first + i) for i in range(n_tokens)]
    return steps


def _step_tokens(tokens: Iterator[TokenSpikes], step: Step) -> list[TokenSpikes]:
    """The spikes drawn for one step (at most MAX_SAMPLED_VECTORS vectors)."""
    drawn = []
    for _ in range(min(step.vectors, MAX_SAMPLED_VECTORS)):
        tok = next(tokens, None)
        if tok is None:
            break
        drawn.append(tok)
    if not drawn:
        raise SimulationError("the spike source ran out of tokens")
    return drawn


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
    *,
    batch: int = 1,
    prompt_tokens: int = 0,
    context_tokens: int | None = None,
    workload_source: str | None = None,
    recorder: TimelineRecorder | None = None,
) -> Result:
    """Decode `n_tokens` tokens for each of `batch` sequences of `workload` on `arch`, after
    a prefill of `prompt_tokens` prompt tokens (0: none), with `context_tokens` tokens
    already cached (None: the workload's); return the summarised result.

    `prepared` is `prepare(arch, workload, batch=batch)` made earlier for these same
    configs (a sweep worker reuses it across seeds); it is never modified here.
    `recorder` (DES with contention only) records the first tokens' per-resource holds.
    """
    if n_tokens < 1:
        raise SimulationError(f"n_tokens must be at least 1; got {n_tokens}")
    if seed < 0:
        raise SimulationError(f"seed must be a non-negative integer; got {seed}")
    if batch < 1 or prompt_tokens < 0 or (context_tokens is not None and context_tokens < 0):
        raise SimulationError(
            f"batch must be at least 1 and prompt and context tokens at least 0; got batch "
            f"{batch}, prompt {prompt_tokens}, context {context_tokens}"
        )
    if fidelity not in FIDELITIES:
        raise ValueError(f"unknown fidelity {fidelity!r}; known: {', '.join(FIDELITIES)}")
    if recorder is not None and (fidelity != "des" or not contention):
        raise SimulationError(
            "a timeline needs the DES with contention: the analytic fidelity and a run "
            "without contention have no per-resource schedule (holds would overlap)"
        )
    wall0 = time.perf_counter()
    if prepared is not None and prepared.batch == batch:
        graph = prepared.graph
    else:
        prepared = None
        graph = build_model_graph(workload, head_on_host="lm_head" in arch.host.runs)
    context0 = workload.context_tokens if context_tokens is None else context_tokens
    steps = run_steps(n_tokens, batch, prompt_tokens, context0)
    drawn = sum(min(st.vectors, MAX_SAMPLED_VECTORS) for st in steps)
    if source is None:
        label = synthetic_label(seed)
        tokens = drawn_ahead(lambda: SyntheticSpikeSource(graph, seed).tokens(drawn))
    else:
        label = getattr(source, "label", type(source).__name__)
        tokens = drawn_ahead(lambda: iter(source.tokens(drawn)))
    # the first token is drawn while the placement and the planner are built
    if prepared is None:
        prepared = prepare(arch, workload, arch_source, graph, batch=batch)
    prep = prepared
    files = f"{arch_source or arch.name} + {workload_source or workload.name}"
    kv = kv_placement(prep, context0 + prompt_tokens + n_tokens, files)
    host_ps = seconds_to_ps(prep.host.token_s)  # per sequence and step: the chip waits
    acc = Accumulator(latencies_ps=[])
    meter = BusyMeter(prep.planner, attention=kv is not None)
    ledger = Ledger()
    learner = learning_for(prep, n_tokens, batch, prompt_tokens, files)
    channels = [ch.name for ch in arch.dram_channels]
    host_calls = 0  # host work done: once per sequence per finished step

    def plan(step: Step) -> tuple[TokenWork, list[TokenSpikes]]:
        drawn_step = _step_tokens(tokens, step)
        work = prep.planner.plan_step(drawn_step, step.vectors, step.sequences, step.context, kv)
        return work, drawn_step

    def finished(step: Step, latency_ps: int) -> None:
        nonlocal host_calls
        host_calls += step.sequences
        if step.prefill:
            acc.prefill_ps += latency_ps
        else:
            acc.latencies_ps.append(latency_ps)

    events = 0
    interrupted = False
    if fidelity == "analytic":
        now = 0
        try:
            for index, step in enumerate(steps):
                work, drawn_step = plan(step)
                overhead_ps = host_ps * step.sequences
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
                writes = learner.after_token(work, drawn_step[0], index) if learner else None
                if writes is not None:
                    end += writes.time_ps
                # commit the finished step in one short step, so an interrupt keeps whole tokens
                finished(step, end - now + overhead_ps)
                now = end + overhead_ps
                ledger.add_all(work.counts)
                acc.add(work)
                if writes is not None:
                    ledger.add_all(writes.counts)
                    learner.record(writes, writes.time_ps)
                    acc.add_writes(writes, channels)
                    meter.add(writes.busy(meter))
                meter.add(busy)
                if progress and not step.prefill:
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
            for index, step in enumerate(steps):
                work, drawn_step = plan(step)
                overhead_ps = host_ps * step.sequences
                busy = busy_times(meter, work)
                start = env.now
                if runner.recorder is not None:
                    runner.recorder.begin_step(start)
                proc = env.process(runner.token(work, floor_ps=busy.onchip if contention else 0))
                with young_objects_only():  # the collector skips what was loaded before
                    env.run(until=proc)
                writes = learner.after_token(work, drawn_step[0], index) if learner else None
                if writes is not None:
                    written = env.now
                    env.run(until=env.process(learner.des_writes(system, writes)))
                    written = env.now - written
                if runner.recorder is not None and not runner.recorder.end_step(env.now):
                    runner.recorder.detach()  # the cap is reached: the rest runs unrecorded
                    runner.recorder = None
                if overhead_ps:
                    env.run(until=env.timeout(overhead_ps))
                finished(step, env.now - start)
                acc.add(work)
                if writes is not None:
                    learner.record(writes, written)
                    acc.add_writes(writes, channels)
                    meter.add(writes.busy(meter))
                meter.add(busy)
                finished_ps = env.now
                finished_counts = dict(system.ctx.ledger.items())
                if progress and not step.prefill:
                    progress(1)
        except KeyboardInterrupt:
            if not acc.latencies_ps:
                raise
            interrupted = True
        elapsed_ps = finished_ps
        ledger = Ledger()  # the finished tokens' counts, not those of a token cut short
        ledger.add_all(finished_counts)
        events = env.events_processed
    host_counts = prep.host.counts()
    ledger.add_all({key: n * host_calls for key, n in host_counts.items()})
    acc.busy = meter.seconds()
    elapsed_s = ps_to_seconds(elapsed_ps)
    energy = price(ledger.items(), arch, elapsed_s, chips=prep.placement.chips)
    options = {
        "fidelity": fidelity,
        "contention": contention,
        "seed": seed,
        "tokens": len(acc.latencies_ps),
        "spikes": label,
    }
    # only what differs from a plain batch-1 decode enters the config hash
    for key, value, plain in (
        ("batch", batch, 1),
        ("prompt_tokens", prompt_tokens, 0),
        ("context_tokens", context0, workload.context_tokens),
    ):
        if value != plain:
            options[key] = value
    result = summarise(
        prep=prep,
        options=options,
        acc=acc,
        elapsed_s=elapsed_s,
        energy=energy,
        ledger=ledger,
        wall_s=time.perf_counter() - wall0,
        engine_events=events,
        learning=learner.totals if learner else None,
        kv=kv,
        run=RunShape(batch, prompt_tokens, context0),
    )
    if interrupted:
        raise RunInterrupted(result, requested=n_tokens)
    return result


def learning_for(
    prep: Prepared, n_tokens: int, batch: int = 1, prompt_tokens: int = 0, files: str = ""
) -> WeightUpdates | None:
    """The weight updates of a learning workload (None for frozen weights)."""
    cfg = prep.workload.learning
    if cfg.rule == "none":
        return None
    if batch != 1 or prompt_tokens:
        raise UsageError(
            f"{files}: workload.learning: weight updates are modelled for batch-1 decoding "
            f"without a prompt; got batch {batch}, prompt {prompt_tokens} tokens"
        )
    updates = WeightUpdates(cfg, prep.planner, n_tokens)
    updates.totals.prices = price_table(prep.arch)
    return updates


@dataclass(frozen=True)
class RunShape:
    """Sequences, prompt length and cached context of a run."""

    batch: int = 1
    prompt_tokens: int = 0
    context_tokens: int = 0


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
    learning=None,
    kv: KvPlacement | None = None,
    run: RunShape = RunShape(),
) -> Result:
    """The Result of a chip run: its totals, traffic per memory level and placement."""
    arch, placement = prep.arch, prep.placement
    n = max(1, len(acc.latencies_ps) * run.batch)
    weight_bytes = float(placement.resident_weight_bytes + placement.streamed_weight_bytes)
    if prep.graph.host_head is not None:  # stored in the host's memory
        weight_bytes += prep.graph.host_head.weight_bytes
    areas = area_m2(arch, placement.chips, placement.arrays)
    totals = RunTotals(
        latencies_s=[ps_to_seconds(x) for x in acc.latencies_ps],
        elapsed_s=elapsed_s,
        energy=energy,
        parameters=prep.graph.parameters,
        weight_bytes=weight_bytes,
        memory_footprint_bytes=weight_bytes
        + prep.graph.state_bytes * run.batch
        + (kv.total_bytes if kv is not None else 0.0),
        synops=acc.synops,
        spikes=acc.spikes,
        offchip_components=frozenset(
            [f"dram.{ch.name}" for ch in arch.dram_channels] + ["host", "host_link"]
        ),
        area_m2=areas,
        learning=learning,
        batch=run.batch,
        prefill_s=ps_to_seconds(acc.prefill_ps),
        prompt_tokens=run.prompt_tokens,
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
    if kv is not None:
        summary |= kv.summary()
    if run != RunShape():
        summary |= {
            "batch": run.batch,
            "prompt_tokens": run.prompt_tokens,
            "context_tokens": run.context_tokens,
        }
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
