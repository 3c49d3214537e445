"""Repetition in config lists: one item written once stands for `count` identical parts.

A list item with a `repeat` key becomes `count` items (32 HBM pseudo-channels, 8 DRAM
ranks, ...)::

    channels:
      - repeat: 32                 # or {count: 32, start: 1}
        name: "hbm_pc{i:02d}"      # {i} -> the instance number (from `start`, default 0)
        attach_node: 0
        vary: {attach_node: [2, 5]}  # per instance, in turn: 2, 5, 2, 5, ...
        capacity_bytes: 512 MiB
        ...

Every string of the item (at any depth) has `{i}` or `{i:FORMAT}` replaced by the
instance number; `vary` gives a key's values instance by instance, taken in turn. An
error in instance k is reported at the line of the written item.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from neurosim.errors import ConfigError

REPEAT = "repeat"
VARY = "vary"
MAX_REPEAT = 4096
"""Most instances one item may stand for (the largest systems route 4,096 units)."""

_INDEX = re.compile(r"\{i(?::([^{}]*))?\}")

KeyPath = tuple[Any, ...]


def _fail(where: Mapping[KeyPath, tuple[Path, int]], root: Path, key: KeyPath, message: str):
    file, line = _locate(where, key)
    text_key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in key).lstrip(".")
    return ConfigError.single(root, text_key, message, line, None if file == root else file)


def _locate(where: Mapping[KeyPath, tuple[Path, int]], key: KeyPath) -> tuple[Path | None, Any]:
    for end in range(len(key), 0, -1):
        found = where.get(key[:end])
        if found is not None:
            return found
    return None, None


def _substitute(value: Any, index: int) -> Any:
    """`value` with every `{i}` / `{i:FORMAT}` in its strings replaced by `index`."""
    if isinstance(value, str):
        return _INDEX.sub(lambda m: format(index, m.group(1) or ""), value)
    if isinstance(value, dict):
        return {k: _substitute(v, index) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, index) for v in value]
    return value


def _count_and_start(spec: Any, fail) -> tuple[int, int]:
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - {"count", "start"})
        if unknown:
            raise fail(f"unknown key {unknown[0]!r}; accepted keys: count, start")
        count, start = spec.get("count"), spec.get("start", 0)
    else:
        count, start = spec, 0
    for name, value, low in (("count", count, 1), ("start", start, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise fail(f"{name} must be an integer >= {low}; got {value!r}")
    if count > MAX_REPEAT:
        raise fail(f"count must be at most {MAX_REPEAT}; got {count}")
    return count, start


def _instances(item: dict, key: KeyPath, where, root: Path) -> list[dict]:
    """The `count` items one repeated item stands for."""
    count, start = _count_and_start(
        item[REPEAT], lambda m: _fail(where, root, (*key, REPEAT), m)
    )
    vary = item.get(VARY, {})
    if not isinstance(vary, dict):
        raise _fail(where, root, (*key, VARY), "expected a mapping of key -> list of values")
    for name, values in vary.items():
        if not isinstance(values, list) or not values:
            raise _fail(
                where, root, (*key, VARY, name), f"expected a non-empty list; got {values!r}"
            )
    template = {k: v for k, v in item.items() if k not in (REPEAT, VARY)}
    out = []
    for k in range(count):
        instance = _substitute(template, start + k)
        for name, values in vary.items():
            instance[name] = values[k % len(values)]
        out.append(instance)
    return out


def expand_repeats(
    data: Any, locations: Mapping[KeyPath, tuple[Path, int]], root: Path
) -> tuple[Any, dict[KeyPath, tuple[Path, int]]]:
    """`data` with every repeated list item expanded, and the locations of the expanded
    keys (each instance's keys point at the written item's lines)."""
    out: dict[KeyPath, tuple[Path, int]] = {}

    def walk(node: Any, new: KeyPath, old: KeyPath) -> Any:
        if old in locations:
            out[new] = locations[old]
        if isinstance(node, dict):
            return {k: walk(v, (*new, k), (*old, k)) for k, v in node.items()}
        if not isinstance(node, list):
            return node
        items = []
        for i, item in enumerate(node):
            here = (*old, i)
            if isinstance(item, dict) and REPEAT in item:
                for instance in _instances(item, here, locations, root):
                    items.append(walk(instance, (*new, len(items)), here))
            else:
                items.append(walk(item, (*new, len(items)), here))
        return items

    return walk(data, (), ()), out
