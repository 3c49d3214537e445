"""Every numeric config field has a finite accepted range, and absurd numbers are refused."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field

import neurosim.architecture
import neurosim.config.workload
import neurosim.simulate.gpu
import neurosim.sweep.spec  # noqa: F401  (defines config models too)
from neurosim.architecture import Architecture
from neurosim.config.base import StrictModel
from neurosim.config.bounds import ANY_FINITE, Range, has_number
from neurosim.config.loader import load_yaml_with_lines, resolve_extends, validate
from neurosim.config.repeat import expand_repeats
from neurosim.config.workload import Workload
from neurosim.errors import ConfigError
from neurosim.simulate.gpu import GpuArchitecture
from neurosim.units import PositiveSeconds

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURES = sorted((ROOT / "architectures").glob("*.yaml"))
WORKLOADS = sorted((ROOT / "workloads").glob("*.yaml"))

# swept values are checked by the config each point is applied to
UNBOUNDED_ON_PURPOSE = {f"Axis.{name}" for name in ("start", "stop", "step", "low", "high")}
UNBOUNDED_ON_PURPOSE.add("Axis.labels")


def _models(cls: type = StrictModel) -> list[type[StrictModel]]:
    out = []
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("neurosim."):
            out.append(sub)
        out += _models(sub)
    return out


def test_every_numeric_field_of_every_config_model_has_a_finite_range() -> None:
    models = _models()
    assert {Architecture, Workload, GpuArchitecture} <= set(models)
    checked = 0
    for model in models:
        for name, info in model.model_fields.items():
            if not has_number(info.annotation):
                continue
            key = f"{model.__name__}.{name}"
            bound = model.range_of(name)
            assert bound is not None, key
            checked += 1
            if key in UNBOUNDED_ON_PURPOSE:
                assert bound is ANY_FINITE, key
                continue
            assert math.isfinite(bound.low) and math.isfinite(bound.high), key
            assert bound.low <= bound.high, key
            assert bound.high < 2**63, f"{key}: an upper bound beyond int64"
    assert checked > 100


def test_a_numeric_field_without_a_range_cannot_be_defined() -> None:
    with pytest.raises(TypeError, match="Gadget.widgets is numeric but has no accepted range"):

        class Gadget(StrictModel):
            widgets: int = Field(gt=0)

    class Timed(StrictModel):  # a unit suffix is enough
        delay_s: PositiveSeconds

    with pytest.raises(ValueError, match=r"must be between 0 and 1 s \(.*\); got 5"):
        Timed(delay_s=5)


def test_range_check_reaches_into_lists_and_mappings() -> None:
    bound = Range(0, 10, "B")
    bound.check([1, 2, {"a": 3}])
    with pytest.raises(ValueError, match=r"between 0 and 10 B; got 11"):
        bound.check([1, {"a": 11}])
    with pytest.raises(ValueError, match="got nan"):
        bound.check(float("nan"))
    bound.check("not a number")  # left to the field's type
    bound.check(True)


# --------------------------------------------------------------------------- presets, leaf by leaf


def _numeric_leaves(data: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(data, dict):
        if path[:1] == ("provenance",):
            return []
        return [leaf for k, v in data.items() for leaf in _numeric_leaves(v, (*path, k))]
    if isinstance(data, list):
        return [leaf for i, v in enumerate(data) for leaf in _numeric_leaves(v, (*path, i))]
    if isinstance(data, int | float) and not isinstance(data, bool):
        return [path]
    if isinstance(data, str) and data[:1].isdigit() and path[-1] not in TEXT_KEYS:
        return [path]  # "25.6 GB/s"
    return []


def _set(data: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, list):
        return [_set(v, rest, value) if i == head else v for i, v in enumerate(data)]
    return {k: (_set(v, rest, value) if k == head else v) for k, v in data.items()}


def _merged(path: Path) -> Any:
    data, lines = load_yaml_with_lines(path)
    merged, source_map = resolve_extends(path, data, lines, (path.parent,))
    expanded, _ = expand_repeats(merged, source_map.locations, source_map.path)
    return expanded  # as load_config sees it: repeated list items written out


def _model_for(data: dict) -> type[StrictModel]:
    if "blocks" in data:
        return Workload
    return GpuArchitecture if data.get("kind") == "gpu" else Architecture


TEXT_KEYS = ("name", "description", "source", "workload")
ABSURD = [2**63, -(2**63), 1e308, -1e308, float("nan"), float("inf"), "1e400 s"]


@pytest.mark.parametrize("preset", ARCHITECTURES + WORKLOADS, ids=lambda p: p.stem)
def test_an_absurd_number_anywhere_in_a_preset_is_refused_at_its_key(preset: Path) -> None:
    data = _merged(preset)
    model = _model_for(data)
    validate(model, data, preset)  # the preset itself is valid
    leaves = _numeric_leaves(data)
    assert len(leaves) > 10
    for leaf in leaves:
        for value in ABSURD:
            with pytest.raises(ConfigError) as info:
                validate(model, _set(data, leaf, value), preset)
            keys = [issue.key_path for issue in info.value.issues]
            dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in leaf)
            assert any(dotted.lstrip(".").startswith(k) for k in keys if k), (leaf, value, keys)
