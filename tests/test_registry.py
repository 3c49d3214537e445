"""The component registry: every kind is one class, every field is described, unknown
kinds are errors, and the planner never branches on a config's type."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from neurosim.architecture import Architecture
from neurosim.components.registry import COMPUTE_KINDS
from neurosim.components.topologies import TOPOLOGIES, layout_for

ROOT = Path(__file__).resolve().parent.parent


def _models(annotation) -> list[type[BaseModel]]:
    """Pydantic model classes inside a field annotation (unions, lists, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def _all_sections() -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    todo = [Architecture, *COMPUTE_KINDS.values(), *TOPOLOGIES.values()]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            todo += _models(field.annotation)
    return seen


def test_every_architecture_field_has_a_description():
    missing = [
        f"{model.__name__}.{name}"
        for model in _all_sections()
        for name, field in model.model_fields.items()
        if name not in ("kind", "provenance") and not field.description
    ]
    assert not missing, missing


@pytest.mark.parametrize("name", ["static_power_w", "count", "area_m2", "array_area_m2"])
def test_per_what_is_said_the_same_way(name):
    """Fields whose meaning could be per array, per unit or per chip open with it."""
    found = 0
    for model in _all_sections():
        field = model.model_fields.get(name)
        if field is not None:
            found += 1
            text = field.description or ""
            assert re.match(r"^per (system|chip|channel|unit|array|converter)\b", text), (
                f"{model.__name__}.{name}: {text!r}"
            )
    assert found


def test_unknown_chip_topology_is_an_error_not_a_crossbar():
    with pytest.raises(ValueError, match=r"unknown topology kind 'torus'.*crossbar.*mesh.*ring"):
        layout_for("torus", 4)
    assert layout_for("crossbar", 3).links() == [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]


def test_no_module_outside_the_components_branches_on_config_types():
    kinds = "|".join([*COMPUTE_KINDS, *TOPOLOGIES])
    pattern = re.compile(
        rf"isinstance\([^)]*(Config|Topology)\b|kind\s*(==|!=)\s*['\"]({kinds})['\"]"
    )
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "neurosim").rglob("*.py")
        if "components" not in path.parts and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders
