"""What a sweep worker runs: points, reusing within the process what points share.

Points of one study often share their expensive inputs: every point on one workload
uses the same model graph, every point with the same architecture the same routes, the
seeds of one config the same placement and work planner, and every architecture the
same spike tokens for a given workload and seed. A worker keeps each of these in a small
LRU cache keyed by hashes of the resolved configs it is computed from (plus the seed and
token count for spikes), so reuse never hands a point what another config produced, and
a point's result is the same with and without reuse (the tests compare every column).
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurosim import __version__
from neurosim.errors import ConfigError, NeurosimError
from neurosim.workload.spikes import TokenSpikes

__all__ = ["WorkItem", "init_worker", "run_point", "run_points"]


@dataclass(frozen=True)
class WorkItem:
    """What a worker receives: the resolved configs, their hashes and the run options."""

    key: str
    arch: Any
    workload: Any
    seed: int
    fidelity: str
    tokens: int
    arch_key: str = ""  # hash of the resolved architecture alone ("" = do not reuse)
    workload_key: str = ""  # hash of the resolved workload alone
    accuracy: Any = None  # (arch, workload, seed) -> extra metrics, e.g. perplexity; picklable
    run: dict[str, Any] = field(default_factory=dict)  # run_system's batch, prompt_tokens, ...

    @property
    def batch(self) -> int:
        """Sequences decoded together (1 unless the point sets `run.batch`)."""
        return self.run.get("batch", 1)

    @property
    def drawn_tokens(self) -> int:
        """Spike tokens the run draws: each step's vectors, at most the sampled number."""
        from neurosim.simulate.run import MAX_SAMPLED_VECTORS, run_steps

        context = self.run.get("context_tokens") or 0  # the count does not depend on it
        steps = run_steps(self.tokens, self.batch, self.run.get("prompt_tokens", 0), context)
        return sum(min(step.vectors, MAX_SAMPLED_VECTORS) for step in steps)


class _Lru:
    """A bounded mapping that forgets the least recently used entry."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[tuple, Any] = OrderedDict()

    def get(self, key: tuple, make: Callable[[], Any]) -> Any:
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        value = make()
        self.items[key] = value
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return value


class _Replay:
    """A spike source replaying tokens drawn earlier, under the original source's label."""

    def __init__(self, tokens: list[TokenSpikes], label: str) -> None:
        self._tokens = tokens
        self.label = label

    def tokens(self, n_tokens: int) -> Iterator[TokenSpikes]:
        yield from self._tokens[:n_tokens]


class Reuse:
    """The per-process caches: graphs, routes, prepared placements/planners, spike tokens."""

    def __init__(self) -> None:
        self.graphs = _Lru(8)
        self.routes = _Lru(8)
        self.prepared = _Lru(4)
        self.spikes = _Lru(8)
        self.hits = 0
        self.misses = 0

    def _counted(self, cache: _Lru, key: tuple, make: Callable[[], Any]) -> Any:
        if key in cache.items:
            self.hits += 1
        else:
            self.misses += 1
        return cache.get(key, make)

    def graph(self, item: WorkItem):
        """The workload's model graph (its head apart when the host runs the LM head)."""
        from neurosim.workload.model import build_model_graph

        on_host = head_on_host(item.arch)
        return self._counted(
            self.graphs,
            (item.workload_key, on_host),
            lambda: build_model_graph(item.workload, head_on_host=on_host),
        )

    def prepare(self, item: WorkItem):
        """`simulate.run.prepare(arch, workload, batch=...)`, built from the cached graph
        and routes."""
        from neurosim.mapping.placement import place
        from neurosim.simulate.run import Prepared, host_work_of, routing_for
        from neurosim.simulate.work import WorkPlanner

        def make() -> Prepared:
            graph = self.graph(item)
            placement = place(item.arch, graph, sequences=item.batch)
            routing = self._counted(
                self.routes,
                (item.arch_key, placement.chips),
                lambda: routing_for(item.arch, placement.chips),
            )
            planner = WorkPlanner(item.arch, graph, placement, routing)
            host = host_work_of(item.arch, graph)
            return Prepared(item.arch, item.workload, graph, placement, planner, host, item.batch)

        key = (item.arch_key, item.workload_key, item.batch)
        return self._counted(self.prepared, key, make)

    def source(self, item: WorkItem, graph):
        """The point's synthetic spikes, drawn once per (workload, seed, tokens drawn)."""
        from neurosim.workload.spikes import SyntheticSpikeSource

        drawn = item.drawn_tokens

        def make() -> _Replay:
            src = SyntheticSpikeSource(graph, item.seed)
            return _Replay(list(src.tokens(drawn)), src.label)

        key = (item.workload_key, head_on_host(item.arch), item.seed, drawn)
        return self._counted(self.spikes, key, make)


