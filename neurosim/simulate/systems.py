"""One entry point for every kind of system: event-driven architectures and the GPU model."""

from __future__ import annotations

from pathlib import Path

from neurosim.config.architecture import Architecture
from neurosim.config.loader import load_config, load_yaml_with_lines, resolve_extends
from neurosim.config.workload import Workload
from neurosim.errors import ConfigError
from neurosim.gpu import GpuArchitecture, simulate_gpu
from neurosim.results import Result
from neurosim.simulate.run import simulate
from neurosim.workload.spikes import SpikeSource

ROOT = Path(__file__).resolve().parent.parent.parent
PRESET_DIRS = (Path("architectures"), ROOT / "architectures")
WORKLOAD_DIRS = (Path("workloads"), ROOT / "workloads")

AnyArchitecture = Architecture | GpuArchitecture


def file_kind(path: Path) -> str:
    """'architecture', 'gpu' or 'workload', judged from the file merged with its preset."""
    data, lines = load_yaml_with_lines(path)
    if isinstance(data, dict) and "extends" in data:
        try:
            data, _ = resolve_extends(path, data, lines, PRESET_DIRS + WORKLOAD_DIRS)
        except ConfigError:
            pass  # judge from the file's own keys; loading it reports the problem properly
    if "blocks" in data or "embedding" in data:
        return "workload"
    if data.get("kind") == "gpu":
        return "gpu"
    if "compute" in data or "dram" in data or "interconnect" in data or "extends" in data:
        return "architecture"  # an unresolvable `extends` is reported by the loader
    raise ConfigError.single(
        path,
        "",
        "cannot tell what this file describes: an architecture has a 'compute' "
        "section, a workload has 'blocks' and 'embedding'",
    )


def load_architecture(path: Path) -> AnyArchitecture:
    """Load and validate an architecture file (an event-driven system or a GPU)."""
    model = GpuArchitecture if file_kind(path) == "gpu" else Architecture
    return load_config(model, path, search_dirs=PRESET_DIRS)


def load_workload(path: Path) -> Workload:
    """Load and validate a workload file."""
    return load_config(Workload, path, search_dirs=WORKLOAD_DIRS)


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
    prepared=None,
) -> Result:
    """Decode `n_tokens` of `workload` on `arch`: the DES/analytic simulator for chips, the
    analytical roofline for a GPU (which has one fidelity: `fidelity` is ignored).
    `prepared` (chips only) is `simulate.run.prepare(arch, workload)`, reused."""
    if isinstance(arch, GpuArchitecture):
        return simulate_gpu(
            arch, workload, n_tokens=n_tokens, seed=seed, source=source, attention=attention,
            context_tokens=context_tokens, progress=progress,
        )
    return simulate(
        arch, workload, n_tokens=n_tokens, seed=seed, fidelity=fidelity, contention=contention,
        source=source, progress=progress, arch_source=arch_source, prepared=prepared,
    )
