"""Change values of a validated config by dotted key path, re-validating the result."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

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
        node: Any = data
        for i, part in enumerate(parts[:-1]):
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                where = ".".join(str(p) for p in parts[: i + 1])
                raise ConfigError.single(source, path, f"no such key: {where}") from None
        last = parts[-1]
        if isinstance(node, dict) and last not in node and not isinstance(last, int):
            known = ", ".join(sorted(node))
            raise ConfigError.single(source, path, f"unknown key; accepted keys: {known}")
        node[last] = value
    try:
        return type(model).model_validate(data)
    except ValidationError as err:
        from neurosim.config.loader import validate

        validate(type(model), data, source)
        raise ConfigError.single(source, "", str(err)) from None