def head_on_host(arch) -> bool:
    """True when `arch` (a chip) places the LM head on its host CPU."""
    host = getattr(arch, "host", None)
    return host is not None and "lm_head" in host.runs


_REUSE = Reuse()


def _simulate(item: WorkItem):
    from neurosim.simulate.gpu import GpuArchitecture
    from neurosim.simulate.systems import run_system

    options = {"n_tokens": item.tokens, "seed": item.seed, "fidelity": item.fidelity, **item.run}
    if not item.arch_key or isinstance(item.arch, GpuArchitecture):
        return run_system(item.arch, item.workload, **options)
    prep = _REUSE.prepare(item)
    source = _REUSE.source(item, prep.graph)
    return run_system(item.arch, item.workload, source=source, prepared=prep, **options)


def run_point(item: WorkItem) -> tuple[str, dict[str, Any]]:
    """Simulate one point; never raises: errors become the row's status."""
    t0 = time.perf_counter()
    try:
        result = _simulate(item)
        metrics = result.metrics
        if item.accuracy is not None:
            metrics = {**metrics, **item.accuracy(item.arch, item.workload, item.seed)}
    except ConfigError as err:  # e.g. the weights do not fit: an invalid design point
        status = "skipped"
        message = " ".join(str(err).split("\n", 1)[-1].split())
    except NeurosimError as err:
        status, message = "failed", f"{type(err).__name__}: {err}"
    except Exception as err:  # noqa: BLE001 - a bad point must not stop the study
        status, message = "failed", f"{type(err).__name__}: {err}"
    else:
        return item.key, {
            "status": "done",
            "architecture": result.architecture,
            "workload": result.workload,
            "version": result.version,
            "metrics": metrics,
            "energy": result.energy_per_token_j,
            "traffic": result.traffic_bytes_per_token,
            "utilization": result.utilization,
            "placement": result.placement,
            "bottleneck": result.bottleneck,
            "result_hash": result.config_hash,
            "wall_s": time.perf_counter() - t0,
        }
    return item.key, {
        "status": status,
        "error": message,
        "version": __version__,
        "wall_s": time.perf_counter() - t0,
    }


def run_points(items: list[WorkItem]) -> list[tuple[str, dict[str, Any]]]:
    """Simulate a chunk of points in order (one task of a worker pool)."""
    return [run_point(item) for item in items]


# --------------------------------------------------------------------------- start-up


def _watch_parent(parent: int) -> None:
    """End this worker when the coordinator is gone (killed), so no orphan lingers."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def _warm_numba() -> None:
    """Load (or compile) the analytic schedule kernel before the first point needs it."""
    from types import SimpleNamespace

    from neurosim.simulate.analytic import token_end_ps

    one = np.ones(1, dtype=np.int64)
    zero = np.zeros(1, dtype=np.int64)
    bounds = np.array([0, 1], dtype=np.int64)
    work = SimpleNamespace(
        group_timesteps=one,
        phase_offsets=bounds,
        phase_ps=one,
        tile_dram_ps=zero,
        tile_noc_ps=zero,
        item_offsets=bounds,
        item_ps=one,
        epilogue_ps=np.zeros((1, 1), dtype=np.int64),
        extra_ps=zero,
        post_group_ps=zero,
        prologue_ps=0,
        adc=None,
    )
    placement = SimpleNamespace(group_tiles=bounds, tile_core=zero, tile_channel=-one)
    token_end_ps(work, placement, 0, False, 1)


# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3


def keep_freed_memory() -> bool:
    """Let glibc keep freed blocks for reuse instead of returning them to the system.

    A point allocates and frees the same arrays of a few hundred KiB to a few MiB over
    and over (per token, per point). By default glibc serves each such block with a
    fresh mmap and unmaps it on free, so every allocation pays for its pages again in
    page faults. With the mmap threshold at its 32 MiB maximum and a generous trim
    threshold the heap keeps those pages. Results do not change; False where there is
    no glibc (nothing to tune).
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    settings = (
        (_M_MMAP_THRESHOLD, 32 << 20),
        (_M_TRIM_THRESHOLD, 64 << 20),
        (_M_TOP_PAD, 16 << 20),
    )
    return all(mallopt(key, value) == 1 for key, value in settings)


def init_worker(parent: int, warm: bool = True) -> None:
    """Worker start: Ctrl-C is the coordinator's to handle; die with the coordinator;
    keep freed memory for reuse; import the simulator and load its compiled kernel now
    rather than in the first point."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    keep_freed_memory()
    if warm:
        import neurosim.simulate.systems  # noqa: F401 - the imports every point needs

        _warm_numba()
