"""Find swept axes that can change nothing, and the keys that shadow them.

An axis is *live* when two of its values give different *effective* configs: the resolved
architecture and workload with what the simulator never reads taken out, and the run
options (the run shape: batch, prompt, context). Unread are the
documentation keys (`description`, `provenance`, `published`) and shadowed defaults: a
workload's ``spikes.synthetic.default`` once every site has its own statistics under
``spikes.synthetic.sites``. An axis is probed on every base, in combinations of the other
axes' values taken from the study's own points (so an axis that only matters when another
axis clears the per-site statistics is live). One that changes nothing anywhere is an
error naming the key that shadows it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from neurosim.config.overrides import split_path
from neurosim.sweep.points import Point, Skipped, Task, _Resolver, expand
from neurosim.sweep.spec import AxisPlan, Study

__all__ = ["DeadAxis", "dead_axes", "effective_config"]

MAX_CONTEXTS = 64
"""Combinations of the other axes (and bases) an axis is tried in before it is called dead."""


@dataclass(frozen=True)
class _Unread:
    """A section of a config the simulator does not read, when `why` says so."""

    target: str  # architecture | workload
    path: tuple[str, ...]
    why: Callable[[dict, str], str | None]  # (config dump, swept inner path) -> reason


def _documentation(_dump: dict, _path: str) -> str:
    return "it is documentation: the simulator never reads it"


def _site_defaults(dump: dict, path: str) -> str | None:
    """spikes.synthetic.default is unread when every site has its own statistics."""
    sites = [*dump.get("blocks", {}).get("sites", {}), "head"]
    own = dump.get("spikes", {}).get("synthetic", {}).get("sites") or {}
    if not sites or any(s not in own for s in sites):
        return None
    field = split_path(path)[3:]  # what inside `default` the axis sets
    suffix = "".join(f".{p}" if isinstance(p, str) else f"[{p}]" for p in field)
    keys = ", ".join(f"spikes.synthetic.sites.{s}{suffix}" for s in sites)
    return (
        f"every site has its own statistics, which override it: {keys}; to change the "
        "firing of every site, sweep those paths together (an axis with `paths`)"
    )


_DOCUMENTATION = ("description", "provenance", "published")

UNREAD = (
    *(
        _Unread(target, (key,), _documentation)
        for target in ("architecture", "workload")
        for key in _DOCUMENTATION
    ),
    _Unread("workload", ("spikes", "synthetic", "default"), _site_defaults),
)
"""Every rule of what the simulator does not read; `effective_config` applies them all."""


def effective_config(target: str, dump: dict) -> dict:
    """A copy of a resolved config dump without the sections the simulator does not read."""
    out = copy.deepcopy(dump)
    for rule in UNREAD:
        if rule.target != target:
            continue
        inner = ".".join(rule.path)
        if rule.why(dump, inner) is None:
            continue
        node = out
        for part in rule.path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(rule.path[-1], None)
    return out


@dataclass(frozen=True)
class DeadAxis:
    """An axis none of whose values changes the effective config, and why."""

    name: str
    reason: str


def _outcome(item: Task | Skipped) -> str:
    """What a resolved point amounts to: its effective configs, or its skip reason."""
    if isinstance(item, Skipped):
        return "skipped: " + item.reason
    eff = {t: effective_config(t, item.config[t]) for t in ("architecture", "workload")}
    eff["options"] = item.config["options"]  # the run shape (batch, prompt, ...) among them
    return json.dumps(eff, sort_keys=True, default=str)


def _candidates(axis: AxisPlan) -> list[tuple[Any, Any]]:
    """(value, label) pairs to try: every grid value, or a distribution's two ends."""
    if axis.distribution is None:
        return list(zip(axis.values, axis.labels, strict=True))
    ends = [axis.low, axis.high]
    if axis.integer:
        ends = [int(round(v)) for v in ends]
    return [(v, v) for v in ends]


def _contexts(study: Study, index: int) -> Iterator[Point]:
    """Points of the study with distinct bases and other-axis values (axis `index` free)."""
    seen: set[tuple] = set()
    for point in expand(study):
        others = tuple(
            json.dumps(v, sort_keys=True, default=str)
            for i, v in enumerate(point.values)
            if i != index
        )
        key = (point.architecture, point.workload, others)
        if key in seen:
            continue
        seen.add(key)
        yield point
        if len(seen) >= MAX_CONTEXTS:
            return


def _explain(study: Study, axis: AxisPlan, point: Point, resolver: _Resolver) -> str:
    """Why the axis changes nothing: the unread rule that covers each of its paths."""
    task = resolver.resolve(point)
    reasons = []
    for target, inner in axis.targets:
        dump = task.config.get(target, {}) if isinstance(task, Task) else {}
        for rule in UNREAD:
            prefix = ".".join(rule.path)
            if rule.target == target and (inner == prefix or inner.startswith(prefix + ".")):
                why = rule.why(dump, inner)
                if why is not None:
                    reasons.append(f"{inner} changes nothing: {why}")
    if not reasons:
        reasons.append(
            "every value gives the same resolved architecture, workload and run options"
        )
    return "; ".join(reasons)


def dead_axes(study: Study) -> list[DeadAxis]:
    """The axes of `study` that can change nothing, each with the reason."""
    if not study.axes:
        return []
    resolver = _Resolver(study)
    dead = []
    for i, axis in enumerate(study.axes):
        candidates = _candidates(axis)
        if len(candidates) < 2:
            continue  # one value is a fixed value written as an axis; nothing to compare
        live = False
        last: Point | None = None
        for context in _contexts(study, i):
            outcomes = set()
            for value, label in candidates:
                values = (*context.values[:i], value, *context.values[i + 1 :])
                labels = (*context.labels[:i], label, *context.labels[i + 1 :])
                last = replace(context, values=values, labels=labels)
                outcomes.add(_outcome(resolver.resolve(last)))
                if len(outcomes) > 1:
                    live = True
                    break
            if live:
                break
        if not live and last is not None:
            dead.append(DeadAxis(axis.name, _explain(study, axis, last, resolver)))
    return dead
