"""All plotting (the only module that imports matplotlib): comparison charts as PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from neurosim.analysis.compare import ENERGY_CATEGORIES, energy_by_category  # noqa: E402
from neurosim.results.record import Result  # noqa: E402


def _stacked_shares(ax, names, parts, categories, title, colors) -> None:
    """100 %-stacked bars of each architecture's energy split over `categories`."""
    totals = [sum(p.get(c, 0.0) for c in categories) for p in parts]
    bottom = [0.0] * len(names)
    for cat in categories:
        shares = [
            100 * p.get(cat, 0.0) / t if t else 0.0 for p, t in zip(parts, totals, strict=True)
        ]
        if not any(shares):
            continue
        ax.bar(names, shares, bottom=bottom, label=cat, color=colors[cat])
        bottom = [b + v for b, v in zip(bottom, shares, strict=True)]
    ax.set_ylim(0, 100)
    ax.set_ylabel("share (%)")
    ax.set_title(title)


def energy_breakdown_chart(results: list[Result], path: Path) -> Path:
    """Energy per token of each architecture: totals (log scale), the share of each
    component with static power, and the dynamic energy alone (where ADCs, DRAM or chip
    links show), so small parts stay visible."""
    names = [r.architecture for r in results]
    parts = [energy_by_category(r) for r in results]
    totals = [sum(p.values()) for p in parts]
    palette = plt.get_cmap("tab20").colors
    colors = {c: palette[i % len(palette)] for i, c in enumerate(ENERGY_CATEGORIES)}
    width = max(10.0, 1.6 * len(results) + 6)
    fig, (ax_total, ax_all, ax_dyn) = plt.subplots(1, 3, figsize=(width, 5.0))
    ax_total.bar(names, [t * 1e3 for t in totals], color="0.45")
    ax_total.set_yscale("log")
    ax_total.set_ylabel("energy per token (mJ)")
    ax_total.set_title("total")
    for x, t in enumerate(totals):
        ax_total.annotate(f"{t * 1e3:.3g}", (x, t * 1e3), ha="center", va="bottom", fontsize=7)
    _stacked_shares(ax_all, names, parts, ENERGY_CATEGORIES, "by component", colors)
    dynamic = [c for c in ENERGY_CATEGORIES if c != "static"]
    _stacked_shares(ax_dyn, names, parts, dynamic, "dynamic only (static left out)", colors)
    handles, labels = ax_all.get_legend_handles_labels()
    for h, lab in zip(*ax_dyn.get_legend_handles_labels(), strict=True):
        if lab not in labels:
            handles.append(h)
            labels.append(lab)
    ax_dyn.legend(handles, labels, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    for ax in (ax_total, ax_all, ax_dyn):
        ax.tick_params(axis="x", rotation=45, labelsize=8)
    fig.suptitle(f"Energy per token: {results[0].workload}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
