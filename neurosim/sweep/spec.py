"""Sweep specs: the YAML schema of a study and its checks against the base configs.

A spec names base architecture(s) and workload(s), the values held ``fixed`` for a fair
comparison, the swept ``axes`` (dotted paths into the architecture, into the workload
with a ``workload.`` prefix, or a run-shape option with a ``run.`` prefix: ``run.batch``,
``run.prompt_tokens``, ``run.attention``, ``run.context_tokens``), a strategy with a point
budget, the fidelity, the seeds, the tokens per point and the metrics to record.
:func:`load_spec` validates all of it and returns a :class:`Study` whose axes hold concrete
values; every problem is a :class:`~neurosim.errors.ConfigError` naming the spec file, the
line and the key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, field_validator, model_validator

from neurosim.config.base import StrictModel
from neurosim.config.loader import (
    SourceMap,
    format_key_path,
    load_yaml_with_lines,
    validate,
)
from neurosim.config.overrides import split_path
from neurosim.config.run_shape import RUN_OPTIONS, check_run_value, unknown_run_option
from neurosim.errors import ConfigError, ConfigIssue
from neurosim.results.metrics import METRICS
from neurosim.simulate.systems import (
    PRESET_DIRS,
    WORKLOAD_DIRS,
    load_architecture,
    load_workload,
)
from neurosim.sweep.names import dimension_of
from neurosim.units import parse_quantity

__all__ = [
    "DEFAULT_METRICS",
    "KNOWN_METRICS",
    "AxisPlan",
    "Base",
    "Study",
    "SweepSpec",
    "dimension_of",
    "load_spec",
]


KNOWN_METRICS = tuple(METRICS)
"""Names of `Result.metrics` a spec may ask to record as real columns: the metric registry
(area_m2 only exists when the architecture gives areas; points without it store NULL)."""

DEFAULT_METRICS = (
    "tokens_per_s",
    "latency_mean_s",
    "energy_per_token_j",
    "dynamic_power_w",
    "total_power_w",
    "memory_footprint_bytes",
    "area_m2",
)

Scalar = int | float | str


class Axis(StrictModel):
    """One swept axis: a list of values, a range, a distribution, a pick of list items, or
    a list of `set`s of values moved together.

    Written as a bare list (``[4, 6, 8]``) or a mapping with one of ``values``,
    ``start``/``stop`` (with ``step`` or ``num``), ``distribution``, ``pick`` or ``set``.
    ``paths`` sets several config paths to the same value (a tied axis).
    """

    paths: list[str] | None = Field(
        default=None, min_length=1, description="config paths set together; default: the key"
    )
    values: list[Any] | None = Field(default=None, description="the values (also for choice)")
    labels: list[Scalar] | None = Field(
        default=None, description="display names of `values`, same length"
    )
    start: Scalar | None = None
    stop: Scalar | None = None
    step: Scalar | None = Field(default=None, description="range step (stop included if hit)")
    num: int | None = Field(default=None, ge=1, description="range points, both ends included")
    scale: Literal["linear", "log"] = "linear"
    distribution: Literal["uniform", "loguniform", "choice"] | None = Field(
        default=None, description="for random and latin_hypercube strategies"
    )
    low: Scalar | None = None
    high: Scalar | None = None
    pick: list[list[str | int]] | None = Field(
        default=None,
        description="subsets of the base's list at the path, by item name or index",
    )
    set_: list[dict[str, Any]] | None = Field(
        default=None,
        alias="set",
        description="each item maps paths to values that change together (zipped axes)",
    )
    integer: bool = Field(default=False, description="round to integers (ranges, distributions)")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, list):
            return {"values": data}
        if not isinstance(data, dict):
            raise ValueError(
                "an axis is a list of values, or a mapping with `values`, `start`/`stop` with "
                f"`step` or `num`, `distribution`, `pick` or `set`; got {data!r}"
            )
        return data

    @model_validator(mode="after")
    def _one_form(self) -> Axis:
        forms = {
            "values": self.values is not None and self.distribution is None,
            "range": self.start is not None or self.stop is not None,
            "distribution": self.distribution is not None,
            "pick": self.pick is not None,
            "set": self.set_ is not None,
        }
        used = [name for name, on in forms.items() if on]
        if len(used) != 1:
            raise ValueError(
                "give exactly one of `values`, `start`/`stop`, `distribution`, `pick` or `set`"
                + (f"; got {' and '.join(used)}" if used else "")
            )
        form = used[0]
        if form in ("values", "distribution") and self.values is not None and not self.values:
            raise ValueError("empty axis: `values` needs at least one value")
        if self.labels is not None:
            items = self.set_ if form == "set" else self.values
            if form not in ("values", "set") or items is None:
                raise ValueError("`labels` name the items of `values` or `set`")
            if len(self.labels) != len(items):
                raise ValueError(
                    f"`labels` has {len(self.labels)} items but `{form}` has {len(items)}"
                )
        if form == "range":
            if self.start is None or self.stop is None:
                raise ValueError("a range needs both `start` and `stop`")
            if (self.step is None) == (self.num is None):
                raise ValueError("a range needs exactly one of `step` or `num`")
            if self.scale == "log" and self.step is not None:
                raise ValueError("a log range takes `num`, not `step`")
        if form == "distribution":
            if self.distribution == "choice":
                if self.values is None:
                    raise ValueError("`distribution: choice` needs `values`")
            elif self.low is None or self.high is None:
                raise ValueError(f"`distribution: {self.distribution}` needs `low` and `high`")
        if form == "pick":
            if not self.pick:
                raise ValueError("empty axis: `pick` needs at least one selection")
            if any(not sel for sel in self.pick):
                raise ValueError("each `pick` selection names at least one item")
        if form == "set":
            if not self.set_:
                raise ValueError("empty axis: `set` needs at least one item")
            if self.paths is not None:
                raise ValueError("a `set` axis names its paths in each item, not in `paths`")
            keys = list(self.set_[0])
            if not keys:
                raise ValueError("each `set` item maps at least one path to a value")
            for i, item in enumerate(self.set_):
                if list(item) != keys:
                    raise ValueError(
                        f"every `set` item sets the same paths in the same order; item {i} "
                        f"sets {list(item)}, item 0 sets {keys}"
                    )
        return self

    @property
    def form(self) -> str:
        """values, range, distribution, pick or set."""
        if self.distribution is not None:
            return "distribution"
        if self.pick is not None:
            return "pick"
        if self.set_ is not None:
            return "set"
        if self.values is not None:
            return "values"
        return "range"


class Strategy(StrictModel):
    """How points are chosen: the full grid, or seeded random / Latin hypercube samples."""

    kind: Literal["grid", "random", "latin_hypercube"] = "grid"
    seed: int = Field(default=0, ge=0, description="seed of the sampler (random strategies)")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"kind": data} if isinstance(data, str) else data


class SweepSpec(StrictModel):
    """A declarative study: bases, fixed values, swept axes, strategy, seeds, metrics."""

    name: str | None = Field(default=None, min_length=1, description="default: the file stem")
    description: str = ""
    architecture: str | list[str] = Field(
        description="base architecture file(s), relative to this file; several = compared"
    )
    workload: str | list[str] = Field(description="base workload file(s), relative to this file")
    fixed: dict[str, Any] = Field(
        default_factory=dict,
        description="path -> value held for every point: an architecture path, "
        "`workload.PATH`, or a run-shape option (`run.batch`, `run.prompt_tokens`, "
        "`run.attention`, `run.context_tokens`)",
    )
    axes: dict[str, Axis] = Field(
        default_factory=dict, description="name (the path, unless `paths` or `set`) -> axis"
    )
    strategy: Strategy = Strategy()
    budget: int | None = Field(
        default=None, gt=0, description="most points (rows) the study may run"
    )
    fidelity: Literal["analytic", "des"] = "analytic"
    seeds: list[int] = Field(default=[0], min_length=1)
    tokens: int = Field(default=2, ge=1, description="tokens decoded per point")
    metrics: list[str] = Field(default=list(DEFAULT_METRICS), min_length=1)
    definitions: dict[str, Any] = Field(
        default_factory=dict, description="free space for YAML anchors; not read otherwise"
    )

    @field_validator("architecture", "workload")
    @classmethod
    def _non_empty(cls, value: str | list[str]) -> str | list[str]:
        items = [value] if isinstance(value, str) else value
        if not items or any(not str(v).strip() for v in items):
            raise ValueError("give a file path (or a non-empty list of them)")
        if len(set(items)) != len(items):
            raise ValueError(f"a base is listed twice: {items}")
        return value

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, seeds: list[int]) -> list[int]:
        if any(s < 0 for s in seeds):
            raise ValueError(f"seeds are non-negative integers; got {seeds}")
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"a seed is listed twice: {seeds}")
        return seeds

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, metrics: list[str]) -> list[str]:
        unknown = [m for m in metrics if m not in KNOWN_METRICS]
        if unknown:
            raise ValueError(
                f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(KNOWN_METRICS)}"
            )
        if len(set(metrics)) != len(metrics):
            raise ValueError(f"a metric is listed twice: {metrics}")
        return metrics


@dataclass(frozen=True)
class Base:
    """One base config file of a study: the path as written, its resolved file, the model."""

    label: str
    file: Path
    model: BaseModel


@dataclass(frozen=True)
class AxisPlan:
    """An axis made concrete: its targets and candidate values (or a distribution)."""

    name: str
    targets: tuple[tuple[str, str], ...]  # (architecture | workload | run, path inside it)
    values: tuple[Any, ...] = ()  # candidates (pick: selections; set: a value per target)
    labels: tuple[Any, ...] = ()  # what a point records (set: a mapping path -> label)
    distribution: str | None = None  # uniform | loguniform (continuous axes only)
    low: float = 0.0
    high: float = 0.0
    integer: bool = False
    pick: bool = False
    zipped: bool = False  # a `set` axis: each value is a tuple, one item per target

    @property
    def size(self) -> int:
        """Number of grid values (0 for a continuous distribution)."""
        return len(self.values)


@dataclass(frozen=True)
class Study:
    """A validated spec with its bases loaded and its axes made concrete."""

    spec: SweepSpec
    path: Path
    name: str
    architectures: tuple[Base, ...]
    workloads: tuple[Base, ...]
    fixed: tuple[tuple[str, str, Any], ...]  # (target, path, value)
    axes: tuple[AxisPlan, ...]

    @property
    def run_options(self) -> tuple[str, ...]:
        """The run-shape options (`run.` paths) the study fixes or sweeps."""
        names = [p for t, p, _ in self.fixed if t == "run"]
        names += [p for a in self.axes for t, p in a.targets if t == "run"]
        return tuple(dict.fromkeys(names))


# --------------------------------------------------------------------------- loading


class _Errors:
    """Collects issues with the spec's line numbers, raised together at the end."""

    def __init__(self, path: Path, lines: Mapping[tuple, int]) -> None:
        self.path = path
        self.lines = lines
        self.issues: list[ConfigIssue] = []

    def add(self, key_path: tuple, message: str) -> None:
        line = None
        for end in range(len(key_path), 0, -1):
            line = self.lines.get(tuple(key_path[:end]))
            if line is not None:
                break
        self.issues.append(ConfigIssue(format_key_path(key_path), message, line))

    def raise_if_any(self) -> None:
        if self.issues:
            raise ConfigError(self.path, self.issues)


