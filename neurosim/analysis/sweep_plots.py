"""Plots of sweep studies (the only sweep module that imports matplotlib): Pareto fronts.

Front points are drawn large, edged and joined by their staircase (two objectives), the
dominated ones small and faded; axes are in readable units (`format_quantity`) and the
front points carry their swept values as labels.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import LogNorm, Normalize  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from neurosim.sweep.names import format_value, metric_title  # noqa: E402

__all__ = ["pareto_plot", "point_label"]

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _short_names(names: Sequence[str]) -> dict[str, str]:
    """Last path component of each name, unless two would clash."""
    short = {n: n.rsplit(".", 1)[-1] for n in names}
    counts = pd.Series(list(short.values()), dtype=object).value_counts()
    return {n: (s if counts[s] == 1 else n) for n, s in short.items()}


def point_label(row: Mapping, params: Sequence[str], short: Mapping[str, str] | None = None) -> str:
    """'bits=6, count=4' from a row's swept values, with units where the name gives them."""
    short = short or _short_names(params)
    return ", ".join(f"{short[p]}={format_value(row[p], p, 3)}" for p in params if p in row)


def _formatter(name: str) -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: format_value(v, name, 3))


def _use_log(values: pd.Series) -> bool:
    v = pd.to_numeric(values, errors="coerce").dropna()
    return bool(len(v)) and bool((v > 0).all()) and v.max() / v.min() > 30


