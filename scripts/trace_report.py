"""Fit the synthetic generator to a real spike trace and carry the fit over to nsllm-1.5b.

    python scripts/trace_report.py [TRACE] [--target workloads/nsllm-1.5b.yaml]
    python scripts/trace_report.py --codings [--tokens 64]   # README table (needs the model)

Default mode prints, for a trace (the shipped SmolLM2 trace by default): the measured
per-site-type statistics; the generator parameters `fit_synthetic_stats` finds (YAML for
`spikes.synthetic.sites`); a check that the generator reproduces the measured moments;
and the same statistics carried over to the target workload, with the simulated effect
on the VCK190 (analytic). How they carry over: the generator's parameters are per
neuron (a probability of firing, a mean count, a spread of per-neuron rates), so they
apply to wider layers unchanged, site type by site type (attn_in -> attn_in, ...); where
the target's levels L differ, the measured count histogram is first re-quantized to the
target L (c' = round(c (L'-1)/(L-1)), an approximation that is fair when coarsening).

`--codings` extracts traces of SmolLM2-135M at several codings (same text, calibration
and held-out tokens) and prints a markdown table: per-type firing rates, the accuracy
cost against the float model, and the energy per token each trace gives when replayed
on the VCK190 preset with the smollm2 workload.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TRACE = ROOT / "workloads" / "traces" / "smollm2-135m_kjv_64tok.nstrace"
SMOLLM2 = ROOT / "workloads" / "smollm2-135m.yaml"
TARGET = ROOT / "workloads" / "nsllm-1.5b.yaml"
VCK190 = ROOT / "architectures" / "vck190_nsllm.yaml"
TYPES = ("attn_in", "attn_ctx", "mlp_in", "mlp_act", "head")


def _yaml_sites(stats: dict[str, dict], indent: str = "      ") -> str:
    lines = []
    for kind, v in stats.items():
        body = ", ".join(
            f"{k}: {v[k]}" for k in ("silent_fraction", "mean_active_count", "neuron_spread")
        )
        lines.append(f"{indent}{kind}: {{{body}}}")
    return "\n".join(lines)


def _variant(workload, stats: dict[str, dict]):
    data = workload.model_dump(mode="python")
    data["spikes"]["synthetic"]["sites"] = {k: dict(v) for k, v in stats.items()}
    return type(workload).model_validate(data)


def report(trace: Path, target: Path, tokens: int | None) -> int:
    from neurosim.simulate.run import simulate
    from neurosim.simulate.systems import load_architecture, load_workload
    from neurosim.trace import open_trace
    from neurosim.trace.stats import fit_synthetic_stats, tally_trace, type_table
    from neurosim.workload.model import build_model_graph
    from neurosim.workload.spikes import SyntheticSpikeSource

    reader = open_trace(trace)
    tally = tally_trace(reader, tokens)
    print(
        f"trace {trace.name}: {reader.model_name}, {tally.tokens} tokens of "
        f"{reader.header['text']['source']}, {reader.scheme} coding, "
        f"L = {reader.header['coding']['levels']}"
    )
    measured = type_table(tally)
    print("\nmeasured per site type (pooled over blocks)")
    cols = [
        "type",
        "levels",
        "firing_rate",
        "spikes_per_activation",
        "silent_fraction",
        "mean_active_count",
        "entropy_bits",
    ]
    print(measured[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))

    fitted = fit_synthetic_stats(tally)
    print("\nfitted generator parameters (spikes.synthetic.sites of the traced model)")
    print(_yaml_sites(fitted))

    source_wl = load_workload(SMOLLM2)
    if [g.levels for g in build_model_graph(source_wl).groups] == reader.levels:
        graph = build_model_graph(_variant(source_wl, fitted))
        toks = list(SyntheticSpikeSource(graph, seed=0).tokens(16))
        print("\ncheck: the generator with these parameters vs the trace (16 synthetic tokens)")
        print("  type       silent (trace / gen)   mean active (trace / gen)")
        m = measured.set_index("type")
        for kind in fitted:
            idx = [g.index for g in graph.groups if g.site == kind]
            c = np.concatenate([t.counts[i] for t in toks for i in idx]).astype(np.int64)
            print(
                f"  {kind:9s}  {m.loc[kind, 'silent_fraction']:.4f} / {(c == 0).mean():.4f}"
                f"        {m.loc[kind, 'mean_active_count']:.3f} / {c[c > 0].mean():.3f}"
            )

    wl = load_workload(target)
    levels = {**{k: s.levels for k, s in wl.blocks.sites.items()}, "head": wl.head.site.levels}
    scaled = fit_synthetic_stats(tally, levels=levels)
    scaled = {k: v for k, v in scaled.items() if k in levels}
    print(f"\ncarried over to {wl.name} (its levels: {levels})")
    for kind in scaled:
        note = (
            ""
            if levels[kind]
            == reader.levels[
                reader.site_names.index(next(s["name"] for s in reader.sites if s["site"] == kind))
            ]
            else ("   <- histogram re-quantized to the target L")
        )
        print(f"  {kind}: {scaled[kind]}{note}")
    print("\nYAML for spikes.synthetic.sites of " + wl.name)
    print(_yaml_sites(scaled))

    arch = load_architecture(VCK190)
    print(f"\n{wl.name} on {arch.name} (analytic, 4 tokens): current stats vs fitted stats")
    for label, w in (("current", wl), ("fitted", _variant(wl, scaled))):
        r = simulate(arch, w, n_tokens=4, fidelity="analytic")
        mt = r.metrics
        print(
            f"  {label:8s} spikes/token {mt['spikes_per_token']:.3e}  synops/token "
            f"{mt['synops_per_token']:.3e}  tokens/s {mt['tokens_per_s']:.1f}  "
            f"energy/token {mt['energy_per_token_j'] * 1e3:.2f} mJ  "
            f"(dynamic {mt['dynamic_energy_per_token_j'] * 1e3:.2f})  bottleneck {r.bottleneck}"
        )
    return 0


CODINGS = (
    ("L=16 binary", {"levels": 16}),
    ("L=16, mlp_act 32, binary (workload)", {"levels": {"mlp_act": 32}}),
    ("L=16 bitwise", {"levels": 16, "scheme": "bitwise"}),
    ("L=8 binary", {"levels": 8}),
    ("L=16 binary, sparsify 0.3", {"levels": 16, "sparsify": 0.3}),
    ("auto levels (budget 4 bits), binary", {"levels": "auto", "level_budget": 4.0}),
    (
        "L=16 binary, V_th = mean(abs x)/k per site, k=3",
        {"levels": 16, "threshold": "adaptive", "granularity": "site", "k": 3.0},
    ),
)


def codings_table(tokens: int, eval_tokens: int) -> int:
    from neurosim.simulate.run import simulate
    from neurosim.simulate.systems import load_architecture, load_workload
    from neurosim.trace import open_trace
    from neurosim.trace.corpus import bible_source, take_tokens
    from neurosim.trace.extract import ExtractConfig, calibrate, extract
    from neurosim.trace.gguf_llama import load_smollm2
    from neurosim.trace.stats import type_table
    from neurosim.workload.model import build_model_graph

    model = load_smollm2()
    calib_n = 2048
    ids = take_tokens(bible_source(), model.encode, calib_n + tokens + eval_tokens)
    calib, traced, held = ids[:calib_n], ids[calib_n : calib_n + tokens], ids[calib_n + tokens :]
    arch = load_architecture(VCK190)
    base = load_workload(SMOLLM2)
    cal = {}
    rows = []
    sensitivity: list[dict] = []
    joint: list[dict] = []
    with tempfile.TemporaryDirectory() as d:
        for label, opts in CODINGS:
            cfg = ExtractConfig(tokens=tokens, eval_tokens=eval_tokens, **opts)
            calibration = None
            if cfg.k is None:
                if cfg.threshold not in cal:
                    cal[cfg.threshold] = calibrate(model, calib, cfg)
                calibration = cal[cfg.threshold]
            path = Path(d) / "t.nstrace"
            res = extract(model, path, traced, cfg, calib, held, calibration=calibration)
            reader = open_trace(path)
            wl = reader.workload_for(base)
            src = reader.source_for(build_model_graph(wl))
            r = simulate(arch, wl, n_tokens=tokens, fidelity="analytic", source=src)
            fr = type_table(reader).set_index("type")["firing_rate"]
            acc = res.footer["accuracy"]
            if opts.get("levels") == "auto":
                sensitivity = res.header["levels_choice"]["sensitivity"]
                joint = res.header["levels_choice"]["joint_check"]
                label += " -> " + ", ".join(
                    f"{k} {v}" for k, v in res.header["coding"]["levels"].items()
                )
            rows.append((label, fr, acc, r))
            print(f"done: {label}", file=sys.stderr)
    print(
        f"\nSmolLM2-135M on {tokens} KJV tokens (after {calib_n} calibration tokens); accuracy "
        f"on the next {eval_tokens} held-out tokens; energy = trace replayed on {arch.name} "
        "with workloads/smollm2-135m.yaml (levels and scheme from the trace), analytic.\n"
    )
    print(
        "| coding | " + " | ".join(f"rate {t}" for t in TYPES) + " | spikes/token | "
        "synops/token | agreement | ppl spiking / float | mJ/token (dynamic; synops) | tokens/s |"
    )
    print("|---|" + "---|" * (len(TYPES) + 6))
    for label, fr, acc, r in rows:
        m = r.metrics
        print(
            f"| {label} | " + " | ".join(f"{fr[t]:.3f}" for t in TYPES) + " | "
            f"{m['spikes_per_token']:.3g} | {m['synops_per_token']:.3g} | "
            f"{acc['next_token_agreement']:.3f} | "
            f"{acc['spiking_perplexity']:.1f} / {acc['float_perplexity']:.1f} | "
            f"{m['energy_per_token_j'] * 1e3:.2f} ({m['dynamic_energy_per_token_j'] * 1e3:.2f}; "
            f"{r.energy_per_token_j.get('compute.synop', 0.0) * 1e3:.3f}) | "
            f"{m['tokens_per_s']:.0f} |"
        )
    if sensitivity:
        cands = sorted({r["levels"] for r in sensitivity})
        print("\nsensitivity: KL(float || spiking), nats/token, only that site type coded")
        print("| site | " + " | ".join(f"L={c}" for c in cands) + " |")
        print("|---|" + "---|" * len(cands))
        for kind in dict.fromkeys(r["site"] for r in sensitivity):
            vals = {r["levels"]: r["kl"] for r in sensitivity if r["site"] == kind}
            print(f"| {kind} | " + " | ".join(f"{vals[c]:.3f}" for c in cands) + " |")
        print("\nbest assignments by summed KL, re-scored jointly (every site coded)")
        print("| levels | mean bits | summed KL | joint KL |\n|---|---|---|---|")
        for r in joint:
            lv = ", ".join(f"{k} {v}" for k, v in r["levels"].items())
            print(f"| {lv} | {r['mean_bits']:.2f} | {r['additive_kl']:.3f} | {r['joint_kl']:.3f} |")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("trace", type=Path, nargs="?", default=TRACE)
    p.add_argument("--target", type=Path, default=TARGET, help="workload to carry stats to")
    p.add_argument("--max-tokens", type=int, default=None)
    p.add_argument("--codings", action="store_true", help="README table (needs the model)")
    p.add_argument("--tokens", type=int, default=64, help="with --codings: tokens per trace")
    p.add_argument("--eval-tokens", type=int, default=512, help="with --codings")
    args = p.parse_args()
    if args.codings:
        return codings_table(args.tokens, args.eval_tokens)
    return report(args.trace, args.target, args.max_tokens)


if __name__ == "__main__":
    sys.exit(main())