def _find_file(spec_dir: Path, ref: str, dirs: tuple[Path, ...]) -> tuple[Path | None, list]:
    """A base path: relative to the spec, then the working directory, then preset dirs."""
    ref_path = Path(ref)
    if ref_path.is_absolute():
        candidates = [ref_path]
    else:
        candidates = [spec_dir / ref_path, ref_path]
        if ref_path.suffix not in (".yaml", ".yml"):
            candidates += [d / f"{ref}.yaml" for d in dirs]
        else:
            candidates += [d / ref_path.name for d in dirs]
    for c in candidates:
        if c.is_file():
            return c, candidates
    return None, candidates


def _load_bases(spec: SweepSpec, spec_path: Path, errors: _Errors, key: str) -> tuple[Base, ...]:
    refs = getattr(spec, key)
    refs = [refs] if isinstance(refs, str) else list(refs)
    dirs = PRESET_DIRS if key == "architecture" else WORKLOAD_DIRS
    loader = load_architecture if key == "architecture" else load_workload
    bases = []
    for i, ref in enumerate(refs):
        where = (key,) if len(refs) == 1 and isinstance(getattr(spec, key), str) else (key, i)
        file, looked = _find_file(spec_path.parent, ref, dirs)
        if file is None:
            errors.add(where, f"file not found; looked for {', '.join(str(p) for p in looked)}")
            continue
        try:
            model = loader(file)
        except ConfigError as err:
            nested = str(err).replace("\n", "\n    ")
            errors.add(where, f"the base {key} is invalid:\n    {nested}")
            continue
        bases.append(Base(ref, file, model))
    return tuple(bases)


