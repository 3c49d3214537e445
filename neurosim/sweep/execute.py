"""Run a study's pending points on local worker processes or a Dask cluster, storing each.

The coordinating process resolves the points, skips those already stored, hands the rest
to workers (a `ProcessPoolExecutor` fed chunks of points, or the `dask.distributed.Client`
of an existing cluster), and writes every finished chunk to the store as it arrives.
Ctrl-C stops handing out work, stores the points that were running when they finish, and
returns. What a worker runs is `neurosim.sweep.worker`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from neurosim import __version__
from neurosim.errors import SimulationError, UsageError
from neurosim.results.record import config_hash
from neurosim.sweep.points import Skipped, Task, resolve_all
from neurosim.sweep.spec import Study
from neurosim.sweep.store import Store, now
from neurosim.sweep.worker import WorkItem, init_worker, run_point, run_points

__all__ = [
    "Progress",
    "StudyRun",
    "chunk_size",
    "default_jobs",
    "plan_study",
    "run_point",
    "run_study",
]


@dataclass
class Progress:
    """Counts of this run, passed to the progress callback after every stored point."""

    total: int  # points of the study
    stored_before: int  # finished in an earlier run (not recomputed)
    pending: int  # points this run has to compute
    done: int = 0
    skipped: int = 0  # invalid configs (including those found before running)
    failed: int = 0

    @property
    def finished(self) -> int:
        """Points this run has stored."""
        return self.done + self.skipped + self.failed


@dataclass
class StudyRun:
    """What `run_study` did."""

    database: Path
    progress: Progress
    interrupted: bool = False
    wall_s: float = 0.0
    workers: str = ""
    statuses: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """The resolved points of a study, split by what a run must do with them."""

    tasks: list[Task]
    skipped: list[Skipped]

    @property
    def total(self) -> int:
        """Distinct points."""
        return len(self.tasks) + len(self.skipped)


def plan_study(study: Study) -> Plan:
    """Resolve every point of the study (fast: validation only, no simulation)."""
    tasks: list[Task] = []
    skipped: list[Skipped] = []
    for item in resolve_all(study):
        (tasks if isinstance(item, Task) else skipped).append(item)
    return Plan(tasks, skipped)


def default_jobs() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _row(task: Task | Skipped, outcome: dict[str, Any] | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "key": task.key,
        "idx": task.index,
        "base_architecture": task.base_architecture,
        "base_workload": task.base_workload,
        "params": task.params,
        "seed": task.seed,
        "fidelity": task.fidelity,
        "tokens": task.tokens,
        "batch": task.run["batch"],
        "prompt_tokens": task.run["prompt_tokens"],
        "finished_at": now(),
    }
    if isinstance(task, Skipped):
        row.update(status="skipped", error=task.reason, version=__version__)
    else:
        row["config"] = task.config
        row.update(outcome or {})
    return row


# --------------------------------------------------------------------------- workers


def _item(task: Task, reuse: bool, accuracy: Any = None) -> WorkItem:
    arch_key = workload_key = ""
    if reuse:  # hashes of each resolved config alone: what a worker's caches are keyed by
        arch_key = config_hash(task.config["architecture"], {}, {"part": "architecture"})
        workload_key = config_hash({}, task.config["workload"], {"part": "workload"})
    return WorkItem(
        task.key,
        task.arch,
        task.workload,
        task.seed,
        task.fidelity,
        task.tokens,
        arch_key,
        workload_key,
        accuracy,
        task.run,
    )


def _inline(
    tasks: list[Task], items: dict[str, WorkItem]
) -> Iterator[list[tuple[Task, tuple[str, dict]]]]:
    for task in tasks:
        yield [(task, run_point(items[task.key]))]


def _worker_died(task: Task, err: BaseException) -> SimulationError:
    return SimulationError(
        f"a worker died while running point {task.key} ({type(err).__name__}: {err}); "
        "every point finished before it is stored: run the same command to resume"
    )


class _Interrupted(Exception):
    """Raised inside the executors' loops once Ctrl-C has been handled."""


