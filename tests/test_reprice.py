"""Re-pricing a saved run: same counts, new energies, no simulation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from neurosim.analysis.reprice import reprice_result
from neurosim.cli.app import main
from neurosim.config.overrides import with_overrides
from neurosim.results.record import write_result
from neurosim.simulate.run import simulate


def test_reprice_equals_a_fresh_run_with_the_new_energies(tiny_arch, tiny_workload, tmp_path):
    r = simulate(tiny_arch, tiny_workload, n_tokens=2, fidelity="analytic")
    write_result(r, tmp_path)
    saved = json.loads((tmp_path / "result.json").read_text())
    cheaper = with_overrides(tiny_arch, {"compute.energy.synop_j": 0.1e-12})
    fresh = simulate(cheaper, tiny_workload, n_tokens=2, fidelity="analytic")
    repriced = reprice_result(saved, cheaper)
    assert repriced.total_j / 2 == pytest.approx(fresh.metrics["energy_per_token_j"], rel=1e-9)
    assert repriced.total_j < r.metrics["energy_per_token_j"] * 2


def test_reprice_command_and_bad_file(tiny_arch, tiny_workload, tmp_path, capsys):
    r = simulate(tiny_arch, tiny_workload, n_tokens=1, fidelity="analytic")
    write_result(r, tmp_path)
    arch = Path(__file__).parent / "fixtures/tiny_arch.yaml"
    assert main(["reprice", str(tmp_path / "result.json"), str(arch)]) == 0
    assert "energy per token" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["reprice", str(bad), str(arch)]) == 2
    assert "not a neurosim result.json" in capsys.readouterr().err


REPO = Path(__file__).parent.parent
A800 = REPO / "architectures/a800.yaml"


def test_reprice_a_gpu_result_with_a_changed_hbm_and_flop_energy(tiny_workload, tmp_path, capsys):
    from neurosim.simulate.systems import load_architecture, run_system

    gpu = load_architecture(A800)
    r = run_system(gpu, tiny_workload, n_tokens=3)
    write_result(r, tmp_path)
    saved = json.loads((tmp_path / "result.json").read_text())
    assert reprice_result(saved, gpu).total_j / 3 == pytest.approx(
        r.metrics["energy_per_token_j"], rel=1e-12
    )
    # 3.9 -> 7 pJ/bit on every HBM bit read or written, 0.965 -> 2 pJ per fp16 FLOP
    dearer = with_overrides(gpu, {"hbm_energy_j_per_bit": 7e-12, "energy_per_flop_j.fp16": 2e-12})
    hbm_bits = 8 * (
        r.traffic_bytes_per_token["dram_read"] + r.traffic_bytes_per_token["dram_write"]
    )
    flops = 2 * r.metrics["synops_per_token"]
    change = hbm_bits * (7e-12 - 3.9e-12) + flops * (2e-12 - 0.965e-12)
    repriced = reprice_result(saved, dearer)
    assert repriced.total_j / 3 - r.metrics["energy_per_token_j"] == pytest.approx(change, rel=1e-9)
    assert repriced.static_j / 3 == pytest.approx(r.metrics["static_energy_per_token_j"], rel=1e-12)
    dearer_yaml = tmp_path / "a800_dear_hbm.yaml"
    dearer_yaml.write_text(
        f"extends: {A800}\nname: a800_dear_hbm\nhbm_energy_j_per_bit: 7 pJ/bit\n"
    )
    assert main(["reprice", str(tmp_path / "result.json"), str(dearer_yaml)]) == 0
    out = capsys.readouterr().out
    assert "hbm.read_bit" in out and "priced with a800_dear_hbm" in out


def test_reprice_a_chip_result_with_a_gpu_names_the_unpriced_event(
    tiny_arch, tiny_workload, tmp_path, capsys
):
    r = simulate(tiny_arch, tiny_workload, n_tokens=1, fidelity="analytic")
    write_result(r, tmp_path)
    assert main(["reprice", str(tmp_path / "result.json"), str(A800)]) == 2
    err = capsys.readouterr().err
    assert "the kinds differ" in err and "compute/synop" in err


def test_reprice_refuses_counts_without_a_component(tmp_path, capsys):
    from neurosim.simulate.systems import load_architecture, load_workload, run_system

    r = run_system(load_architecture(A800), load_workload(REPO / "workloads/smollm2-135m.yaml"))
    write_result(r, tmp_path)
    saved = json.loads((tmp_path / "result.json").read_text())
    saved["event_counts"] = {"gpu.flop": 10}  # the key form GPU results had before
    (tmp_path / "result.json").write_text(json.dumps(saved))
    assert main(["reprice", str(tmp_path / "result.json"), str(A800)]) == 2
    assert "'gpu.flop' is not 'component/event'" in capsys.readouterr().err