def _target(path: str) -> tuple[str, str]:
    """'workload.weights.bits' -> ('workload', 'weights.bits'), 'run.batch' -> ('run',
    'batch'); bare paths are architecture."""
    for prefix, target in (
        ("run.", "run"),
        ("workload.", "workload"),
        ("architecture.", "architecture"),
        ("arch.", "architecture"),
    ):
        if path.startswith(prefix):
            return target, path[len(prefix) :]
    return "architecture", path


def _lookup(data: Any, path: str) -> tuple[Any, str | None]:
    """The value at `path` in a dumped config, or (None, reason) if there is none."""
    try:
        parts = split_path(path)
    except ValueError:
        return None, "empty path"
    node = data
    for i, part in enumerate(parts):
        where = format_key_path(parts[: i + 1])
        if isinstance(part, int):
            if not isinstance(node, list):
                return None, f"{format_key_path(parts[:i]) or 'the top level'} is not a list"
            if part >= len(node):
                return None, f"{where}: index out of range (the list has {len(node)} items)"
            node = node[part]
        else:
            if not isinstance(node, dict):
                what = "empty (null)" if node is None else "not a mapping"
                return None, f"{format_key_path(parts[:i]) or 'the top level'} is {what}"
            if part not in node:
                known = ", ".join(sorted(map(str, node)))
                return None, f"no key '{part}' at {where}; accepted keys there: {known}"
            node = node[part]
    return node, None


