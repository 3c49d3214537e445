"""Shared fixtures: the tiny test architecture and workload, and a helper to vary them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel

from neurosim.architecture import Architecture
from neurosim.config.loader import load_config
from neurosim.config.workload import Workload

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent
TINY_ARCH = FIXTURES / "tiny_arch.yaml"
TINY_WORKLOAD = FIXTURES / "tiny_workload.yaml"
VCK190_ARCH = REPO / "architectures" / "vck190_nsllm.yaml"
NSLLM_WORKLOAD = REPO / "workloads" / "nsllm-1.5b.yaml"
TWO_CHIPS = {
    "count": 2,
    "topology": "mesh",
    "gateway_node": 0,
    "link_bandwidth_bytes_per_s": "1 GB/s",
    "link_latency_s": "100 ns",
    "energy_j_per_bit": "10 pJ/bit",
    "static_power_w": 0.0,
}
"""A `chips` section joining two tiny chips by a 1 GB/s link (multi-chip test cases)."""

ModelT = TypeVar("ModelT", bound=BaseModel)


def _split(path: str) -> list[str | int]:
    """``"dram.channels[1].name"`` -> ``["dram", "channels", 1, "name"]``."""
    parts: list[str | int] = []
    for piece in path.split("."):
        name, *indices = piece.split("[")
        if name:
            parts.append(name)
        parts += [int(i.rstrip("]")) for i in indices]
    return parts


def variant(model: ModelT, updates: Mapping[str, Any]) -> ModelT:
    """A re-validated copy of `model` with values replaced at dotted key paths.

    ``variant(arch, {"mapping.tile_bytes": 512, "dram.channels[0].latency_s": 1e-7})``.
    Values may be anything the schema accepts (numbers, "3 ns" strings, dicts); setting
    a key to a dict replaces that whole subtree. The copy goes through full validation,
    so cross-field checks (nodes inside the topology, tied embeddings) still apply.
    """
    data = model.model_dump(mode="python")
    for path, value in updates.items():
        keys = _split(path)
        node = data
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return type(model).model_validate(data)


@pytest.fixture(scope="session")
def tiny_arch() -> Architecture:
    """4 cores, 2 DRAM channels on a 3x2 mesh; part of the tiny workload streams."""
    return load_config(Architecture, TINY_ARCH)


@pytest.fixture(scope="session")
def tiny_workload() -> Workload:
    """2 blocks of width 48 with linear attention, 100-word tied head."""
    return load_config(Workload, TINY_WORKLOAD)


@pytest.fixture(scope="session")
def tiny_crossbar() -> Architecture:
    """A small analog-crossbar architecture (tests/fixtures/tiny_crossbar.yaml)."""
    return load_config(Architecture, FIXTURES / "tiny_crossbar.yaml")


@pytest.fixture(scope="session")
def make_variant():
    """The `variant` helper as a fixture, for tests that prefer injection to import."""
    return variant
