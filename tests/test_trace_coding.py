"""Spike coding of activations: round trip, clipping, sparsification, calibration, levels."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.cli.trace import parse_levels
from neurosim.errors import ConfigError, TraceError
from neurosim.trace.activations import SiteSpec
from neurosim.trace.extract import ExtractConfig, allocate_levels, resolve_levels, windows
from neurosim.trace.quantize import (
    Calibration,
    SiteCoding,
    SpikeQuantizer,
    dequantize,
    quantize,
    token_factor,
)
from neurosim.workload.coding import decode_spike_trains, spike_trains
from neurosim.workload.model import timesteps_for


def _acts(seed: int = 0, tokens: int = 64, width: int = 96) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.laplace(scale=1.0, size=(tokens, width)).astype(np.float32)


def test_round_trip_within_half_a_step() -> None:
    x = _acts()
    v = np.float32(0.25)
    c, neg = quantize(x, v, levels=64)
    xh = dequantize(c, neg, v)
    inside = np.abs(x) < (64 - 0.5) * v
    assert np.all(np.abs(xh - x)[inside] <= v / 2 + 1e-6)
    assert np.all(c[~inside] == 63)  # clipped at L-1
    assert np.array_equal(neg, x < 0)


def test_counts_stay_below_levels_and_are_exact_on_the_grid() -> None:
    v = np.float32(0.5)
    x = (np.arange(-10, 11, dtype=np.float32) * v)[None, :]
    c, neg = quantize(x, v, levels=8)
    assert c.max() == 7 and c.dtype == np.uint16
    assert np.array_equal(c[0], np.minimum(np.abs(np.arange(-10, 11)), 7))
    np.testing.assert_allclose(dequantize(c, neg, v)[0, 3:18], x[0, 3:18])


@pytest.mark.parametrize("scheme", ["binary", "bitwise"])
def test_counts_survive_spike_conversion(scheme) -> None:
    x = _acts(1)
    c, _ = quantize(x, np.float32(0.3), levels=16)
    steps = timesteps_for(16, scheme)
    trains = spike_trains(c[0], steps, scheme)
    assert np.array_equal(decode_spike_trains(trains, scheme), c[0])


def test_sparsify_lowers_firing_rate_monotonically() -> None:
    x = _acts(2, tokens=256)
    v = np.float32(0.3)
    rates, silent = [], []
    for s in (0.0, 0.2, 0.4, 0.6):
        c, _ = quantize(x, v, levels=16, sparsify=s)
        rates.append(c.mean() / 15)
        silent.append((c == 0).mean())
    assert all(a > b for a, b in zip(rates, rates[1:], strict=False))
    assert all(a < b for a, b in zip(silent, silent[1:], strict=False))
    # s = 0.5 truncates: floor(|x| / V)
    c, _ = quantize(x, v, levels=16, sparsify=0.5)
    assert np.array_equal(c, np.minimum(np.floor(np.abs(x) / v), 15))


def test_adaptive_threshold_is_mean_abs_over_k() -> None:
    x = _acts(3)
    k = 3.0
    coding = SiteCoding(16, "adaptive", "site", 0.0, np.full(x.shape[1], 1 / k, np.float32))
    v = coding.vth(x)
    np.testing.assert_allclose(v[:, 0], np.abs(x).mean(axis=1) / k, rtol=1e-6)
    assert np.all(token_factor(x, "static") == 1)


def test_neuron_calibration_maps_the_range_to_the_top_count() -> None:
    x = _acts(4) * np.linspace(0.1, 10, 96, dtype=np.float32)[None, :]  # outlier channels
    cal = Calibration("static")
    cal(0, x)
    g = cal.scale(0, 16, "neuron")
    c, _ = quantize(x, g[None, :], 16)
    assert np.all(c.max(axis=0) == 15)  # every neuron reaches L-1, none is clipped
    site = cal.scale(0, 16, "site")
    assert np.all(site == site[0])
    c_site, _ = quantize(x, site[None, :], 16)
    assert (c_site == 0).mean() > (c == 0).mean()  # one threshold starves small channels


def test_quantizer_hook_records_and_replaces() -> None:
    x = _acts(5)
    coding = SiteCoding(8, neuron_scale=np.full(x.shape[1], 0.5, np.float32))
    hook = SpikeQuantizer([None, coding], record=True)
    assert hook(0, x) is x
    out = hook(1, x)
    np.testing.assert_allclose(out, dequantize(hook.counts[1], hook.negative[1], 0.5))
    assert hook.token_scale[1].shape == (x.shape[0],)


def test_parse_levels() -> None:
    assert parse_levels("16") == 16
    assert parse_levels("auto") == "auto"
    assert parse_levels("16,mlp_act=32") == {"*": 16, "mlp_act": 32}
    assert parse_levels("attn_in=8, head=4") == {"attn_in": 8, "head": 4}
    for bad in ("x", "mlp_act=", "1", "16,mlp_act=70000"):
        with pytest.raises(ConfigError):
            parse_levels(bad)


def test_resolve_levels_and_unknown_types() -> None:
    sites = [SiteSpec("b00.a", "a", 0, 4, (("l", 4),)), SiteSpec("head", "head", None, 4, ())]
    assert resolve_levels(sites, 8) == {"a": 8, "head": 8}
    assert resolve_levels(sites, {"a": 4}) == {"a": 4, "head": 16}
    with pytest.raises(TraceError, match="unknown site types"):
        resolve_levels(sites, {"b": 4})


def test_allocation_spends_the_budget_where_it_helps() -> None:
    # equal shares: mean bits = (log2 L_sensitive + log2 L_robust) / 2
    kl = {
        "sensitive": {2: 8.0, 4: 2.0, 8: 0.5, 16: 0.1},
        "robust": {2: 0.4, 4: 0.1, 8: 0.05, 16: 0.01},
    }
    weights = {"sensitive": 1, "robust": 1}
    levels, bits = allocate_levels(kl, weights, budget_bits=3.0)
    assert levels == {"sensitive": 16, "robust": 4} and bits == pytest.approx(3.0)
    levels, _ = allocate_levels(kl, weights, budget_bits=2.5)
    assert levels == {"sensitive": 16, "robust": 2}  # KL 0.5 beats {8, 4} (0.6)
    levels, bits = allocate_levels(kl, weights, budget_bits=4.0)
    assert levels == {"sensitive": 16, "robust": 16}
    with pytest.raises(TraceError, match="below the fewest"):
        allocate_levels(kl, weights, budget_bits=0.5)


def test_config_checks_and_windows() -> None:
    with pytest.raises(TraceError, match="k sets the adaptive"):
        ExtractConfig(k=2.0).check()
    ExtractConfig(k=2.0, threshold="adaptive", granularity="site").check()
    with pytest.raises(TraceError, match="sparsify"):
        ExtractConfig(sparsify=1.0).check()
    assert [w.size for w in windows(range(10), 4)] == [4, 4, 2]


def test_allocation_is_optimal_not_greedy() -> None:
    # 'small' has the best KL drop per bit, but buying it first leaves too little budget
    # for 'big' (80 % of the weights); the optimum upgrades 'big' alone
    kl = {"big": {2: 5.0, 4: 0.0}, "small": {2: 2.0, 4: 0.0}}
    levels, bits = allocate_levels(kl, {"big": 4, "small": 1}, budget_bits=1.8)
    assert levels == {"big": 4, "small": 2} and bits == pytest.approx(1.8)