def _check_path(
    study_bases: dict[str, tuple[Base, ...]], name: str, errors: _Errors, key_path: tuple
) -> tuple[str, str] | None:
    """Resolve a dotted spec path to (target, inner path), checked against every base (a
    `run.` path against the run-shape options)."""
    target, inner = _target(name)
    if target == "run":
        if inner not in RUN_OPTIONS:
            errors.add(key_path, unknown_run_option(inner))
            return None
        return target, inner
    ok = True
    for base in study_bases[target]:
        _, reason = _lookup(base.model.model_dump(mode="python"), inner)
        if reason is not None:
            ok = False
            hint = ""
            if target == "architecture" and not name.startswith(("arch.", "architecture.")):
                wl = study_bases["workload"]
                if wl and _lookup(wl[0].model.model_dump(mode="python"), inner)[1] is None:
                    hint = f" (did you mean workload.{inner}?)"
                elif inner in RUN_OPTIONS:
                    hint = f" (did you mean run.{inner}?)"
            errors.add(key_path, f"unknown path in {target} {base.label}: {reason}{hint}")
    return (target, inner) if ok else None


def _number(value: Scalar, dimension: str | None, what: str) -> float:
    """A range bound as an SI float; strings need a unit the path's dimension accepts."""
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number; got {value!r}")
    if isinstance(value, int | float):
        return value
    if dimension is None:
        raise ValueError(
            f"{what} {value!r} has a unit but the path's name does not say its dimension; "
            "write a plain number in SI units"
        )
    return parse_quantity(value, dimension)


def _tidy(v: float) -> float:
    """Drop float noise from range arithmetic (0.30000000000000004 -> 0.3)."""
    return float(f"{v:.12g}")


def _range_values(axis: Axis, dim: str | None) -> list[Any]:
    start = _number(axis.start, dim, "start")
    stop = _number(axis.stop, dim, "stop")
    ints = all(isinstance(v, int) for v in (axis.start, axis.stop, axis.step) if v is not None)
    if axis.num is not None:
        if axis.scale == "log":
            if start <= 0 or stop <= 0:
                raise ValueError("a log range needs start and stop above 0")
            values = [_tidy(v) for v in np.geomspace(start, stop, axis.num)]
        else:
            values = [_tidy(v) for v in np.linspace(start, stop, axis.num)]
        ints = ints and axis.scale == "linear" and all(float(v).is_integer() for v in values)
    else:
        step = _number(axis.step, dim, "step")
        if step == 0 or (stop - start) / step < 0:
            raise ValueError(
                f"step {axis.step!r} does not lead from {axis.start!r} to {axis.stop!r}"
            )
        count = math.floor((stop - start) / step + 1e-9) + 1
        if count > 100_000:
            raise ValueError(f"the range has {count} values; more than 100000 is surely a typo")
        values = [_tidy(start + k * step) for k in range(count)]
    if ints or axis.integer:
        values = [int(round(v)) for v in values]
    return list(dict.fromkeys(values))


def _label(value: Any) -> Any:
    """What a point records for a value: scalars as they are, anything else as short JSON."""
    import json

    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


def _pick_labels(axis: Axis) -> list[str]:
    return ["+".join(str(item) for item in sel) for sel in axis.pick]


