"""Entropy-rate and mutual-information estimators against distributions with known values,
and their use on the shipped trace and the ambiguity sets."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import REPO

from neurosim.trace.ambiguity import PAIRS, SetSpikes, bootstrap, set_measures
from neurosim.trace.format import open_trace
from neurosim.trace.information import (
    lz76_phrases,
    lz_entropy_rate_bits,
    miller_madow_entropy_bits,
    mutual_information,
    spike_train,
    trace_information,
)

TRACE = REPO / "workloads" / "traces" / "smollm2-135m_kjv_64tok.nstrace"


def _h2(p: float) -> float:
    return -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def test_lz76_parsing_counts_the_textbook_example() -> None:
    # Kaspar & Schuster 1987: 0001101001000101 parses as 0 | 001 | 10 | 100 | 1000 | 101
    s = np.array([int(c) for c in "0001101001000101"])
    assert lz76_phrases(s) == 6


@pytest.mark.parametrize("p", [0.5, 0.2])
def test_lz_rate_of_a_bernoulli_source_is_its_entropy(p) -> None:
    s = (np.random.default_rng(1).random(200_000) < p).astype(np.int64)
    assert lz_entropy_rate_bits(s) == pytest.approx(_h2(p), rel=0.06)


def test_lz_rate_of_a_markov_chain_is_its_entropy_rate_not_its_marginal_entropy() -> None:
    rng = np.random.default_rng(2)
    stay = 0.9  # symmetric two-state chain: rate H2(0.1), marginal entropy 1 bit
    flips = rng.random(200_000) > stay
    s = (np.cumsum(flips) % 2).astype(np.int64)
    assert lz_entropy_rate_bits(s) == pytest.approx(_h2(1 - stay), rel=0.1)
    assert lz_entropy_rate_bits(np.tile([0, 1, 1, 0, 1], 20_000)) < 0.01  # periodic


def test_mutual_information_of_a_noisy_channel_and_of_independent_variables() -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    x = rng.integers(0, 4, n)
    keep = rng.random(n) < 0.8
    y = np.where(keep, x, rng.integers(0, 4, n))
    p_same = 0.8 + 0.2 / 4  # y = x with this probability, each other symbol 0.05
    true = 2.0 - (-(p_same * math.log2(p_same)) - 3 * 0.05 * math.log2(0.05))
    mi = mutual_information(x, y, shuffles=4, rng=rng)
    for value in (mi.plugin, mi.miller_madow, mi.shuffle_corrected):
        assert value == pytest.approx(true, abs=0.01)
    # few samples of many symbols: the plug-in estimate is mostly bias, the corrections not
    x, y = rng.integers(0, 40, 120), rng.integers(0, 8, 120)
    small = mutual_information(x, y, shuffles=16, rng=rng)
    assert small.plugin > 0.8
    # Miller-Madow under-corrects this badly undersampled case; the shuffle does better
    assert abs(small.shuffle_corrected) < 0.25 and small.miller_madow < small.plugin - 0.2
    assert 0.0 <= small.normalized < 0.1


def test_miller_madow_adds_its_bias_term() -> None:
    hist = np.array([5, 3, 2, 0])
    plug = -sum(p * math.log2(p) for p in (0.5, 0.3, 0.2))
    assert miller_madow_entropy_bits(hist) == pytest.approx(plug + 2 / (2 * 10 * math.log(2)))


def test_spike_trains_follow_the_coding() -> None:
    np.testing.assert_array_equal(spike_train(np.array([2, 0]), 3, "binary"), [1, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(spike_train(np.array([5]), 3, "bitwise"), [1, 0, 1])


def test_trace_information_rows_for_every_site_of_the_shipped_trace() -> None:
    rows = trace_information(open_trace(TRACE), neurons=4, shuffles=2, max_tokens=32)
    assert len(rows) == 121 and rows[0]["tokens"] == 32
    for r in rows:
        assert 0 <= r["ks_entropy_bits_per_step"] <= 1.5
        assert r["mi_token_plugin_bits"] >= r["mi_token_shuffle_bits"]
        assert 0 <= r["mi_token_normalized"] <= 1


def test_ambiguity_sets_are_paired_and_bootstrap_intervals_cover_the_estimate() -> None:
    assert len(PAIRS) >= 20 and all(a != b for a, b in PAIRS)
    rng = np.random.default_rng(0)
    ids = [rng.integers(0, 30, 12) for _ in range(10)]
    counts = [rng.integers(0, 16, (12, 4)) for _ in range(10)]
    spikes = SetSpikes(ids, counts)
    point = set_measures(spikes, 15, "binary", 4, rng)
    ci = bootstrap(spikes, 15, "binary", 50, rng)
    low, high = ci["mi_token_miller_madow_bits"]
    assert low < high
    low, high = ci["ks_entropy_bits_per_step"]  # a mean over sentences: no repeat bias
    assert low <= point["ks_entropy_bits_per_step"] <= high
    # resampling sentences repeats tokens, which lowers plug-in entropies a little
    low, high = ci["count_entropy_bits"]
    assert low < high and low - 0.1 <= point["count_entropy_bits"] <= high + 0.1
    assert set(point) >= {"ks_entropy_bits_per_step", "mi_token_shuffle_bits"}
