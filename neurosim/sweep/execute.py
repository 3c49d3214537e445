"""Run a study's pending points on local worker processes or a Dask cluster, storing each.

The coordinating process resolves the points, skips those already stored, hands the rest
to workers (a `ProcessPoolExecutor`, or the `dask.distributed.Client` of an existing
cluster), and writes every result to the store as it arrives. Ctrl-C stops handing out
work, stores the points that were running when they finish, and returns.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from neurosim import __version__
from neurosim.errors import ConfigError, NeurosimError, SimulationError, UsageError
from neurosim.sweep.points import Skipped, Task, resolve_all
from neurosim.sweep.spec import Study
from neurosim.sweep.store import Store, now

__all__ = ["Progress", "StudyRun", "default_jobs", "plan_study", "run_point", "run_study"]


@dataclass(frozen=True)
class WorkItem:
    """What a worker receives: the resolved configs and the run options."""

    key: str
    arch: Any
    workload: Any
    seed: int
    fidelity: str
    tokens: int


def run_point(item: WorkItem) -> tuple[str, dict[str, Any]]:
    """Simulate one point (in a worker); never raises: errors become the row's status."""
    from neurosim.simulate.systems import run_system

    t0 = time.perf_counter()
    try:
        result = run_system(
            item.arch,
            item.workload,
            n_tokens=item.tokens,
            seed=item.seed,
            fidelity=item.fidelity,
        )
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
            "metrics": result.metrics,
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
        "finished_at": now(),
    }
    if isinstance(task, Skipped):
        row.update(status="skipped", error=task.reason, version=__version__)
    else:
        row["config"] = task.config
        row.update(outcome or {})
    return row


# --------------------------------------------------------------------------- workers


def _watch_parent(parent: int) -> None:
    """End this worker when the coordinator is gone (killed), so no orphan lingers."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def _init_worker(parent: int) -> None:
    """Worker start: Ctrl-C is the coordinator's to handle; die with the coordinator."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _item(task: Task) -> WorkItem:
    return WorkItem(task.key, task.arch, task.workload, task.seed, task.fidelity, task.tokens)


def _inline(tasks: list[Task]) -> Iterator[tuple[Task, tuple[str, dict]]]:
    for task in tasks:
        yield task, run_point(_item(task))


def _worker_died(task: Task, err: BaseException) -> SimulationError:
    return SimulationError(
        f"a worker died while running point {task.key} ({type(err).__name__}: {err}); "
        "every point finished before it is stored: run the same command to resume"
    )


class _Interrupted(Exception):
    """Raised inside the executors' loops once Ctrl-C has been handled."""


def _pool(
    tasks: list[Task], jobs: int, stop: threading.Event
) -> Iterator[tuple[Task, tuple[str, dict]]]:
    """Run tasks on local worker processes, at most 4 per worker in flight."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # no fork of a process holding SQLite
    pool = ProcessPoolExecutor(
        max_workers=jobs, mp_context=ctx, initializer=_init_worker, initargs=(os.getpid(),)
    )
    todo = iter(tasks)
    running: dict[Future, Task] = {}
    try:
        for task in list(islice(todo, 4 * jobs)):
            running[pool.submit(run_point, _item(task))] = task
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                task = running.pop(fut)
                try:
                    outcome = fut.result()
                except BrokenExecutor as err:
                    raise _worker_died(task, err) from None
                yield task, outcome
                if not stop.is_set():
                    nxt = next(todo, None)
                    if nxt is not None:
                        running[pool.submit(run_point, _item(nxt))] = nxt
    except KeyboardInterrupt:
        stop.set()
        for fut in running:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        for fut, task in running.items():  # points that were running when Ctrl-C came
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                yield task, fut.result()
        raise _Interrupted from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _dask(
    tasks: list[Task], address: str, stop: threading.Event, timeout_s: float
) -> Iterator[tuple[Task, tuple[str, dict]]]:
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
            fut = client.submit(run_point, _item(task), pure=False)
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
                yield task, outcome
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
) -> StudyRun:
    """Compute every point of `study` not yet in `database` and store each as it finishes.

    `jobs` local worker processes (default: one per core; 1 runs in this process), or the
    Dask cluster at `dask_address` (reached within `dask_timeout_s`). Points already stored
    as done or skipped (and failed unless `retry_failed`) are not recomputed. Ctrl-C
    returns with ``interrupted=True`` after storing the points that were running.
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
        stop = threading.Event()
        if dask_address:
            results = _dask(pending, dask_address, stop, dask_timeout_s)
            workers = f"dask {dask_address}"
        else:
            n = min(jobs or default_jobs(), max(1, len(pending)))
            results = _inline(pending) if n == 1 else _pool(pending, n, stop)
            workers = f"{n} local worker{'s' if n > 1 else ''}"
        interrupted = False
        try:
            for task, (_, outcome) in results:
                store.put([_row(task, outcome)])
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