def _check_pick(
    axis: Axis, targets: tuple, bases: dict[str, tuple[Base, ...]], errors: _Errors, kp: tuple
) -> None:
    """Each selection names items that exist in the base list at every target path."""
    for target, inner in targets:
        if target == "run":
            errors.add(kp, f"`pick` selects items of a config list; run.{inner} is a run option")
            continue
        for base in bases[target]:
            items, _ = _lookup(base.model.model_dump(mode="python"), inner)
            if not isinstance(items, list):
                errors.add(kp, f"`pick` needs a list at {inner} in {base.label}")
                continue
            names = [it.get("name") if isinstance(it, dict) else None for it in items]
            for sel in axis.pick:
                for item in sel:
                    if isinstance(item, int):
                        if not 0 <= item < len(items):
                            errors.add(kp, f"index {item} is outside {inner} of {base.label}")
                    elif item not in names:
                        errors.add(
                            kp,
                            f"no item named '{item}' in {inner} of {base.label} "
                            f"(names: {', '.join(str(n) for n in names)})",
                        )


def _plan_axis(
    name: str, axis: Axis, bases: dict[str, tuple[Base, ...]], errors: _Errors
) -> AxisPlan | None:
    kp = ("axes", name)
    if axis.form == "set":
        return _plan_set(name, axis, bases, errors)
    paths = axis.paths or [name]
    targets = []
    for i, path in enumerate(paths):
        checked = _check_path(bases, path, errors, kp + (("paths", i) if axis.paths else ()))
        if checked is not None:
            targets.append(checked)
    if len(targets) != len(paths):
        return None
    dim = dimension_of(targets[0][1])
    try:
        if axis.form == "values":
            labels = axis.labels if axis.labels is not None else [_label(v) for v in axis.values]
            return AxisPlan(name, tuple(targets), tuple(axis.values), tuple(labels))
        if axis.form == "range":
            values = _range_values(axis, dim)
            return AxisPlan(name, tuple(targets), tuple(values), tuple(values))
        if axis.form == "pick":
            _check_pick(axis, tuple(targets), bases, errors, kp)
            selections = tuple(tuple(sel) for sel in axis.pick)
            return AxisPlan(name, tuple(targets), selections, tuple(_pick_labels(axis)), pick=True)
        if axis.distribution == "choice":
            labels = [_label(v) for v in axis.values]
            return AxisPlan(name, tuple(targets), tuple(axis.values), tuple(labels))
        low = _number(axis.low, dim, "low")
        high = _number(axis.high, dim, "high")
        if not low < high:
            raise ValueError(f"low ({axis.low!r}) must be below high ({axis.high!r})")
        if axis.distribution == "loguniform" and low <= 0:
            raise ValueError("a loguniform distribution needs low above 0")
        return AxisPlan(
            name,
            tuple(targets),
            distribution=axis.distribution,
            low=low,
            high=high,
            integer=axis.integer,
        )
    except ValueError as err:
        errors.add(kp, str(err))
        return None


def _plan_set(
    name: str, axis: Axis, bases: dict[str, tuple[Base, ...]], errors: _Errors
) -> AxisPlan | None:
    """A zipped axis: each item sets several paths at once; points record every path."""
    paths = list(axis.set_[0])
    targets = []
    for path in paths:
        checked = _check_path(bases, path, errors, ("axes", name, "set", 0, path))
        if checked is not None:
            targets.append(checked)
    if len(targets) != len(paths):
        return None
    values = tuple(tuple(item[p] for p in paths) for item in axis.set_)
    labels = []
    for i, item in enumerate(axis.set_):
        label = {p: _label(item[p]) for p in paths}
        if axis.labels is not None:
            label = {name: axis.labels[i], **label}
        labels.append(label)
    return AxisPlan(name, tuple(targets), values, tuple(labels), zipped=True)


def grid_size(study: Study) -> int:
    """Points of the full grid: axis values x bases x seeds (continuous axes excluded)."""
    n = len(study.architectures) * len(study.workloads) * len(study.spec.seeds)
    for axis in study.axes:
        n *= max(1, axis.size)
    return n


