"""PNG figures of a spike trace (the only module of neurosim.trace that imports matplotlib).

`firing_rate_by_layer` (one line per site type over blocks), `spike_raster` (one
token's binary spike trains, timesteps x neurons, for each site of a block and the
head) and `count_histograms` (the count distribution of each site type, log scale).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from neurosim.workload.coding import spike_trains  # noqa: E402

_COLORS = {
    "attn_in": "#1f77b4",
    "attn_ctx": "#ff7f0e",
    "mlp_in": "#2ca02c",
    "mlp_act": "#d62728",
    "head": "#9467bd",
}


def firing_rate_by_layer(sites: pd.DataFrame, title: str, path: Path) -> Path:
    """Firing rate and silent fraction of each site type against the block index."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    blocks = sites[sites["block"].notna()]
    head = sites[sites["type"] == "head"]
    for kind, rows in blocks.groupby("type", sort=False):
        color = _COLORS.get(kind)
        b = rows["block"].astype(int)
        axes[0].plot(b, rows["firing_rate"], marker="o", ms=3, label=kind, color=color)
        axes[1].plot(b, rows["silent_fraction"], marker="o", ms=3, label=kind, color=color)
    if len(head):
        x = int(blocks["block"].max()) + 1 if len(blocks) else 0
        axes[0].scatter(
            [x], head["firing_rate"], marker="*", s=90, color=_COLORS["head"], label="head"
        )
        axes[1].scatter(
            [x], head["silent_fraction"], marker="*", s=90, color=_COLORS["head"], label="head"
        )
    axes[0].set_ylabel("firing rate (spikes / neuron / timestep)")
    axes[1].set_ylabel("silent fraction (count = 0)")
    for ax in axes:
        ax.set_xlabel("block (head at the right)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def spike_raster(
    counts: list[np.ndarray],
    names: list[str],
    timesteps: list[int],
    scheme: str,
    title: str,
    path: Path,
) -> Path:
    """Binary spike trains of one token: one panel per site (timesteps x neurons)."""
    fig, axes = plt.subplots(
        len(counts),
        1,
        figsize=(11, 1.0 + 1.1 * len(counts)),
        constrained_layout=True,
        squeeze=False,
    )
    for ax, c, name, steps in zip(axes[:, 0], counts, names, timesteps, strict=True):
        trains = spike_trains(c, steps, scheme)
        ax.imshow(
            trains,
            aspect="auto",
            interpolation="nearest",
            cmap="Greys",
            extent=(0, c.size, steps, 0),
        )
        ax.set_ylabel(f"{name}\nt", fontsize=8)
        ax.tick_params(labelsize=7)
        rate = trains.mean()
        ax.set_title(f"{name}: {int(trains.sum())} spikes, rate {rate:.3f}", fontsize=8, loc="left")
    axes[-1, 0].set_xlabel("neuron")
    fig.suptitle(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def count_histograms(hist: pd.DataFrame, title: str, path: Path) -> Path:
    """Share of each count value per site type (log scale)."""
    kinds = list(dict.fromkeys(hist["type"]))
    fig, axes = plt.subplots(
        1, len(kinds), figsize=(3.0 * len(kinds), 3.2), constrained_layout=True, squeeze=False
    )
    for ax, kind in zip(axes[0], kinds, strict=True):
        rows = hist[hist["type"] == kind]
        ax.bar(rows["count"], rows["share"].clip(lower=1e-9), color=_COLORS.get(kind, "grey"))
        ax.set_yscale("log")
        ax.set_title(kind, fontsize=9)
        ax.set_xlabel("count")
        ax.grid(alpha=0.3, axis="y")
    axes[0, 0].set_ylabel("share of activations")
    fig.suptitle(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_plots(
    tally, sites: pd.DataFrame, hist: pd.DataFrame, out_dir: Path, block: int = 0
) -> list[Path]:
    """All three figures for a tallied trace, written into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    r = tally.reader
    label = f"{r.model_name}, {r.scheme} coding, {tally.tokens} tokens"
    paths = [
        firing_rate_by_layer(sites, f"Firing by layer: {label}", out_dir / "firing_rate.png"),
        count_histograms(hist, f"Count histograms: {label}", out_dir / "count_histograms.png"),
    ]
    if tally.first_token is not None:
        wanted = [
            i for i, s in enumerate(r.sites) if s.get("block") == block or s["site"] == "head"
        ]
        row = tally.first_token
        paths.append(
            spike_raster(
                [np.asarray(row[r.bounds[i] : r.bounds[i + 1]]) for i in wanted],
                [r.site_names[i] for i in wanted],
                [r.timesteps[i] for i in wanted],
                r.scheme,
                f"Spike raster of token 0 ({label})",
                out_dir / "spike_raster.png",
            )
        )
    return paths
