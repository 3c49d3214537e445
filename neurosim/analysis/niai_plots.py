"""Figures of `neurosim niai`: log-scale bars per scale, and the ladder from synapse to
system (energy per synaptic event as what surrounds a synapse is added)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from neurosim.analysis.niai import SCALES, ScaleRow, Value  # noqa: E402

HEADLINE = {
    "synapse": ("energy_per_synaptic_event_j", "J per synaptic event (device)"),
    "neuron": ("energy_per_spike_j", "J per spike or message"),
    "module": ("energy_per_synaptic_event_j", "J per synaptic event (core / tile / column)"),
    "system": ("energy_per_synaptic_event_j", "J per synaptic event (whole system)"),
}
BRAIN = "brain"


def _mid(v: Value) -> float:
    return math.sqrt(v.low * v.high) if v.low and v.high else (v.low or 0.0)


def scale_bars(rows: list[ScaleRow], path: Path) -> Path:
    """One panel per scale: each system's headline energy on a log axis; the brain's bar is
    the geometric middle of its range, the whisker the whole range."""
    systems = list(dict.fromkeys(r.system for r in rows))
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    for ax, scale in zip(axes.flat, SCALES, strict=True):
        col, label = HEADLINE[scale]
        names, mids, lows, highs, colors = [], [], [], [], []
        for name in systems:
            v = next((r.get(col) for r in rows if r.system == name and r.scale == scale), Value())
            if v.low is None or v.low <= 0:
                continue
            m = _mid(v)
            names.append(name)
            mids.append(m)
            lows.append(m - v.low)
            highs.append(v.high - m)
            colors.append("tab:green" if name == BRAIN else "tab:blue")
        ax.bar(range(len(names)), mids, color=colors, yerr=[lows, highs], capsize=4)
        ax.set_yscale("log")
        ax.set_xticks(range(len(names)), names, rotation=35, ha="right", fontsize=8)
        ax.set_title(f"{scale}: {label}", fontsize=9)
        ax.grid(axis="y", which="major", alpha=0.3)
    fig.suptitle("Brain (green: range of published estimates) against chips and GPU")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def ladder_values(rows: list[ScaleRow], system: str) -> list[tuple[float, float] | None]:
    """(low, high) J per synaptic event at each rung: the device; plus each event's share of
    a spike (spike energy over the synapses it reaches); the module in use; the system."""
    def get(scale: str, col: str) -> Value:
        return next((r.get(col) for r in rows if r.system == system and r.scale == scale),
                    Value())

    syn = get("synapse", "energy_per_synaptic_event_j")
    spike, fan = get("neuron", "energy_per_spike_j"), get("neuron", "synapses")
    rungs: list[tuple[float, float] | None] = []
    rungs.append((syn.low, syn.high) if syn.low else None)
    if syn.low and spike.low and fan.low:
        rungs.append((syn.low + spike.low / fan.high, syn.high + spike.high / fan.low))
    else:
        rungs.append(None)
    for scale in ("module", "system"):
        v = get(scale, "energy_per_synaptic_event_j")
        rungs.append((v.low, v.high) if v.low else None)
    return rungs


def ladder(rows: list[ScaleRow], path: Path) -> Path:
    """Energy per synaptic event from the device to the whole system, one line per system;
    the brain as a band."""
    fig, ax = plt.subplots(figsize=(8.5, 5.5))
    x = list(range(len(SCALES)))
    for name in dict.fromkeys(r.system for r in rows):
        rungs = ladder_values(rows, name)
        if all(r is None for r in rungs):
            continue
        low = [r[0] if r else math.nan for r in rungs]
        high = [r[1] if r else math.nan for r in rungs]
        if name == BRAIN:
            ax.fill_between(x, low, high, color="tab:green", alpha=0.25, label="brain (range)")
        else:  # a rung the system does not have breaks its line
            mid = [math.sqrt(a * b) for a, b in zip(low, high, strict=True)]
            ax.plot(x, mid, marker="o", label=name)
    ax.set_yscale("log")
    ax.set_xticks(x, ["synapse\n(device)", "neuron\n(+ spike share)", "module\n(in use)",
                      "system\n(all energy)"])
    ax.set_ylabel("J per synaptic event")
    ax.set_title("From a synapse to a system: energy per synaptic event")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
