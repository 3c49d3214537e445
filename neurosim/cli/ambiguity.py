"""Command line of `neurosim trace ambiguity`: information measures per layer of
SmolLM2-135M's spikes on ambiguous against clear sentences, with bootstrap intervals."""

from __future__ import annotations

from neurosim.cli.paths import output_dir


def add_ambiguity_command(sub) -> None:
    """Register `trace ambiguity` under `neurosim trace`."""
    p = sub.add_parser(
        "ambiguity",
        help="KS entropy, count entropy and token-spike MI per layer on ambiguous vs clear text",
        description="Spike-code SmolLM2-135M (thresholds calibrated on KJV text, the "
        "smollm2-135m workload's levels) on 24 ambiguous sentences and their 24 clear "
        "rewrites (written for this project, neurosim/trace/ambiguity.py), and report per "
        "layer the Lempel-Ziv entropy rate of sampled neurons' spike trains, the count "
        "entropy and the mutual information between the input token and the spikes "
        "(plug-in, Miller-Madow, shuffle-corrected, normalised), each with a 95 %% bootstrap "
        "interval over sentences.",
    )
    p.add_argument("--neurons", type=int, default=16, help="neurons sampled per layer (16)")
    p.add_argument("--bootstrap", type=int, default=100, help="bootstrap resamples (100)")
    p.add_argument("--calib-tokens", type=int, default=512, help="KJV calibration tokens (512)")
    p.add_argument("--seed", type=int, default=0, help="seed of sampling and resampling (0)")
    p.add_argument("--csv", type=output_dir, default=None, metavar="DIR",
                   help="write every row (site, set, measure, value, interval) as CSV")  # fmt: skip


def run_ambiguity_command(args) -> int:
    """Compute, print the per-type summary, optionally write the full table."""
    import pandas as pd

    from neurosim.errors import UsageError
    from neurosim.simulate.systems import load_workload
    from neurosim.trace.accuracy import (
        AccuracyOptions,
        _codings,
        _text,
        load_model,
        workload_levels,
    )
    from neurosim.trace.ambiguity import compare_sets

    for flag, value, low in (("--neurons", args.neurons, 1), ("--bootstrap", args.bootstrap, 10),
                             ("--calib-tokens", args.calib_tokens, 1), ("--seed", args.seed, 0)):
        if value < low:
            raise UsageError(f"{flag} must be at least {low}; got {value}")  # fmt: skip
    from neurosim.cli.paths import workload_file

    workload = load_workload(workload_file("smollm2-135m"))
    model = load_model()
    levels = workload_levels(model, workload)
    text = _text(model, AccuracyOptions(tokens=2, calib_tokens=args.calib_tokens))
    codings = _codings(model, text, levels)
    rows = compare_sets(
        model, codings, workload.coding.scheme, args.neurons, args.bootstrap, seed=args.seed
    )
    df = pd.DataFrame(rows)
    print("mean over each site type's layers: ambiguous | clear (95 % bootstrap interval of "
          "the mean over layers of the per-layer interval bounds)")  # fmt: skip
    grp = df.groupby(["measure", "type", "set"], sort=False)[["value", "ci_low", "ci_high"]]
    table = grp.mean().unstack("set")
    for measure in df["measure"].unique():
        print(f"\n{measure}")
        sub = table.loc[measure]
        for site in sub.index:
            parts = []
            for name in ("ambiguous", "clear"):
                v, lo, hi = (sub.loc[site, (c, name)] for c in ("value", "ci_low", "ci_high"))
                shown = f"{v:.4f}" + ("" if pd.isna(lo) else f" [{lo:.4f}, {hi:.4f}]")
                parts.append(shown)
            print(f"  {site:<9} {parts[0]:>28} | {parts[1]:>28}")
    if args.csv is not None:
        args.csv.mkdir(parents=True, exist_ok=True)
        df.to_csv(args.csv / "ambiguity.csv", index=False)
        print(f"\nwrote {args.csv / 'ambiguity.csv'}")
    return 0
