"""Spike traces of real spiking-LLM activations: extraction, file format, replay, analytics.

Light names (file format and replay, numpy only) are imported here; the model loaders
(`gguf_llama`, `torch_export`), the extraction pipeline (`extract`), the analytics
(`stats`, needs pandas) and the figures (`plots`, matplotlib) load on first use.
"""

from __future__ import annotations

import importlib

from neurosim.trace.format import TraceReader, TraceWriter, open_trace
from neurosim.trace.replay import (
    TraceSpikeSource,
    check_trace_matches,
    workload_dict_from_trace,
    workload_for_trace,
)

_LAZY = {
    "ActivationModel": "neurosim.trace.activations",
    "SiteSpec": "neurosim.trace.activations",
    "GgufLlama": "neurosim.trace.gguf_llama",
    "load_smollm2": "neurosim.trace.gguf_llama",
    "TorchActivationModel": "neurosim.trace.torch_export",
    "llama_sites": "neurosim.trace.torch_export",
    "ExtractConfig": "neurosim.trace.extract",
    "extract": "neurosim.trace.extract",
    "evaluate": "neurosim.trace.extract",
    "tally_trace": "neurosim.trace.stats",
    "site_table": "neurosim.trace.stats",
    "type_table": "neurosim.trace.stats",
    "mi_table": "neurosim.trace.stats",
    "histogram_table": "neurosim.trace.stats",
    "fit_synthetic_stats": "neurosim.trace.stats",
}

__all__ = [
    "TraceReader",
    "TraceSpikeSource",
    "TraceWriter",
    "check_trace_matches",
    "open_trace",
    "workload_dict_from_trace",
    "workload_for_trace",
    *sorted(_LAZY),
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'neurosim.trace' has no attribute {name!r}")