def _is_numeric(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def pareto_plot(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    senses: Mapping[str, str],
    out_base: str | Path,
    z: str | None = None,
    color: str | None = None,
    params: Sequence[str] = (),
    title: str | None = None,
    max_labels: int = 12,
    formats: Sequence[str] = ("png", "svg"),
) -> list[Path]:
    """Draw `frame` (with an ``on_front`` column) as y against x; write PNG and SVG.

    Colour: `color` (a swept value or a metric), else `z`. Several architectures get a
    marker each. Front points are labelled with `params` that vary (at most `max_labels`
    labels, spread along x). Writes one file per format; returns their paths.
    """
    out_base = Path(out_base)
    out_base.parent.mkdir(parents=True, exist_ok=True)
    params = [p for p in params if p in frame and frame[p].astype(str).nunique() > 1]
    color = color or z
    archs = (
        list(dict.fromkeys(frame["architecture"].astype(str))) if "architecture" in frame else []
    )
    by_marker = len(archs) > 1
    if by_marker and color is None:
        color = "architecture"
    fig, ax = plt.subplots(figsize=(7.6, 5.0))
    on = frame["on_front"].to_numpy(dtype=bool)

    def draw(sub: pd.DataFrame, front: bool, marker: str, **kw) -> object:
        if front:
            kw.update(s=52, edgecolors="black", linewidths=0.8, zorder=3, alpha=1.0)
        else:
            kw.update(s=16, linewidths=0, zorder=1, alpha=0.28)
        return ax.scatter(sub[x], sub[y], marker=marker, **kw)

    groups = (
        [(a, frame["architecture"].astype(str) == a) for a in archs]
        if by_marker
        else [(None, pd.Series(True, index=frame.index))]
    )
    legend_note = []
    legend_title = None
    if color is not None and _is_numeric(frame[color]) and frame[color].nunique() > 1:
        values = frame[color].astype(float)
        norm = (
            LogNorm(values.min(), values.max())
            if _use_log(values)
            else Normalize(values.min(), values.max())
        )
        mappable = None
        for i, (arch, sel) in enumerate(groups):
            marker = _MARKERS[i % len(_MARKERS)]
            for front in (False, True):
                part = sel.to_numpy() & (on if front else ~on)
                sub = frame[part]
                sc = draw(sub, front, marker, c=values[part], cmap="viridis", norm=norm)
                mappable = sc if front else mappable
            if arch is not None:
                legend_note.append((arch, marker, "0.5"))
        bar = fig.colorbar(mappable, ax=ax, pad=0.02)
        bar.set_label(metric_title(color) if "." not in color else color.rsplit(".", 1)[-1])
        bar.formatter = _formatter(color)
        bar.update_ticks()
    else:
        palette = plt.get_cmap("tab10").colors
        cats = list(dict.fromkeys(frame[color].astype(str))) if color else []
        for i, (_arch, sel) in enumerate(groups):
            marker = _MARKERS[i % len(_MARKERS)]
            for front in (False, True):
                part = sel.to_numpy() & (on if front else ~on)
                if not color:
                    draw(frame[part], front, marker, color="tab:red" if front else "0.5")
                    continue
                for j, cat in enumerate(cats):
                    in_cat = (frame[color].astype(str) == cat).to_numpy()
                    draw(frame[part & in_cat], front, marker, color=palette[j % len(palette)])
        arch_marks = [(a, _MARKERS[i % len(_MARKERS)], "0.5") for i, a in enumerate(archs)]
        if color == "architecture":
            legend_note = [
                (a, m, palette[i % len(palette)]) for i, (a, m, _) in enumerate(arch_marks)
            ]
        elif color:
            legend_title = color.rsplit(".", 1)[-1]
            legend_note = [(c, "o", palette[j % len(palette)]) for j, c in enumerate(cats)]
            legend_note += arch_marks if by_marker else []
        else:
            legend_note = [("Pareto front", "o", "tab:red"), ("dominated", "o", "0.5")]
    if legend_note:
        handles = [
            plt.Line2D(
                [],
                [],
                linestyle="",
                marker=m,
                color=c,
                markeredgecolor="black",
                markersize=7,
                label=label,
            )
            for label, m, c in legend_note
        ]
        ax.legend(
            handles=handles,
            fontsize=7.5,
            loc="best",
            framealpha=0.85,
            title=legend_title,
            title_fontsize=7.5,
        )
    front = frame[on]
    if z is None and len(front) > 1:
        f = front.sort_values([x, y], ascending=[senses[x] == "min", senses[y] == "min"])
        ax.step(f[x], f[y], where="post", color="black", linewidth=0.8, alpha=0.55, zorder=2)
    for name, axis, set_scale in ((x, ax.xaxis, ax.set_xscale), (y, ax.yaxis, ax.set_yscale)):
        if _use_log(frame[name]):
            set_scale("log")
            axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            axis.set_minor_formatter(NullFormatter())
        axis.set_major_formatter(_formatter(name))
    ax.set_xlabel(metric_title(x, senses.get(x)))
    ax.set_ylabel(metric_title(y, senses.get(y)))
    ax.grid(True, which="major", alpha=0.25)
    _label_front(ax, front, x, y, params, max_labels)
    objectives = [x, y] + ([z] if z else [])
    subtitle = f"{int(on.sum())} of {len(frame)} points on the Pareto front of " + ", ".join(
        f"{senses[o]} {o}" for o in objectives
    )
    subtitle += " (edged; faded: dominated)"
    lines = ([title] if title else []) + [subtitle]
    ax.set_title("\n".join(line for t in lines for line in textwrap.wrap(t, 90)), fontsize=9)
    fig.tight_layout()
    paths = [out_base.with_suffix(f".{fmt}") for fmt in formats]
    for path in paths:
        fig.savefig(path, dpi=100)
    plt.close(fig)
    return paths


def _label_front(ax, front: pd.DataFrame, x: str, y: str, params: list[str], most: int) -> None:
    """Label front points with their swept values, on the side with room."""
    if not params or front.empty:
        return
    short = _short_names(params)
    unique = front.sort_values(x).drop_duplicates(subset=[x, y])
    if len(unique) > most:
        picks = np.linspace(0, len(unique) - 1, most).round().astype(int)
        unique = unique.iloc[sorted(set(picks))]
    to_axes = ax.transData + ax.transAxes.inverted()
    for i, (_, row) in enumerate(unique.iterrows()):
        fx, fy = to_axes.transform((row[x], row[y]))
        right = fx > 0.55
        below = (i % 2 == 0) != (fy > 0.85)  # alternate above and below; stay inside
        ax.annotate(
            "\n".join(textwrap.wrap(point_label(row, params, short), 42)),
            (row[x], row[y]),
            xytext=(-7 if right else 7, 7 if below else -7),
            textcoords="offset points",
            ha="right" if right else "left",
            va="bottom" if below else "top",
            fontsize=6.5,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
            zorder=4,
        )
