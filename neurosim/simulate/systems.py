"""One entry point for every kind of system: event-driven architectures and the GPU model."""

from __future__ import annotations

import difflib
from pathlib import Path

from neurosim.architecture import Architecture
from neurosim.config.loader import load_config, load_yaml_with_lines, resolve_extends
from neurosim.config.overrides import with_overrides
from neurosim.config.workload import Workload
from neurosim.errors import ConfigError, SimulationError
from neurosim.results.record import Result
from neurosim.simulate.gpu import GpuArchitecture, simulate_gpu
from neurosim.simulate.run import simulate
from neurosim.workload.spikes import SpikeSource

ROOT = Path(__file__).resolve().parent.parent.parent
PRESET_DIRS = (Path("architectures"), ROOT / "architectures")
WORKLOAD_DIRS = (Path("workloads"), ROOT / "workloads")

AnyArchitecture = Architecture | GpuArchitecture
SEARCH_DIRS = {"architecture": PRESET_DIRS, "workload": WORKLOAD_DIRS}


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def preset_names(kind: str) -> list[str]:
    """Names of the shipped (and ./architectures or ./workloads) presets of one kind."""
    return sorted({p.stem for d in SEARCH_DIRS[kind] if d.is_dir() for p in d.glob("*.yaml")})


def _preset_file(kind: str, name: str) -> Path | None:
    for directory in SEARCH_DIRS[kind]:
        candidate = directory / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    return None


def resolve_config_path(ref: str | Path, kind: str) -> Path:
    """A config file given as a path or a preset name (`vck190_nsllm`, `nsllm-1.5b`).

    Raises ``ValueError`` with the user-facing message: a directory, a missing file, a
    preset of the other kind (arguments swapped?) or an unknown name with the known ones.
    """
    path = Path(ref)
    if path.is_dir():
        raise ValueError(f"{path} is a directory; expected {_a(kind)} YAML file or preset name")
    if path.is_file():
        return path
    name = str(ref)
    looks_like_name = "/" not in name and "\\" not in name
    stem = name.removesuffix(".yaml").removesuffix(".yml") if looks_like_name else ""
    found = _preset_file(kind, stem) if stem else None
    if found is not None:
        return found
    other = "workload" if kind == "architecture" else "architecture"
    if stem and _preset_file(other, stem) is not None:
        raise ValueError(
            f"{name!r} is {_a(other)} preset, not {_a(kind)}; did you swap the arguments?"
        )
    if not looks_like_name:
        if not path.parent.exists():
            raise ValueError(f"{path}: file not found (no directory {path.parent})")
        raise ValueError(f"{path}: file not found")
    known = preset_names(kind)
    close = difflib.get_close_matches(stem, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ValueError(
        f"{name!r} is neither a file nor {_a(kind)} preset; {hint}known presets: "
        + ", ".join(known)
    )


def check_kind(path: Path, expected: str, role: str) -> None:
    """Refuse a workload given where an architecture is expected (and the other mix-ups of
    architecture, workload and sweep spec files)."""
    kind = file_kind(path)
    kind = "architecture" if kind == "gpu" else kind
    if kind != expected:
        raise ConfigError.single(
            path,
            "",
            f"this looks like {_a(kind)}, but {role} expects {_a(expected)}",
        )


def file_kind(path: Path) -> str:
    """'architecture', 'gpu', 'workload' or 'sweep', judged from the file merged with its
    preset."""
    data, lines = load_yaml_with_lines(path)
    if not isinstance(data, dict):
        raise ConfigError.single(path, "", "expected a mapping of keys at the top of the file")
    if "extends" in data:
        try:
            data, _ = resolve_extends(path, data, lines, PRESET_DIRS + WORKLOAD_DIRS)
        except ConfigError:
            pass  # judge from the file's own keys; loading it reports the problem properly
    if "axes" in data:
        return "sweep"
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
    batch: int = 1,
    prompt_tokens: int = 0,
    workload_source: str | None = None,
    recorder=None,
) -> Result:
    """Decode `n_tokens` of `workload` for each of `batch` sequences on `arch`, after a
    prefill of `prompt_tokens` (0: none) with `context_tokens` already cached (None: the
    workload's): the DES/analytic simulator for chips, the analytical roofline for a GPU
    (which has one fidelity: `fidelity` is ignored). `attention` ("linear", "softmax";
    None: the workload's) picks the token mixer. `prepared` (chips only) is
    `simulate.run.prepare(arch, workload)`, reused; `recorder` (chips, DES only) is a
    `simulate.timeline.TimelineRecorder`."""
    if isinstance(arch, GpuArchitecture) and recorder is not None:
        raise SimulationError(
            f"{arch.name} is a GPU (an analytical model with no per-resource schedule): "
            "it has no timeline"
        )
    if isinstance(arch, GpuArchitecture):
        if workload.learning.rule != "none":
            raise ConfigError.single(
                "workload", "learning", f"weight updates are modelled on chips, not on the "
                f"GPU model ({arch.name}); drop the learning section for the GPU"
            )
        return simulate_gpu(
            arch, workload, n_tokens=n_tokens, seed=seed, source=source, attention=attention,
            context_tokens=context_tokens, progress=progress, batch=batch,
            prompt_tokens=prompt_tokens,
        )
    mixed = chip_workload(workload, attention, workload_source)
    if mixed is not workload:
        workload, prepared = mixed, None
    return simulate(
        arch, workload, n_tokens=n_tokens, seed=seed, fidelity=fidelity, contention=contention,
        source=source, progress=progress, arch_source=arch_source, prepared=prepared,
        batch=batch, prompt_tokens=prompt_tokens, context_tokens=context_tokens,
        workload_source=workload_source,
        recorder=recorder,
    )


def chip_workload(workload: Workload, attention: str | None, source: str | None = None) -> Workload:
    """The workload a chip runs for the token mixer `attention` (None: the workload's own):
    `workload` itself when every block already runs it, else :func:`with_attention`."""
    blocks = workload.blocks
    if attention is None or (attention == blocks.attention_kind and not blocks.mixer_pattern):
        return workload
    return with_attention(workload, attention, source)


def with_attention(workload: Workload, attention: str, source: str | None = None) -> Workload:
    """The workload running `attention` (linear, softmax, hgrn or ssm) in every block (a
    hybrid's pattern is dropped); a ConfigError naming the workload when it does not
    describe that mixer."""
    return with_overrides(
        workload,
        {"blocks.attention": attention, "blocks.mixer_pattern": []},
        source=source or f"workload {workload.name}",
    )
