"""neurosim: a discrete-event simulator of neuromorphic and in-memory-compute systems.

The public API, for scripts and notebooks (the command line is built on the same calls)::

    import neurosim
    arch = neurosim.load_architecture("architectures/vck190_nsllm.yaml")
    workload = neurosim.load_workload("workloads/nsllm-1.5b.yaml")
    result = neurosim.run_system(arch, workload, n_tokens=4, fidelity="analytic")
    print(result.metrics["tokens_per_s"])

Names are imported on first use, so `import neurosim` stays cheap.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "load_architecture": "neurosim.simulate.systems",
    "load_workload": "neurosim.simulate.systems",
    "run_system": "neurosim.simulate.systems",
    "prepare": "neurosim.simulate.run",
    "Result": "neurosim.results.record",
    "write_result": "neurosim.results.record",
    "METRICS": "neurosim.results.metrics",
    "Architecture": "neurosim.architecture",
    "Workload": "neurosim.config.workload",
    "with_overrides": "neurosim.config.overrides",
    "NeurosimError": "neurosim.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'neurosim' has no attribute {name!r}")
