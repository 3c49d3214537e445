"""Ambiguous against clear text: NSLLM's comparison of what a layer's spikes carry.

`PAIRS` are sentence pairs written for this project (public domain, CC0): the first of
each pair is ambiguous (a garden-path sentence, a word with two senses the context does
not settle, an attachment that can go two ways), the second says the same with the
ambiguity removed. `compare_sets` spike-codes SmolLM2-135M on each set (thresholds
calibrated on KJV text, the workload's levels) and reports, per layer (site instance),
the information measures of `neurosim.trace.information` for both sets, with bootstrap
confidence intervals over sentences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.trace.information import _joint as joint_of
from neurosim.trace.information import (
    entropy_bits,
    lz_entropy_rate_bits,
    miller_madow_mi_bits,
    mutual_information,
    spike_train,
)

PAIRS: tuple[tuple[str, str], ...] = (
    ("The old man the boat.", "The old people crew the boat."),
    ("The horse raced past the barn fell.", "The horse that was raced past the barn fell."),
    ("The complex houses married and single soldiers.",
     "The housing complex is home to married and single soldiers."),
    ("I saw the man with the telescope.", "Using the telescope, I saw the man."),
    ("She went to the bank.", "She went to the bank to deposit her pay."),
    ("The chicken is ready to eat.", "The roast chicken is ready for us to eat."),
    ("Visiting relatives can be boring.", "Going to visit relatives can be boring."),
    ("They are hunting dogs.", "Those animals are dogs bred for hunting."),
    ("The man who hunts ducks out on weekends.",
     "The man who hunts goes out of town on weekends."),
    ("Time flies like an arrow; fruit flies like a banana.",
     "Time passes quickly; fruit flies are drawn to a banana."),
    ("We painted the wall with cracks.", "We painted the wall that had cracks in it."),
    ("The professor said on Monday he would give an exam.",
     "On Monday the professor announced that he would give an exam."),
    ("The cotton clothing is made of grows in Mississippi.",
     "The cotton that clothing is made of grows in Mississippi."),
    ("Flying planes can be dangerous.", "Piloting planes can be dangerous."),
    ("He gave her cat food.", "He gave food to her cat."),
    ("The bat flew past the pitcher.", "The small bat flew out of the cave at dusk."),
    ("Mary saw the light.", "Mary finally understood the truth."),
    ("The sailors like to run the ship.", "The sailors like to command the ship."),
    ("I never said she stole my money.", "I did not accuse her of stealing my money."),
    ("The police shot the rioters with guns.",
     "The police used guns to shoot at the rioters."),
    ("Look at the dog with one eye.", "Look at the dog that has only one eye."),
    ("The lamb is too hot to eat.", "The roast lamb is too hot to eat yet."),
    ("Smoking cigars can be harmful.", "Smoking cigars is harmful to your health."),
    ("The duke yet lives that Henry shall depose.",
     "Henry shall depose the duke, who still lives."),
)  # fmt: skip

MEASURES = (
    "ks_entropy_bits_per_step",
    "count_entropy_bits",
    "mi_token_plugin_bits",
    "mi_token_miller_madow_bits",
    "mi_token_shuffle_bits",
    "mi_token_normalized",
)


@dataclass
class SetSpikes:
    """One set's sampled spikes: per sentence, token ids and counts (tokens x sampled)."""

    ids: list[np.ndarray]
    counts: list[np.ndarray]


def set_measures(
    spikes: SetSpikes, steps: int, scheme: str, shuffles: int, rng: np.random.Generator
) -> dict[str, float]:
    """The measures of one layer on one set (sentences pooled; neurons averaged)."""
    ids = np.concatenate(spikes.ids)
    counts = np.concatenate(spikes.counts)
    out: dict[str, list[float]] = {m: [] for m in MEASURES}
    for j in range(counts.shape[1]):
        c = counts[:, j]
        # per sentence, then averaged: a resample repeats sentences, and Lempel-Ziv
        # parsing would compress a concatenation's repeats
        out["ks_entropy_bits_per_step"].append(
            float(np.mean([lz_entropy_rate_bits(spike_train(s[:, j], steps, scheme))
                           for s in spikes.counts]))
        )  # fmt: skip
        if shuffles:
            mi = mutual_information(ids, c, shuffles, rng)
            out["mi_token_plugin_bits"].append(mi.plugin)
            out["mi_token_miller_madow_bits"].append(mi.miller_madow)
            out["mi_token_shuffle_bits"].append(mi.shuffle_corrected)
            out["mi_token_normalized"].append(mi.normalized)
            out["count_entropy_bits"].append(mi.entropy_y)
        else:
            joint = joint_of(ids, c)
            out["mi_token_miller_madow_bits"].append(miller_madow_mi_bits(joint))
            out["count_entropy_bits"].append(entropy_bits(joint.sum(0)))
    return {m: float(np.mean(v)) for m, v in out.items() if v}


def bootstrap(
    spikes: SetSpikes, steps: int, scheme: str, draws: int, rng: np.random.Generator
) -> dict[str, tuple[float, float]]:
    """95 % percentile intervals over sentences resampled with replacement (the shuffle
    correction is left out of the resamples: Miller-Madow carries the bias control)."""
    n = len(spikes.ids)
    values: dict[str, list[float]] = {}
    for _ in range(draws):
        pick = rng.integers(0, n, n)
        sample = SetSpikes([spikes.ids[i] for i in pick], [spikes.counts[i] for i in pick])
        for m, v in set_measures(sample, steps, scheme, 0, rng).items():
            values.setdefault(m, []).append(v)
    return {m: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5)))
            for m, v in values.items()}  # fmt: skip


def compare_sets(
    model,
    codings,
    scheme: str,
    neurons: int = 16,
    draws: int = 100,
    shuffles: int = 8,
    seed: int = 0,
    pairs: tuple[tuple[str, str], ...] = PAIRS,
) -> list[dict]:
    """Rows (site, set, measure, value, ci_low, ci_high) for the ambiguous and clear sets."""
    from neurosim.trace.quantize import SpikeQuantizer

    rng = np.random.default_rng(seed)
    picks = [
        np.sort(rng.choice(s.width, size=min(neurons, s.width), replace=False))
        for s in model.sites
    ]
    sets: dict[str, list[SetSpikes]] = {}
    for name, column in (("ambiguous", 0), ("clear", 1)):
        per_site = [SetSpikes([], []) for _ in model.sites]
        for pair in pairs:
            ids = np.asarray(model.encode(pair[column]), dtype=np.int64)
            q = SpikeQuantizer(codings, record=True)
            model.forward(ids, q)
            for i, pick in enumerate(picks):
                per_site[i].ids.append(ids)
                per_site[i].counts.append(q.counts[i][:, pick].astype(np.int64))
        sets[name] = per_site
    rows = []
    for i, spec in enumerate(model.sites):
        levels = codings[i].levels
        steps = levels - 1 if scheme == "binary" else max(1, int(np.ceil(np.log2(levels))))
        for name, per_site in sets.items():
            point = set_measures(per_site[i], steps, scheme, shuffles, rng)
            ci = bootstrap(per_site[i], steps, scheme, draws, rng)
            for m in MEASURES:
                low, high = ci.get(m, (None, None))
                rows.append(
                    {
                        "site": spec.name,
                        "type": spec.site,
                        "block": spec.block,
                        "set": name,
                        "measure": m,
                        "value": point[m],
                        "ci_low": low,
                        "ci_high": high,
                    }
                )
    return rows
