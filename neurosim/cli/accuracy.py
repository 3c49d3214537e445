"""Command line of `neurosim accuracy`: what an in-memory-compute design does to the model.

Runs the real SmolLM2-135M with every linear layer computed by the architecture's
arrays (`neurosim.trace.accuracy`), prints the agreement and perplexities and the
per-layer signal-to-noise ratios, and writes `result.json`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from neurosim.cli.paths import architecture_file, output_dir, workload_file

DEFAULT_WORKLOAD = "smollm2-135m"


def add_accuracy_command(subparsers, add_set) -> None:
    """Register `accuracy` under the main parser's subcommands."""
    p = subparsers.add_parser(
        "accuracy",
        help="accuracy of SmolLM2-135M computed on an in-memory-compute architecture",
        description="Run the real SmolLM2-135M on held-out KJV text with every linear layer "
        "computed by the architecture's arrays: weights coded per array with the workload's "
        "weight bits, bit-sliced over the cells, programming noise, drift and finite "
        "conductance levels, and every timestep's column sums converted by the ADC (bits, "
        "input range, clipping). Reports top-1 agreement with the float model, perplexity, "
        "the float perplexity, the exact digital spiking model's figures, and the "
        "signal-to-noise ratio of every layer.",
    )
    p.add_argument(
        "architecture", type=architecture_file, help="crossbar or SRAM-CIM architecture or preset"
    )
    p.add_argument(
        "--workload",
        type=workload_file,
        default=None,
        help=f"workload giving levels, coding and weight bits (default {DEFAULT_WORKLOAD})",
    )
    p.add_argument("--tokens", type=int, default=64, help="tokens scored (default 64)")
    p.add_argument(
        "--calib-tokens",
        type=int,
        default=512,
        help="tokens before them that calibrate the thresholds (default 512)",
    )
    p.add_argument("--corpus", default="bible", help="bible (default) | shakespeare[:WORK]")
    p.add_argument("--seed", type=int, default=0, help="seed of the cells' noise (default 0)")
    p.add_argument(
        "--out",
        type=output_dir,
        default=None,
        help="output directory (default results/accuracy__<arch>__<workload>__s<seed>)",
    )
    add_set(p, "architecture or workload")


def _fmt(x: float | None, digits: int = 4) -> str:
    if x is None:
        return "exact"
    if not math.isfinite(x):
        return str(x)
    return f"{x:.{digits}g}"


def run_accuracy_command(args) -> int:
    """Evaluate, print, write result.json."""
    from neurosim.cli.app import ROOT, load_architecture, load_workload
    from neurosim.results.metrics import METRICS
    from neurosim.trace.accuracy import ACCURACY_METRICS, AccuracyOptions, evaluate_accuracy

    wl_path = args.workload or workload_file(DEFAULT_WORKLOAD)
    arch = load_architecture(args.architecture, args.overrides)
    workload = load_workload(wl_path, args.overrides)
    opts = AccuracyOptions(
        tokens=args.tokens, calib_tokens=args.calib_tokens, corpus=args.corpus, seed=args.seed
    )
    report = evaluate_accuracy(arch, workload, opts)
    report["metrics"] = {m: report[m] for m in ACCURACY_METRICS}
    am = report["array_model"]
    print(f"{report['model']} on {arch.name} ({workload.name}), {report['text']['scored_tokens']} "
          f"tokens of {report['text']['corpus']}, seed {report['seed']}")  # fmt: skip
    print(
        f"  arrays: {am['kind']}, {am['rows']} rows, {am['weight_bits']}-bit weights in "
        f"{am['slices']} cell(s) of {am['bits_per_cell']} bit(s), programming sigma "
        f"{am['programming_sigma']:g}, drift nu {am['drift_nu']:g}"
    )
    if am["kind"] == "crossbar":
        print(
            f"  ADC: {am['adc_bits']} bits over +-{_fmt(am['full_scale_levels'])} levels, "
            f"one code = {am['lsb_levels']:g} level(s); clipped "
            f"{100 * report['clipped_fraction']:.3g} % of conversions"
        )
    rows = [
        ("float model", None, report["float_perplexity"]),
        ("digital spiking (exact sums)", report["digital"]["agreement"],
         report["digital"]["perplexity"]),
        ("on this hardware", report["agreement"], report["perplexity"]),
    ]  # fmt: skip
    print(f"\n  {'model':<30} {METRICS['agreement'].short:>10} {METRICS['perplexity'].short:>11}")
    for name, agree, ppl in rows:
        shown = "-" if agree is None else f"{agree:.3f}"
        print(f"  {name:<30} {shown:>10} {ppl:>11.4g}")
    print("\n  signal-to-noise of each layer's product against the exact one, dB (by site type):")
    by_type: dict[str, list[float]] = {}
    for layer in report["layers"]:
        if layer["snr_db"] is not None:
            by_type.setdefault(layer["site"].split(".")[-1], []).append(layer["snr_db"])
    if not by_type:
        print("    every product is exact (no noise, converters resolve every level)")
    for site, values in by_type.items():
        print(f"    {site:<10} min {_fmt(min(values), 3):>8}  median "
              f"{_fmt(sorted(values)[len(values) // 2], 3):>8}")  # fmt: skip
    out = args.out or ROOT / "results" / (
        f"accuracy__{arch.name}__{workload.name}__s{args.seed}"
        + ("__set" if args.overrides else "")
    )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "result.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {out / 'result.json'}")
    return 0
