"""Expand a study into points and resolve each point into validated configs with its key.

A point is one run: a base architecture, a base workload, one value per axis and a seed.
Its key is the hash of its resolved configs and run options (the same hash a chip's
`Result.config_hash` carries), so a point is recognised whatever the order or the spec
that produced it. The run shape (`run.` paths) enters the options as `neurosim run` puts
it there: only what differs from a plain batch-1 decode, so a study without `run.` paths
keeps the keys it always had. On a chip a `run.attention` becomes the workload's mixer
(as `run_system` does it), so the stored workload is the one that ran. A point whose
values make an invalid config is a :class:`Skipped` with the validation message as its
reason.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurosim.config.overrides import split_path, with_overrides
from neurosim.config.run_shape import RUN_OPTIONS
from neurosim.errors import ConfigError
from neurosim.results.record import config_hash
from neurosim.simulate.gpu import GpuArchitecture
from neurosim.simulate.systems import chip_workload
from neurosim.sweep.spec import AxisPlan, Study
from neurosim.workload.spikes import synthetic_label

__all__ = ["Point", "Skipped", "Task", "expand", "latin_hypercube", "resolve", "resolve_all"]


@dataclass(frozen=True)
class Point:
    """One point before validation: bases (indices), axis values and labels, seed."""

    index: int
    architecture: int
    workload: int
    values: tuple[Any, ...]
    labels: tuple[Any, ...]
    seed: int


@dataclass(frozen=True)
class Task:
    """A valid point, ready to run: what a worker needs, and what the store records."""

    key: str
    index: int
    arch: Any = field(repr=False)
    workload: Any = field(repr=False)
    seed: int
    fidelity: str
    tokens: int
    params: dict[str, Any] = field(default_factory=dict)
    base_architecture: str = ""
    base_workload: str = ""
    config: dict = field(default_factory=dict, repr=False)
    run: dict[str, Any] = field(default_factory=dict)  # run_system keywords: batch, ...


@dataclass(frozen=True)
class Skipped:
    """A point whose values give an invalid architecture or workload."""

    key: str
    index: int
    seed: int
    fidelity: str
    tokens: int
    params: dict[str, Any]
    base_architecture: str
    base_workload: str
    reason: str
    run: dict[str, Any] = field(default_factory=dict)


def run_shape(values: dict[str, Any]) -> dict[str, Any]:
    """Every run-shape option: the given values over the defaults of a plain decode."""
    return {name: values.get(name, option.default) for name, option in RUN_OPTIONS.items()}


def shape_options(run: dict[str, Any], workload: Any, gpu: bool) -> dict[str, Any]:
    """The run shape's part of a point's options: what differs from a plain batch-1 decode
    of `workload`, as `simulate.run` enters it in a chip's config hash (a GPU also keeps
    its token mixer, which a chip has in its workload)."""
    out: dict[str, Any] = {}
    if run["batch"] != 1:
        out["batch"] = run["batch"]
    if run["prompt_tokens"] != 0:
        out["prompt_tokens"] = run["prompt_tokens"]
    context = run["context_tokens"]
    if context is not None and (gpu or context != workload.context_tokens):
        out["context_tokens"] = context
    if gpu and run["attention"] is not None:
        out["attention"] = run["attention"]
    return out


def latin_hypercube(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """`n` samples in [0, 1)^d, exactly one in each of the n strata of every dimension."""
    u = np.empty((n, d))
    for j in range(d):
        u[:, j] = (rng.permutation(n) + rng.random(n)) / n
    return u


def _from_unit(axis: AxisPlan, u: float) -> tuple[Any, Any]:
    """Map a uniform draw in [0, 1) to an axis value and its label."""
    if axis.distribution is None:
        i = min(int(u * axis.size), axis.size - 1)
        return axis.values[i], axis.labels[i]
    if axis.distribution == "uniform":
        v = axis.low + u * (axis.high - axis.low)
    else:
        v = float(np.exp(np.log(axis.low) + u * (np.log(axis.high) - np.log(axis.low))))
    v = int(round(v)) if axis.integer else float(f"{v:.10g}")
    return v, v


def _samples(study: Study) -> list[tuple[tuple, tuple]]:
    """(values, labels) of each design sample, before bases and seeds."""
    axes = study.axes
    kind = study.spec.strategy.kind
    if kind == "grid":
        combos = itertools.product(*[range(a.size) for a in axes])
        return [
            (
                tuple(a.values[i] for a, i in zip(axes, c, strict=True)),
                tuple(a.labels[i] for a, i in zip(axes, c, strict=True)),
            )
            for c in combos
        ]
    per_sample = len(study.architectures) * len(study.workloads) * len(study.spec.seeds)
    n = study.spec.budget // per_sample
    rng = np.random.default_rng(study.spec.strategy.seed)
    u = (
        latin_hypercube(n, len(axes), rng)
        if kind == "latin_hypercube"
        else rng.random((n, len(axes)))
    )
    out = []
    for row in u:
        pairs = [_from_unit(a, x) for a, x in zip(axes, row, strict=True)]
        out.append((tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)))
    return out


def expand(study: Study) -> list[Point]:
    """Every point of the study in a stable order: bases, then samples, then seeds."""
    points = []
    samples = _samples(study)
    for ai, _ in enumerate(study.architectures):
        for wi, _ in enumerate(study.workloads):
            for values, labels in samples:
                for seed in study.spec.seeds:
                    points.append(Point(len(points), ai, wi, values, labels, seed))
    return points


def _picked(base_dump: dict, path: str, selection: tuple) -> list:
    """The items of the base list at `path` named (or indexed) by `selection`."""
    node: Any = base_dump
    for part in split_path(path):
        node = node[part]
    by_name = {it.get("name"): it for it in node if isinstance(it, dict)}
    return copy.deepcopy([node[s] if isinstance(s, int) else by_name[s] for s in selection])


def _depth(path: str) -> int:
    return len(split_path(path))


def _reason(err: ConfigError, what: str) -> str:
    parts = [f"{i.key_path}: {i.message}" if i.key_path else i.message for i in err.issues]
    return f"invalid {what}: " + "; ".join(parts)


class _Resolver:
    """Applies points to the bases, caching each base's dump."""

    def __init__(self, study: Study) -> None:
        self.study = study
        self.dumps = {
            "architecture": [b.model.model_dump(mode="python") for b in study.architectures],
            "workload": [b.model.model_dump(mode="python") for b in study.workloads],
        }
        self.json_dumps = {
            "architecture": [b.model.model_dump(mode="json") for b in study.architectures],
            "workload": [b.model.model_dump(mode="json") for b in study.workloads],
        }

    def overrides(self, point: Point) -> dict[str, dict[str, Any]]:
        """Path -> value for the architecture, the workload and the run shape."""
        out: dict[str, dict[str, Any]] = {"architecture": {}, "workload": {}, "run": {}}
        for target, path, value in self.study.fixed:
            out[target][path] = value
        base_index = {"architecture": point.architecture, "workload": point.workload}
        for axis, value in zip(self.study.axes, point.values, strict=True):
            for i, (target, path) in enumerate(axis.targets):
                if axis.pick:
                    value_here = _picked(self.dumps[target][base_index[target]], path, value)
                elif axis.zipped:
                    value_here = value[i]  # a `set` axis: one value per path
                else:
                    value_here = value
                out[target][path] = value_here
        # a whole list or section first, then paths inside it: the deeper path wins
        return {t: dict(sorted(o.items(), key=lambda kv: _depth(kv[0]))) for t, o in out.items()}

    def resolve(self, point: Point) -> Task | Skipped:
        study, spec = self.study, self.study.spec
        arch_base = study.architectures[point.architecture]
        wl_base = study.workloads[point.workload]
        params: dict[str, Any] = {}
        for axis, label in zip(study.axes, point.labels, strict=True):
            if isinstance(label, dict):  # a `set` axis records each path it sets
                params.update(label)
            else:
                params[axis.name] = label
        options = {
            "fidelity": spec.fidelity,
            "contention": True,
            "seed": point.seed,
            "tokens": spec.tokens,
            "spikes": synthetic_label(point.seed),
        }
        over = self.overrides(point)
        given_run = over.pop("run")
        run = run_shape(given_run)
        try:
            arch = with_overrides(arch_base.model, over["architecture"], source=arch_base.label)
        except ConfigError as err:
            reason = _reason(err, "architecture")
        else:
            gpu = isinstance(arch, GpuArchitecture)
            try:
                wl = with_overrides(wl_base.model, over["workload"], source=wl_base.label)
                if not gpu:  # a chip runs the mixer as its workload's (run_system does so)
                    wl = chip_workload(wl, run["attention"], wl_base.label)
                    run["attention"] = None
            except ConfigError as err:
                reason = _reason(err, "workload")
            else:
                options |= shape_options(run, wl, gpu)
                arch_dump = arch.model_dump(mode="json")
                wl_dump = wl.model_dump(mode="json")
                return Task(
                    key=config_hash(arch_dump, wl_dump, options),
                    index=point.index,
                    arch=arch,
                    workload=wl,
                    seed=point.seed,
                    fidelity=spec.fidelity,
                    tokens=spec.tokens,
                    params=params,
                    base_architecture=arch_base.label,
                    base_workload=wl_base.label,
                    config={"architecture": arch_dump, "workload": wl_dump, "options": options},
                    run=run,
                )
        extra = {
            "invalid": json.loads(json.dumps(over, default=str)),
            **options,
        }
        if given_run:  # only then: a study without run paths keeps its keys
            extra["run"] = given_run
        key = config_hash(
            self.json_dumps["architecture"][point.architecture],
            self.json_dumps["workload"][point.workload],
            extra,
        )
        return Skipped(
            key,
            point.index,
            point.seed,
            spec.fidelity,
            spec.tokens,
            params,
            arch_base.label,
            wl_base.label,
            reason,
            run_shape(given_run),
        )


def resolve(study: Study, point: Point) -> Task | Skipped:
    """Validate one point into a runnable Task, or a Skipped with the reason."""
    return _Resolver(study).resolve(point)


def resolve_all(study: Study, points: list[Point] | None = None) -> Iterator[Task | Skipped]:
    """Resolve every point, dropping later duplicates of a key (same resolved config)."""
    resolver = _Resolver(study)
    seen: set[str] = set()
    for point in expand(study) if points is None else points:
        item = resolver.resolve(point)
        if item.key in seen:
            continue
        seen.add(item.key)
        yield item
