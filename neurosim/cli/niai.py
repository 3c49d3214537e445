"""Command line of `neurosim niai`: the brain beside chips and a GPU, scale by scale.

`neurosim.cli.app` registers it with :func:`add_niai_command` and dispatches to
:func:`run_niai`. Writes niai.csv, niai.md, niai_scales.png and niai_ladder.png.
"""

from __future__ import annotations

from pathlib import Path

from neurosim.cli.paths import architecture_file, input_file, output_dir, workload_file
from neurosim.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CHIPS = ("vck190_nsllm", "reram_cim", "pcm_cim", "sram_cim", "loihi2", "truenorth")
DEFAULT_GPU = "a800"


def add_niai_command(subparsers) -> None:
    """Add `niai` to an `argparse` subparsers object."""
    p = subparsers.add_parser(
        "niai",
        help="natural vs artificial intelligence hardware: the brain beside chips and a GPU",
        description="Put the brain's sourced ranges beside chip presets and a GPU at four "
        "scales (synapse, neuron, module, system). Synapse and neuron rows come from each "
        "architecture's prices and sizes, module and system rows from a run of the workload. "
        "Writes niai.csv (one line per scale, system and quantity, with its source), "
        "niai.md, niai_scales.png and niai_ladder.png.",
    )
    p.add_argument(
        "architectures",
        type=architecture_file,
        nargs="*",
        help=f"chip or GPU presets or YAML files (default: {' '.join(DEFAULT_CHIPS)})",
    )
    p.add_argument(
        "--gpu",
        type=_gpu_argument,
        default=None,
        help=f"the GPU to compare (default {DEFAULT_GPU}; 'none' for no GPU)",
    )
    p.add_argument(
        "--workload",
        type=workload_file,
        default=ROOT / "workloads" / "smollm2-135m.yaml",
        help="workload YAML or preset name (default smollm2-135m)",
    )
    p.add_argument("--tokens", type=int, default=2, help="tokens each system decodes (default 2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic spikes (default 0)")
    p.add_argument(
        "--fidelity",
        choices=("analytic", "des"),
        default="analytic",
        help="analytic (default) or des",
    )
    p.add_argument(
        "--brain",
        type=input_file,
        default=ROOT / "architectures" / "reference" / "brain.yaml",
        help="the biological reference file (default architectures/reference/brain.yaml)",
    )
    p.add_argument(
        "--out",
        type=output_dir,
        default="results/niai",
        help="output folder (default results/niai)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    from neurosim.cli.app import _add_set

    _add_set(p, "workload or every chip architecture (not the GPU)")


def _gpu_argument(value: str):
    """A GPU preset or file, or 'none'."""
    return "none" if value.lower() == "none" else architecture_file(value)


def _gpu_path(value):
    if value == "none":
        return None
    return value if value is not None else architecture_file(DEFAULT_GPU)


def run_niai(args) -> int:
    """Run every architecture on the workload, build the four scales, write the files."""
    from neurosim.analysis.brain import BrainScales, load_brain
    from neurosim.analysis.niai import brain_rows, chip_rows, gpu_rows, markdown, write_csv
    from neurosim.analysis.niai_plots import ladder, scale_bars
    from neurosim.cli.app import _progress_bar, load_architecture, load_workload
    from neurosim.simulate.gpu import GpuArchitecture
    from neurosim.simulate.systems import check_kind, file_kind, run_system

    if args.tokens < 1:
        raise UsageError(f"--tokens must be at least 1; got {args.tokens}")
    if args.seed < 0:
        raise UsageError(f"--seed must be a non-negative integer; got {args.seed}")
    paths = list(args.architectures) or [architecture_file(n) for n in DEFAULT_CHIPS]
    gpu = _gpu_path(args.gpu)
    if gpu is not None and gpu not in paths:
        paths.append(gpu)
    check_kind(args.workload, "workload", "--workload")
    for path in paths:
        check_kind(path, "architecture", "each ARCHITECTURE argument")
    brain = BrainScales(load_brain(args.brain))
    workload = load_workload(args.workload, args.overrides)
    # all valid before any run; --set architecture.* changes the chips, not the GPU model
    archs = [load_architecture(p, () if file_kind(p) == "gpu" else args.overrides)
             for p in paths]
    frozen = workload.model_copy(update={"learning": type(workload.learning)()})
    rows = brain_rows(brain)
    bar = _progress_bar(args, args.tokens * len(archs), "niai")
    try:
        for path, arch in zip(paths, archs, strict=True):
            if bar is not None:
                bar.set_postfix_str(arch.name)
            is_gpu = isinstance(arch, GpuArchitecture)
            result = run_system(
                arch, frozen if is_gpu else workload, n_tokens=args.tokens, seed=args.seed,
                fidelity=args.fidelity, arch_source=str(path),
                progress=bar.update if bar is not None else None,
            )
            if is_gpu:
                rows += gpu_rows(arch, frozen, result)
            else:
                rows += chip_rows(arch, workload, result)
    finally:
        if bar is not None:
            bar.close()
    args.out.mkdir(parents=True, exist_ok=True)
    table = markdown(rows)
    written = [
        write_csv(rows, args.out / "niai.csv"),
        args.out / "niai.md",
        scale_bars(rows, args.out / "niai_scales.png"),
        ladder(rows, args.out / "niai_ladder.png"),
    ]
    written[1].write_text(table)
    print(f"brain vs hardware on {workload.name}: {args.tokens} tokens, {args.fidelity} "
          f"(brain: ranges of published estimates, {args.brain.name})\n")
    print(table)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
