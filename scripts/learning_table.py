"""Static against adaptive chips: one workload frozen and learning, on PCM, ReRAM, SRAM-CIM
and the VCK190.

Three modes per chip: frozen weights; a local plasticity rule (each synaptic event rewrites
its weight with probability P); periodic fine-tuning (a share F of the weights every N
tokens). Prints a Markdown table; `--figure PATH` also draws it.

    python scripts/learning_table.py [--tokens 8] [--fidelity analytic] [--figure f.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neurosim.config.overrides import with_overrides
from neurosim.simulate.run import simulate
from neurosim.simulate.systems import load_architecture, load_workload

ROOT = Path(__file__).resolve().parent.parent
CHIPS = ("pcm_cim", "reram_cim", "sram_cim", "vck190_nsllm")
LOCAL_P = 1e-5  # a weight update per 100,000 synaptic events
FINETUNE_F, FINETUNE_N = 1e-3, 8  # 0.1 % of the weights every 8 tokens
MODES = {
    "frozen": {},
    f"local p={LOCAL_P:g}": {"learning": {"rule": "local", "update_probability": LOCAL_P}},
    f"finetune {FINETUNE_F:.1%}/{FINETUNE_N} tok": {
        "learning": {"rule": "finetune", "weight_fraction": FINETUNE_F,
                     "every_tokens": FINETUNE_N}},
}


def rows(workload_name: str, tokens: int, fidelity: str) -> list[dict]:
    base = load_workload(ROOT / "workloads" / f"{workload_name}.yaml")
    out = []
    for chip in CHIPS:
        arch = load_architecture(ROOT / "architectures" / f"{chip}.yaml")
        for mode, change in MODES.items():
            workload = with_overrides(base, change) if change else base
            m = simulate(arch, workload, n_tokens=tokens, seed=0, fidelity=fidelity).metrics
            life = m.get("lifetime_years")
            out.append({
                "architecture": chip,
                "mode": mode,
                "tokens/s": m["tokens_per_s"],
                "mJ/token": 1e3 * m["energy_per_token_j"],
                "updates/token": m.get("weight_updates_per_token", 0.0),
                "write uJ/token": 1e6 * m.get("write_energy_per_token_j", 0.0),
                "write time share": m.get("write_time_share", 0.0),
                "lifetime years": life,
            })
    return out


def markdown(table: list[dict]) -> str:
    def cell(key, v):
        if key == "lifetime years":
            return "-" if v is None else f"{v:.3g}"
        if key == "write time share":
            return f"{100 * v:.1f} %"
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    head = list(table[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell(k, r[k]) for k in head) + " |" for r in table]
    return "\n".join(lines)


def figure(table: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = list(MODES)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    width = 0.8 / len(modes)
    for ax, key, log in zip(axes, ("tokens/s", "write uJ/token", "lifetime years"),
                            (False, True, True), strict=True):
        for i, mode in enumerate(modes):
            ys = [next(r[key] for r in table if r["architecture"] == c and r["mode"] == mode)
                  for c in CHIPS]
            xs = [j + (i - (len(modes) - 1) / 2) * width for j in range(len(CHIPS))]
            ax.bar(xs, [y or 0.0 for y in ys], width, label=mode)
        ax.set_xticks(range(len(CHIPS)), CHIPS, fontsize=8)
        ax.set_title(key + (" (SRAM, DRAM: no wear limit)" if key == "lifetime years" else ""),
                     fontsize=9)
        if log:
            ax.set_yscale("log")
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("Static against adaptive: the same workload frozen and learning")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", default="nsllm-1.5b", help="workload preset (nsllm-1.5b)")
    ap.add_argument("--tokens", type=int, default=FINETUNE_N, help="tokens per run (8)")
    ap.add_argument("--fidelity", choices=("analytic", "des"), default="analytic")
    ap.add_argument("--figure", type=Path, default=None, help="also draw the table (PNG)")
    args = ap.parse_args()
    table = rows(args.workload, args.tokens, args.fidelity)
    print(markdown(table))
    if args.figure is not None:
        figure(table, args.figure)


if __name__ == "__main__":
    main()
