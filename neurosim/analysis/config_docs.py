"""Which config models each file kind holds, their JSON Schema and the config reference.

`neurosim schema KIND` prints `config_schema(KIND)`; `docs/config-reference.md` is
`config_reference()` (written by `scripts/config_reference.py`, checked by a test). It sits
above the sweep package because a sweep spec is one of the file kinds.
"""

from __future__ import annotations

from neurosim.architecture import Architecture
from neurosim.config.schema import json_schema, reference_markdown
from neurosim.config.workload import Workload
from neurosim.simulate.gpu import GpuArchitecture
from neurosim.sweep.spec import SweepSpec

CONFIG_KINDS = {
    "architecture": "Architecture files (`architectures/*.yaml`)",
    "workload": "Workload files (`workloads/*.yaml`)",
    "sweep": "Sweep specs (`architectures/sweeps/*.yaml`)",
}


def config_models(kind: str) -> list[type]:
    """The config models a file of one kind may hold (an architecture: a chip or a GPU)."""
    if kind == "architecture":
        return [Architecture, GpuArchitecture]
    if kind == "workload":
        return [Workload]
    if kind == "sweep":
        return [SweepSpec]
    raise ValueError(f"unknown config kind {kind!r}; known: {', '.join(CONFIG_KINDS)}")


def config_schema(kind: str) -> dict:
    """JSON Schema of one config file kind (`neurosim schema KIND`)."""
    return json_schema(config_models(kind), f"neurosim {kind}", extends=kind != "sweep")


def config_reference() -> str:
    """docs/config-reference.md: every field of every section of every file kind."""
    return reference_markdown([(title, config_models(k)) for k, title in CONFIG_KINDS.items()])
