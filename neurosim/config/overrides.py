"""Change values of a validated config by dotted key path, re-validating the result."""

from __future__ import annotations

import difflib
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from neurosim.config.loader import RENAMED_KEYS, validate
from neurosim.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def split_path(path: str) -> list[str | int]:
    """'dram.channels[1].efficiency' -> ['dram', 'channels', 1, 'efficiency']."""
    parts: list[str | int] = []
    for name, index in _PART.findall(path):
        parts.append(int(index) if index else name)
    if not parts:
        raise ValueError(f"empty key path {path!r}")
    return parts


def with_overrides(model: M, overrides: dict[str, Any], source: str = "overrides") -> M:
    """A copy of `model` with each dotted path set to its value, validated again."""
    data = model.model_dump(mode="python")
    for path, value in overrides.items():
        parts = split_path(path)
        parts = list(RENAMED_KEYS.get(tuple(parts), parts))  # an older key sets the new one
        node: Any = data
        for i, part in enumerate(parts):
            where = ".".join(str(p) for p in parts[:i])
            if node is None:
                raise ConfigError.single(
                    source,
                    path,
                    f"{where} is not set (an absent optional section); set the whole "
                    f"{where} section instead",
                )
            if isinstance(node, dict) and not isinstance(part, int) and part not in node:
                raise ConfigError.single(source, path, "unknown key" + _choices(node, part))
            if isinstance(node, list) and not (isinstance(part, int) and part < len(node)):
                raise ConfigError.single(source, path, f"{where}: {_choices(node, part)[2:]}")
            if not isinstance(node, dict | list):
                raise ConfigError.single(source, path, f"{where} is a value, not a section")
            if i < len(parts) - 1:
                node = node[part]
        node[parts[-1]] = value
    try:
        return type(model).model_validate(data)
    except ValidationError as err:
        validate(type(model), data, source)
        raise ConfigError.single(source, "", str(err)) from None


def _choices(node: Any, wrong: str | int) -> str:
    """'; did you mean X? accepted keys: ...' for a dict, the valid indices for a list."""
    if isinstance(node, list):
        if not node:
            return "; the list is empty"
        return f"; no item [{wrong}]: the list has indices 0..{len(node) - 1}"
    known = sorted(str(k) for k in node)
    close = difflib.get_close_matches(str(wrong), known, n=3)
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    return f"{hint}; accepted keys: {', '.join(known)}"


def parse_assignment(text: str) -> tuple[str, str, Any]:
    """'architecture.adc.bits=6' -> ('architecture', 'adc.bits', 6); values read as YAML.

    Raises ``ValueError`` with the user-facing message.
    """
    import yaml

    key, sep, raw = text.partition("=")
    key = key.strip()
    target, dot, path = key.partition(".")
    if not sep or not key:
        raise ValueError(f"expected KEY=VALUE (e.g. architecture.adc.bits=6); got {text!r}")
    if target not in ("architecture", "workload") or not dot or not path:
        raise ValueError(
            f"{key!r}: a key starts with 'architecture.' or 'workload.' and names a field "
            "(e.g. architecture.adc.bits, workload.weights.bits)"
        )
    try:
        split_path(path)
        value = yaml.safe_load(raw) if raw.strip() else raw
    except (ValueError, yaml.YAMLError) as err:
        raise ValueError(f"{key}: cannot read the value {raw!r} ({err})") from None
    return target, path, value
