"""The brain beside chips and a GPU: sourced ranges, rows built from presets and runs."""

from __future__ import annotations

import csv

import pytest
import yaml
from conftest import REPO, variant

from neurosim.analysis.brain import BRAIN_FILE, BrainScales, load_brain
from neurosim.analysis.niai import brain_rows, chip_rows, markdown, synapse_event_j
from neurosim.cli.app import main
from neurosim.errors import ConfigError
from neurosim.simulate.run import simulate
from neurosim.simulate.systems import load_architecture, load_workload

SMOLLM = REPO / "workloads" / "smollm2-135m.yaml"


@pytest.fixture(scope="module")
def brain() -> BrainScales:
    return BrainScales(load_brain())


def test_every_brain_figure_is_a_sourced_range():
    ref = load_brain()
    for name, q in ref.quantities.items():
        assert q.low <= q.high, name
        assert "docs/sources.md#biology" in q.source, name
        if q.basis == "assumption":
            assert q.source.startswith("assumption:"), name


def test_derived_figures_follow_from_the_ranges_by_hand(brain):
    # 20 W over 1e14-1e15 synapses firing at 0.16-4 Hz
    top = brain.synaptic_event_top_down_j()
    assert top.low == pytest.approx(20 / (1e15 * 4.0))
    assert top.high == pytest.approx(20 / (1e14 * 0.16))
    # Attwell & Laughlin: 3.29e9 ATP/s at 4 Hz, 34-50 % postsynaptic, 2000 releases, 44-50 kJ/mol
    bottom = brain.synaptic_event_bottom_up_j()
    assert bottom.low == pytest.approx(3.29e9 / 4 * 0.34 / 2000 * 0.73e-19)
    assert bottom.high == pytest.approx(3.29e9 / 4 * 0.50 / 2000 * 0.83e-19)
    spike = brain.spike_j()
    assert spike.low == pytest.approx(3.84e8 * 0.73e-19)  # one action potential's ATP
    assert spike.high == pytest.approx(20 / (78e9 * 0.16))  # 20 W per neuron at 0.16 Hz
    assert brain.token_equivalent_j().low == pytest.approx(20 / (5.0 * 1.4))


def test_estimates_that_disagree_by_orders_of_magnitude_show_the_spread(brain):
    rows = {r.scale: r for r in brain_rows(brain)}
    syn = rows["synapse"].get("energy_per_synaptic_event_j")
    assert syn.high / syn.low > 100  # bottom-up fJ against the top-down budget
    spike = rows["neuron"].get("energy_per_spike_j")
    assert spike.high / spike.low > 10
    assert " - " in rows["synapse"].get("energy_per_synaptic_event_j").render()


def test_rows_come_from_the_preset_changing_its_synop_energy_changes_the_table():
    workload = load_workload(SMOLLM)
    base = load_architecture(REPO / "architectures" / "loihi2.yaml")
    cheaper = variant(base, {"compute.energy.synop_j": base.compute.energy.synop_j / 10})
    tables = {}
    for arch in (base, cheaper):
        r = simulate(arch, workload, n_tokens=1, fidelity="analytic")
        rows = {row.scale: row for row in chip_rows(arch, workload, r)}
        e_syn, _ = synapse_event_j(arch, workload.weights.bits)
        read = arch.onchip_memory.read_energy_j_per_bit * workload.weights.bits
        assert e_syn == pytest.approx(arch.compute.energy.synop_j + read)
        assert rows["synapse"].get("energy_per_synaptic_event_j").low == pytest.approx(e_syn)
        assert rows["system"].get("energy_per_token_j").low == pytest.approx(
            r.metrics["energy_per_token_j"])
        tables[arch.compute.energy.synop_j] = markdown(list(rows.values()))
    assert len(set(tables.values())) == 2


def test_a_crossbar_synapse_is_its_cells_of_one_weight():
    arch = load_architecture(REPO / "architectures" / "reram_cim.yaml")
    cells = arch.compute.columns_per_weight(4)
    e, how = synapse_event_j(arch, 4)
    assert e == pytest.approx(arch.compute.cell.read_energy_j * cells) and "cell_read" in how


def test_the_command_writes_table_csv_and_figures(tmp_path, capsys):
    out = tmp_path / "niai"
    code = main(["niai", "sram_cim", "loihi2", "--workload", str(SMOLLM), "--tokens", "1",
                 "--out", str(out), "--quiet",
                 "--set", "architecture.compute.static_power_w=0.5 W"])
    assert code == 0
    printed = capsys.readouterr().out
    for scale in ("synapse", "neuron", "module", "system"):
        assert f"\n{scale}\n" in f"\n{printed}"
    assert {p.name for p in out.iterdir()} == {"niai.csv", "niai.md", "niai_scales.png",
                                               "niai_ladder.png"}
    with (out / "niai.csv").open() as f:
        lines = list(csv.DictReader(f))
    systems = {x["system"] for x in lines}
    assert systems == {"brain", "sram_cim", "loihi2", "a800"}
    assert all(x["source"] for x in lines)
    brain_lines = [x for x in lines if x["system"] == "brain" and x["low"]]
    assert all(float(x["low"]) <= float(x["high"]) for x in brain_lines)


def test_no_gpu_and_a_learning_workload_say_so_in_the_plasticity_column(tmp_path, capsys):
    code = main(["niai", "sram_cim", "--gpu", "none", "--workload", str(SMOLLM), "--tokens",
                 "1", "--out", str(tmp_path), "--quiet",
                 "--set", "workload.learning.rule=local",
                 "--set", "workload.learning.update_probability=0.001"])
    assert code == 0
    text = (tmp_path / "niai.md").read_text()
    assert "on-chip local" in text and "a800" not in text


def test_a_broken_reference_file_is_a_config_error_naming_the_key(tmp_path, capsys):
    data = yaml.safe_load(BRAIN_FILE.read_text())
    del data["quantities"]["firing_rate_hz"]
    data["quantities"]["power_w"]["low"] = 30
    bad = tmp_path / "brain.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        load_brain(bad)
    message = str(err.value)
    assert "firing_rate_hz" in message or "power_w" in message
    assert main(["niai", "sram_cim", "--brain", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "brain.yaml" in capsys.readouterr().err
