"""Property: any mutation of a shipped preset is refused with a user error, or it runs.

Hypothesis mutates the merged YAML data of `architectures/*.yaml` and
`workloads/smollm2-135m.yaml` (deleted keys, wrong types, extreme values, scaled numbers,
swapped sections) and checks that validation either refuses it with a ConfigError, or the
result decodes one token with the analytic fidelity, failing at most with another
NeurosimError (exit code 2-4). Any other exception is a bug: a user saw a traceback.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurosim.architecture import Architecture
from neurosim.config.loader import load_yaml_with_lines, resolve_extends, validate
from neurosim.config.workload import Workload
from neurosim.errors import ConfigError, NeurosimError
from neurosim.simulate.gpu import GpuArchitecture
from neurosim.simulate.systems import run_system

ROOT = Path(__file__).resolve().parent.parent
ARCH_PRESETS = sorted((ROOT / "architectures").glob("*.yaml"))
SMALL_WORKLOAD = ROOT / "workloads" / "smollm2-135m.yaml"
DEFAULT_ARCH = ROOT / "architectures" / "vck190_nsllm.yaml"


def _merged(path: Path) -> dict:
    data, lines = load_yaml_with_lines(path)
    merged, _ = resolve_extends(path, data, lines, (path.parent,))
    return merged


ARCH_DATA = {p.stem: _merged(p) for p in ARCH_PRESETS}
WORKLOAD_DATA = _merged(SMALL_WORKLOAD)


def _paths(data: Any, path: tuple = ()) -> list[tuple]:
    """Every key path below `data` (mappings and lists), provenance left out."""
    out = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("provenance", "description"):
                continue
            out.append((*path, key))
            out += _paths(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out.append((*path, i))
            out += _paths(value, (*path, i))
    return out


def _get(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


EXTREMES = [0, -1, 1, 2, 0.5, 1e-300, 1e300, 2**31, 2**63, float("nan"), float("inf"), -0.0]
WRONG_TYPES = [None, True, "x", "12 parsecs", [], {}, [1, 2], {"a": 1}]


@st.composite
def mutation(draw: st.DrawFn, data: dict) -> tuple[str, dict]:
    """A copy of `data` with one to three mutations; returns (description, data)."""
    data = copy.deepcopy(data)
    notes = []
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = _get(data, path[:-1]), path[-1]
        old = parent[key]
        kind = draw(st.sampled_from(["delete", "type", "extreme", "scale", "swap"]))
        if kind == "delete":
            del parent[key]
        elif kind == "type":
            parent[key] = draw(st.sampled_from(WRONG_TYPES))
        elif kind == "extreme":
            parent[key] = draw(st.sampled_from(EXTREMES))
        elif kind == "scale" and isinstance(old, int | float) and not isinstance(old, bool):
            factor = draw(st.sampled_from([1e-6, 1e-3, 0.1, 10, 1e3, 1e6]))
            parent[key] = type(old)(old * factor) if isinstance(old, float) else int(old * factor)
        else:  # swap in another value of the document (a section, a list, a number ...)
            other = draw(st.sampled_from(paths))
            parent[key] = copy.deepcopy(_get(data, other))
        notes.append(f"{kind} {path}")
    return "; ".join(notes), data


def _check(arch_data: dict, workload_data: dict, arch_path: Path) -> None:
    arch_model = GpuArchitecture if arch_data.get("kind") == "gpu" else Architecture
    try:
        arch = validate(arch_model, arch_data, arch_path)
        workload = validate(Workload, workload_data, SMALL_WORKLOAD)
    except ConfigError:
        return
    try:
        run_system(arch, workload, n_tokens=1, seed=0, fidelity="analytic")
    except NeurosimError as err:
        assert 2 <= err.exit_code <= 4, err


SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


@SETTINGS
@given(data=st.data())
def test_mutated_architecture_is_refused_or_runs(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(ARCH_DATA)), label="preset")
    note, arch = data.draw(mutation(ARCH_DATA[name]), label="mutation")
    _check(arch, WORKLOAD_DATA, ROOT / "architectures" / f"{name}.yaml")


@SETTINGS
@given(data=st.data())
def test_mutated_workload_is_refused_or_runs(data: st.DataObject) -> None:
    note, workload = data.draw(mutation(WORKLOAD_DATA), label="mutation")
    _check(ARCH_DATA["vck190_nsllm"], workload, DEFAULT_ARCH)


@pytest.mark.parametrize("name", sorted(ARCH_DATA))
def test_every_architecture_preset_runs_the_small_workload(name: str) -> None:
    """The unmutated starting points are valid and run (so mutations start from 'runs')."""
    _check(ARCH_DATA[name], WORKLOAD_DATA, ROOT / "architectures" / f"{name}.yaml")
