"""Context, batch and prefill curves of NSLLM-1.5B: the VCK190 preset beside the A800.

    python scripts/attention_curves.py context   # softmax attention, KV cache vs context
    python scripts/attention_curves.py batch     # sequences decoded together
    python scripts/attention_curves.py prefill   # prompt length vs time to first token

Each prints one markdown table (analytic fidelity, 2 decoded tokens per point, seed 0) and,
with --png PATH, draws it; `scripts/regenerate_docs.py` puts them in docs/attention.md and
docs/img/attention_CURVE.png.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neurosim import load_architecture, load_workload, run_system

ROOT = Path(__file__).resolve().parent.parent
CHIP, GPU = "vck190_nsllm", "a800"
TOKENS = 2


def _run(arch: str, **shape):
    return run_system(
        load_architecture(ROOT / "architectures" / f"{arch}.yaml"),
        load_workload(ROOT / "workloads" / "nsllm-1.5b.yaml"),
        n_tokens=TOKENS,
        fidelity="analytic",
        **shape,
    )


def context_curve() -> list[str]:
    """Softmax attention: tokens/s as the KV cache every token reads grows."""
    rows = [
        "| context tokens | KV cache MB per sequence | VCK190 cache lives | VCK190 tokens/s | "
        "VCK190 DRAM MB/token | A800 tokens/s | A800 HBM MB/token |",
        "|---|---|---|---|---|---|---|",
    ]
    for context in (0, 1024, 4096, 16384, 65536):
        chip = _run(CHIP, attention="softmax", context_tokens=context)
        gpu = _run(GPU, attention="softmax", context_tokens=context)
        kv = chip.placement["kv_cache_bytes"] / 1e6
        rows.append(
            f"| {context} | {kv:.4g} | {chip.placement['kv_cache_where']} | "
            f"{chip.metrics['tokens_per_s']:.4g} | "
            f"{chip.traffic_bytes_per_token['dram_read'] / 1e6:.4g} | "
            f"{gpu.metrics['tokens_per_s']:.4g} | "
            f"{gpu.traffic_bytes_per_token['dram_read'] / 1e6:.4g} |"
        )
    linear = _run(CHIP)
    rows.append(
        f"| any (linear attention) | 0 | - | {linear.metrics['tokens_per_s']:.4g} | "
        f"{linear.traffic_bytes_per_token['dram_read'] / 1e6:.4g} | "
        f"{_run(GPU).metrics['tokens_per_s']:.4g} | - |"
    )
    return rows


def batch_curve() -> list[str]:
    """The workload's linear attention: throughput and step latency against the batch."""
    rows = [
        "| batch | VCK190 tokens/s | VCK190 ms per step | VCK190 mJ/token | VCK190 bottleneck | "
        "A800 tokens/s | A800 ms per step | A800 mJ/token |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for batch in (1, 2, 4, 8, 16, 32, 64):
        chip, gpu = _run(CHIP, batch=batch), _run(GPU, batch=batch)
        rows.append(
            f"| {batch} | {chip.metrics['tokens_per_s']:.4g} | "
            f"{1e3 * chip.metrics['latency_mean_s']:.4g} | "
            f"{1e3 * chip.metrics['energy_per_token_j']:.4g} | {chip.bottleneck} | "
            f"{gpu.metrics['tokens_per_s']:.4g} | {1e3 * gpu.metrics['latency_mean_s']:.4g} | "
            f"{1e3 * gpu.metrics['energy_per_token_j']:.4g} |"
        )
    return rows


def prefill_curve() -> list[str]:
    """The workload's linear attention: time to first token against the prompt length."""
    rows = [
        "| prompt tokens | VCK190 TTFT ms | VCK190 prefill tokens/s | VCK190 TPOT ms | "
        "A800 TTFT ms | A800 prefill tokens/s | A800 TPOT ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for prompt in (16, 128, 1024, 4096):
        chip, gpu = _run(CHIP, prompt_tokens=prompt), _run(GPU, prompt_tokens=prompt)
        cells = [str(prompt)]
        for r in (chip, gpu):
            m = r.metrics
            cells += [
                f"{1e3 * m['time_to_first_token_s']:.4g}",
                f"{m['prefill_tokens_per_s']:.4g}",
                f"{1e3 * m['time_per_output_token_s']:.4g}",
            ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


CURVES = {"context": context_curve, "batch": batch_curve, "prefill": prefill_curve}
PLOTTED = {  # curve -> (x label, y label, log y, (column, series label) ...)
    "context": ("context tokens", "tokens/s", False, ((3, "VCK190"), (5, "A800"))),
    "batch": ("batch (sequences)", "tokens/s", True, ((1, "VCK190"), (5, "A800"))),
    "prefill": ("prompt tokens", "time to first token (ms)", True, ((1, "VCK190"), (4, "A800"))),
}


def plot(curve: str, rows: list[str], path: Path) -> None:
    """A log-x line chart of the table's numeric rows: VCK190 beside A800."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows[2:]]
    cells = [c for c in cells if c[0].isdigit() and int(c[0]) > 0]  # log axis: no 0
    x = [int(c[0]) for c in cells]
    xlabel, ylabel, logy, series = PLOTTED[curve]
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for column, label in series:
        ax.plot(x, [float(c[column]) for c in cells], marker="o", label=label)
    ax.set_xscale("log", base=2)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"NSLLM-1.5B: {curve} (analytic)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("curve", choices=CURVES)
    ap.add_argument("--png", type=Path, default=None, help="also draw the curve into this PNG")
    args = ap.parse_args()
    rows = CURVES[args.curve]()
    print("\n".join(rows))
    if args.png is not None:
        plot(args.curve, rows, args.png)


if __name__ == "__main__":
    main()
