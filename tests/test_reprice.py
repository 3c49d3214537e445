"""Re-pricing a saved run: same counts, new energies, no simulation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from neurosim.cli import main
from neurosim.config.overrides import with_overrides
from neurosim.costs import reprice_result
from neurosim.results import write_result
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
