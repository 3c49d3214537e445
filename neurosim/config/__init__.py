"""Configuration infrastructure: strict models and the YAML loader with line-accurate errors."""

from neurosim.config.base import StrictModel
from neurosim.config.loader import (
    SourceMap,
    load_config,
    load_yaml_with_lines,
    resolve_extends,
    validate,
)

__all__ = [
    "SourceMap",
    "StrictModel",
    "load_config",
    "load_yaml_with_lines",
    "resolve_extends",
    "validate",
]