def chunk_size(points: int, workers: int, fidelity: str) -> int:
    """Points per task sent to a worker: enough to spread the hand-over cost of fast
    analytic points, while every worker still gets several tasks to balance the load;
    DES points (a second or more each) go one by one, so progress and Ctrl-C stay prompt."""
    if fidelity != "analytic":
        return 1
    return max(1, min(16, points // (4 * workers)))


def _pool(
    tasks: list[Task], items: dict[str, WorkItem], jobs: int, stop: threading.Event, chunk: int
) -> Iterator[list[tuple[Task, tuple[str, dict]]]]:
    """Run tasks on local worker processes in chunks of `chunk`, 2 chunks per worker in
    flight; yield each finished chunk's (task, outcome) pairs."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # no fork of a process holding SQLite
    pool = ProcessPoolExecutor(
        max_workers=jobs, mp_context=ctx, initializer=init_worker, initargs=(os.getpid(),)
    )
    chunks = iter([tasks[i : i + chunk] for i in range(0, len(tasks), chunk)])
    running: dict[Future, list[Task]] = {}

    def submit(part: list[Task]) -> None:
        running[pool.submit(run_points, [items[t.key] for t in part])] = part

    try:
        for part in list(islice(chunks, 2 * jobs)):
            submit(part)
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                part = running.pop(fut)
                try:
                    outcomes = fut.result()
                except BrokenExecutor as err:
                    raise _worker_died(part[0], err) from None
                yield list(zip(part, outcomes, strict=True))
                if not stop.is_set():
                    nxt = next(chunks, None)
                    if nxt is not None:
                        submit(nxt)
    except KeyboardInterrupt:
        stop.set()
        for fut in running:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        for fut, part in running.items():  # chunks that were running when Ctrl-C came
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                yield list(zip(part, fut.result(), strict=True))
        raise _Interrupted from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _dask(
    tasks: list[Task],
    items: dict[str, WorkItem],
    address: str,
    stop: threading.Event,
    timeout_s: float,
) -> Iterator[list[tuple[Task, tuple[str, dict]]]]:
    """Run tasks on an existing Dask distributed cluster, a bounded number in flight."""
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise UsageError("--dask needs dask.distributed: pip install 'dask[distributed]'") from None
    try:
        client = Client(address, timeout=f"{timeout_s}s")
    except (OSError, TimeoutError, ValueError) as err:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: {err}") from None
    try:
        workers = max(1, sum(client.nthreads().values()))
        todo = iter(tasks)
        running: dict[Any, Task] = {}

        def submit(task: Task) -> Any:
            fut = client.submit(run_point, items[task.key], pure=False)
            running[fut] = task
            return fut

        queue = as_completed([submit(t) for t in list(islice(todo, 4 * workers))])
        try:
            for fut in queue:
                task = running.pop(fut)
                try:
                    outcome = fut.result()
                except Exception as err:  # noqa: BLE001 - a lost worker, not a bad point
                    raise _worker_died(task, err) from None
                yield [(task, outcome)]
                if not stop.is_set():
                    nxt = next(todo, None)
                    if nxt is not None:
                        queue.add(submit(nxt))
        except KeyboardInterrupt:
            stop.set()
            client.cancel(list(running))
            raise _Interrupted from None
    finally:
        client.close()


# --------------------------------------------------------------------------- coordinator


def run_study(
    study: Study,
    database: str | Path,
    *,
    jobs: int | None = None,
    dask_address: str | None = None,
    dask_timeout_s: float = 20.0,
    retry_failed: bool = False,
    progress: Callable[[Progress], None] | None = None,
    plan: Plan | None = None,
    reuse: bool = True,
    chunk: int | None = None,
    accuracy: Callable[[Any, Any, int], dict[str, float]] | None = None,
) -> StudyRun:
    """Compute every point of `study` not yet in `database` and store each as it finishes.

    `jobs` local worker processes (default: one per core; 1 runs in this process), or the
    Dask cluster at `dask_address` (reached within `dask_timeout_s`). Points already stored
    as done or skipped (and failed unless `retry_failed`) are not recomputed. Ctrl-C
    returns with ``interrupted=True`` after storing the points that were running.
    Local workers get `chunk` points per task (default: :func:`chunk_size`); with `reuse`
    (the default) a worker shares graphs, routes, placements and spikes between points
    (`neurosim.sweep.worker`), which changes no result. `accuracy` (a picklable callable
    of the architecture, workload and seed, given by the caller) adds metrics a simulation
    does not produce, such as perplexity.
    """
    t0 = time.perf_counter()
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs must be at least 1; got {jobs}")
    plan = plan or plan_study(study)
    store = Store(database, create=True)
    try:
        store.add_metric_columns(study.spec.metrics)
        store.set_meta(
            {
                "name": study.name,
                "spec_path": str(study.path),
                "spec": study.spec.model_dump(mode="json"),
                "neurosim_version": __version__,
                "points": plan.total,
            }
        )
        stored = store.statuses()
        keep = {"done", "skipped"} | (set() if retry_failed else {"failed"})
        finished = {k for k, s in stored.items() if s in keep}
        new_skips = [s for s in plan.skipped if s.key not in finished]
        pending = [t for t in plan.tasks if t.key not in finished]
        prog = Progress(
            total=plan.total,
            stored_before=plan.total - len(new_skips) - len(pending),
            pending=len(pending) + len(new_skips),
        )
        store.put([_row(s) for s in new_skips])
        prog.skipped += len(new_skips)
        if progress:
            progress(prog)
        items = {t.key: _item(t, reuse, accuracy) for t in pending}
        if reuse:  # points sharing a workload (then an architecture) side by side: the
            # same chunk and worker, whose caches hold the graph, spikes and placement
            pending.sort(
                key=lambda t: (items[t.key].workload_key, items[t.key].arch_key, t.seed, t.index)
            )
        stop = threading.Event()
        if dask_address:
            results = _dask(pending, items, dask_address, stop, dask_timeout_s)
            workers = f"dask {dask_address}"
        else:
            n = min(jobs or default_jobs(), max(1, len(pending)))
            if n == 1:
                results = _inline(pending, items)
            else:
                size = chunk or chunk_size(len(pending), n, study.spec.fidelity)
                results = _pool(pending, items, n, stop, size)
            workers = f"{n} local worker{'s' if n > 1 else ''}"
        interrupted = False
        try:
            for finished_chunk in results:  # each chunk stored in one transaction
                store.put([_row(task, outcome) for task, (_, outcome) in finished_chunk])
                for _, (_, outcome) in finished_chunk:
                    status = outcome["status"]
                    if status == "done":
                        prog.done += 1
                    elif status == "skipped":
                        prog.skipped += 1
                    else:
                        prog.failed += 1
                if progress:
                    progress(prog)
        except (_Interrupted, KeyboardInterrupt):
            interrupted = True
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()  # stops the workers before the store closes
        return StudyRun(
            Path(database), prog, interrupted, time.perf_counter() - t0, workers, store.count()
        )
    finally:
        store.close()
