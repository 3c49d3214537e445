"""Check that every number in a preset names its source in the `provenance` block."""

from __future__ import annotations

import re
from typing import Any

_NUMBER_WITH_UNIT = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*[A-Za-zµμ%/^2 ]*$")
_NOT_NUMBERS = {"name", "description", "source", "workload", "kind", "scheme", "extends"}


def _leaves(data: Any, prefix: str = ""):
    if isinstance(data, dict):
        for k, v in data.items():
            if k in ("provenance", "published"):
                continue
            yield from _leaves(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _leaves(v, f"{prefix}[{i}]")
    else:
        yield prefix, data


def _is_number(key: str, value: Any) -> bool:
    last = re.split(r"[.\[]", key)[-1]
    if last in _NOT_NUMBERS or isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and bool(_NUMBER_WITH_UNIT.match(value))


def unsourced_numbers(data: dict) -> list[str]:
    """Key paths of numbers not covered by a provenance entry (the path or a parent)."""
    provenance = data.get("provenance") or {}
    missing = []
    for key, value in _leaves(data):
        if not _is_number(key, value):
            continue
        covered = any(
            key == p or key.startswith(p + ".") or key.startswith(p + "[") for p in provenance
        )
        if not covered:
            missing.append(key)
    return missing