def load_spec(path: str | Path) -> Study:
    """Read and check a sweep spec; raise ConfigError listing every problem with its line."""
    path = Path(path)
    data, lines = load_yaml_with_lines(path)
    spec = validate(SweepSpec, data, path, SourceMap.from_lines(path, lines))
    errors = _Errors(path, lines)
    bases = {
        "architecture": _load_bases(spec, path, errors, "architecture"),
        "workload": _load_bases(spec, path, errors, "workload"),
    }
    errors.raise_if_any()
    fixed = []
    for key, value in spec.fixed.items():
        checked = _check_path(bases, key, errors, ("fixed", key))
        if checked is not None:
            fixed.append((*checked, value))
    axes = []
    for name, axis in spec.axes.items():
        plan = _plan_axis(name, axis, bases, errors)
        if plan is not None:
            axes.append(plan)
    fixed_paths = {(t, p) for t, p, _ in fixed}
    seen: dict[tuple[str, str], str] = {}
    for plan in axes:
        for target in plan.targets:
            if target in fixed_paths:
                errors.add(("axes", plan.name), f"{target[1]} is also in `fixed`")
            if target in seen:
                errors.add(("axes", plan.name), f"{target[1]} is also swept by {seen[target]}")
            seen[target] = plan.name
    _check_run_shape(spec, fixed, axes, errors)
    errors.raise_if_any()
    study = Study(
        spec,
        path,
        spec.name or path.stem,
        bases["architecture"],
        bases["workload"],
        tuple(fixed),
        tuple(axes),
    )
    _check_strategy(study, errors)
    errors.raise_if_any()
    from neurosim.sweep.shadow import dead_axes  # it resolves points, which need this module

    for dead in dead_axes(study):
        errors.add(("axes", dead.name), f"this axis can change nothing: {dead.reason}")
    errors.raise_if_any()
    return study


def _check_run_shape(
    spec: SweepSpec, fixed: list, axes: list[AxisPlan], errors: _Errors
) -> None:
    """Every value given to a `run.` path is one `neurosim run` accepts for its option,
    and the cached context is set in one place only."""
    for target, name, value in fixed:
        if target == "run":
            _check_run_value(name, value, errors, ("fixed", f"run.{name}"))
    for plan in axes:
        for i, (target, name) in enumerate(plan.targets):
            if target != "run":
                continue
            kp = ("axes", plan.name)
            if plan.distribution is not None:
                option = RUN_OPTIONS[name]
                if option.choices:
                    errors.add(kp, f"run.{name} takes one of {', '.join(option.choices)}; "
                               "give `values` or `distribution: choice`")
                elif not plan.integer:
                    errors.add(kp, f"run.{name} takes whole numbers; add `integer: true`")
                else:
                    for end in (plan.low, plan.high):
                        _check_run_value(name, int(round(end)), errors, kp)
                continue
            for value in plan.values:
                _check_run_value(name, value[i] if plan.zipped else value, errors, kp)
    paths = [(t, p) for t, p, _ in fixed] + [tp for a in axes for tp in a.targets]
    if ("run", "context_tokens") in paths and ("workload", "context_tokens") in paths:
        where = ("fixed",) if any(p == "context_tokens" for _, p, _ in fixed) else ("axes",)
        errors.add(
            where,
            "both run.context_tokens and workload.context_tokens are set; set the cached "
            "context once: run.context_tokens (as `neurosim run --context-tokens`, which also "
            "overrides a GPU preset's own context_tokens) or workload.context_tokens",
        )


def _check_run_value(name: str, value: Any, errors: _Errors, key_path: tuple) -> None:
    try:
        check_run_value(name, value, f"run.{name}")
    except ValueError as err:
        errors.add(key_path, str(err))


def _check_strategy(study: Study, errors: _Errors) -> None:
    spec = study.spec
    per_sample = len(study.architectures) * len(study.workloads) * len(spec.seeds)
    if spec.strategy.kind == "grid":
        for axis in study.axes:
            if axis.distribution is not None:
                errors.add(
                    ("axes", axis.name, "distribution"),
                    f"a {axis.distribution} distribution has no grid values; use strategy "
                    "random or latin_hypercube, or give `values` or a range",
                )
        if spec.budget is not None and not errors.issues:
            n = grid_size(study)
            if n > spec.budget:
                errors.add(
                    ("budget",),
                    f"the grid has {n} points, more than the budget of {spec.budget}; raise "
                    "the budget, trim the axes, or use strategy random or latin_hypercube",
                )
    else:
        if spec.budget is None:
            errors.add(("strategy",), f"strategy {spec.strategy.kind} needs a `budget`")
        elif spec.budget < per_sample:
            errors.add(
                ("budget",),
                f"each sample runs on {per_sample} base/seed combinations, more than the "
                f"budget of {spec.budget}",
            )
        if not study.axes:
            errors.add(("axes",), f"strategy {spec.strategy.kind} needs at least one axis")
