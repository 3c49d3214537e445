"""One entry point for every kind of system: event-driven architectures and the GPU model."""

from __future__ import annotations

from neurosim.config.architecture import Architecture
from neurosim.config.workload import Workload
from neurosim.gpu import GpuArchitecture, simulate_gpu
from neurosim.results import Result
from neurosim.simulate.run import simulate
from neurosim.workload.spikes import SpikeSource

AnyArchitecture = Architecture | GpuArchitecture


def run_system(
    arch: AnyArchitecture,
    workload: Workload,
    *,
    n_tokens: int = 8,
    seed: int = 0,
    fidelity: str = "des",
    contention: bool = True,
    source: SpikeSource | None = None,
    progress=None,
    arch_source: str | None = None,
    attention: str | None = None,
    context_tokens: int | None = None,
) -> Result:
    """Decode `n_tokens` of `workload` on `arch`: the DES/analytic simulator for chips, the
    analytical roofline for a GPU (which has one fidelity: `fidelity` is ignored)."""
    if isinstance(arch, GpuArchitecture):
        return simulate_gpu(
            arch, workload, n_tokens=n_tokens, seed=seed, source=source, attention=attention,
            context_tokens=context_tokens, progress=progress,
        )
    return simulate(
        arch, workload, n_tokens=n_tokens, seed=seed, fidelity=fidelity, contention=contention,
        source=source, progress=progress, arch_source=arch_source,
    )
