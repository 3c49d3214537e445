"""Declarative parameter sweeps: specs, point expansion, parallel execution, result store.

Typical use::

    from neurosim.sweep import load_spec, run_study, load_study

    study = load_spec("architectures/sweeps/vck190_dram_clock_bits.yaml")
    run_study(study, "results/sweeps/vck190_dram_clock_bits.db", jobs=2)
    frame = load_study("results/sweeps/vck190_dram_clock_bits.db")  # pandas DataFrame
"""

from neurosim.sweep.execute import Progress, StudyRun, default_jobs, plan_study, run_study
from neurosim.sweep.points import Point, Skipped, Task, expand, resolve_all
from neurosim.sweep.spec import (
    DEFAULT_METRICS,
    KNOWN_METRICS,
    Study,
    SweepSpec,
    dimension_of,
    grid_size,
    load_spec,
)
from neurosim.sweep.store import Store, export_study, load_study

__all__ = [
    "DEFAULT_METRICS",
    "KNOWN_METRICS",
    "Point",
    "Progress",
    "Skipped",
    "Store",
    "Study",
    "StudyRun",
    "SweepSpec",
    "Task",
    "default_jobs",
    "dimension_of",
    "expand",
    "export_study",
    "grid_size",
    "load_spec",
    "load_study",
    "plan_study",
    "resolve_all",
    "run_study",
]
