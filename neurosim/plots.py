"""All plotting (the only module that imports matplotlib): comparison charts as PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from neurosim.analysis import ENERGY_CATEGORIES, energy_by_category  # noqa: E402
from neurosim.results import Result  # noqa: E402


def energy_breakdown_chart(results: list[Result], path: Path) -> Path:
    """Energy per token of each architecture: totals (log scale, left) and the share of
    each component category (stacked to 100 %, right), so small parts stay visible."""
    names = [r.architecture for r in results]
    parts = [energy_by_category(r) for r in results]
    totals = [sum(p.values()) for p in parts]
    width = max(8.0, 1.2 * len(results) + 5)
    fig, (ax_total, ax_share) = plt.subplots(1, 2, figsize=(width, 4.8))
    ax_total.bar(names, [t * 1e3 for t in totals], color="0.45")
    ax_total.set_yscale("log")
    ax_total.set_ylabel("energy per token (mJ)")
    ax_total.set_title("total")
    for x, t in enumerate(totals):
        ax_total.annotate(f"{t * 1e3:.3g}", (x, t * 1e3), ha="center", va="bottom", fontsize=8)
    colors = plt.get_cmap("tab20").colors
    bottom = [0.0] * len(results)
    for i, cat in enumerate(ENERGY_CATEGORIES):
        shares = [
            100 * p.get(cat, 0.0) / t if t else 0.0 for p, t in zip(parts, totals, strict=True)
        ]
        if not any(shares):
            continue
        ax_share.bar(names, shares, bottom=bottom, label=cat, color=colors[i % len(colors)])
        bottom = [b + v for b, v in zip(bottom, shares, strict=True)]
    ax_share.set_ylabel("share of energy per token (%)")
    ax_share.set_ylim(0, 100)
    ax_share.set_title("by component")
    ax_share.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    for ax in (ax_total, ax_share):
        ax.tick_params(axis="x", rotation=30)
    fig.suptitle(f"Energy per token: {results[0].workload}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
