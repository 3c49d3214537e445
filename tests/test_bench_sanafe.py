"""The SANA-FE head-to-head script (scripts/bench_sanafe.py) without SANA-FE installed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_sanafe", REPO / "scripts/bench_sanafe.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_missing_sanafe_is_a_clear_exit_2(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        bench.importlib.util, "find_spec", lambda name, *a: None if name == "sanafe" else real(name)
    )
    with pytest.raises(SystemExit) as stop:
        bench.sanafe_version()
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "SANA-FE is not importable" in err and "pip install sanafe==2.2.9" in err
    assert "PYTHONPATH" in err


def test_neurosim_side_matches_sanafe_loihi_timing_by_hand(tmp_path):
    # 4 source neurons firing every step (bias 2 > threshold 1) into 2 neurons: SANA-FE's
    # Loihi numbers give the receiving core 4 messages x (16 ns + 2 synapses x 3.8 ns) and
    # 2 neuron updates x 9.7 ns; the source core 4 x 9.7 + 4 spikes x 30 + 4 messages x 5.1.
    sizes = [4, 2]
    parts = bench.network(sizes, bias=2.0)
    bench.to_nir(parts, sizes, tmp_path / "net.nir", 1e-3)
    out = bench.run_neurosim(tmp_path / "net.nir", 3, 1e-3, per_core=4)
    assert out["spikes"] == {"src": 12, "layer1": 0}
    assert out["messages"] == 12 and out["synaptic_events"] == 24
    source = 4 * 9.7 + 4 * 30 + 4 * 5.1
    receiver = 4 * (16 + 2 * 3.8) + 2 * 9.7
    assert out["phases_s"]["compute"] == pytest.approx(max(source, receiver) * 1e-9, rel=1e-6)
    assert out["barrier_s"] == 0.6e-6
    joules = out["energy_j"]
    assert joules["neurons and spikes"] == pytest.approx((6 * 72.8 * 3 + 12 * 69.3) * 1e-12)
    assert np.isclose(joules["synapses"], 24 * 35.5e-12)
