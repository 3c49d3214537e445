"""FPGA designs: resources per component against the part, the fit check, fabric power
and published power of a stated kind. The expected numbers are worked out by hand."""

from __future__ import annotations

import pytest
from conftest import TINY_ARCH, VCK190_ARCH, variant

from neurosim.architecture import Architecture, PublishedFigures
from neurosim.cli.app import main
from neurosim.components.fpga import (
    DEVICES,
    DeviceName,
    fabric_power_w,
    fabric_usage,
    fit_problems,
    timing_warnings,
    usage_totals,
)
from neurosim.config.loader import load_config
from neurosim.errors import ConfigError
from neurosim.results.metrics import METRICS
from neurosim.results.pricing import price
from neurosim.results.record import published_block
from neurosim.simulate.run import simulate

# A made-up part with round coefficients, so every figure below can be checked by hand.
TINY_DEVICE = {
    "part": "tiny test part",
    "resources": {"lut": 20000, "ff": 40000, "dsp": 10, "bram": 4, "uram": 0,
                  "memory_controllers": 2},
    "static_power_w": 0.5,
    "junction_temp_c": 25.0,
    "hard_noc": True,
    "power": {
        "lut_uw_per_mhz": 0.01,
        "ff_uw_per_mhz": 0.001,
        "routing_uw_per_mhz": 0.02,
        "clock_uw_per_mhz": 0.01,
        "bram_uw_per_mhz": 10.0,
        "uram_uw_per_mhz": 20.0,
        "dsp_uw_per_mhz": 1.0,
        "reference_toggle_fraction": 0.125,
        "reference_enable_fraction": 0.5,
    },
}  # fmt: skip
NO_STATIC = {
    "compute.static_power_w": 0.0,
    "onchip_memory.static_power_w": 0.0,
    "interconnect.static_power_w": 0.0,
}


@pytest.fixture(scope="module")
def tiny_fpga(tiny_arch):
    """The tiny architecture (4 cores of 16 lanes, 4 neuron units, 8 KiB on chip, 2 DRAM
    channels, 6 NoC ports, 1 GHz) built on the tiny part."""
    return variant(tiny_arch, {**NO_STATIC, "fpga": {"device": TINY_DEVICE}})


def test_resource_table_of_a_tiny_design_by_hand(tiny_fpga):
    rows = fabric_usage(tiny_fpga)
    # per unit: 16 lanes x (16 + 2) LUTs and 16 x 16 flip-flops of datapath; 4 neuron units
    # x 3 x 16 + 2000 = 2192 LUTs and 4 x 2 x 16 + 3000 = 3128 flip-flops of control; 4 units
    assert rows["compute"] == {"lut": 1152, "ff": 1024}
    assert rows["compute.control"] == {"lut": 8768, "ff": 12512}
    assert rows["onchip_memory"] == {"uram": 0, "bram": 2}  # 8 KiB in 4.5 KiB blocks
    assert rows["interconnect"] == {"lut": 6 * 300, "ff": 6 * 600}  # 4 cores + 2 controllers
    assert rows["dram.ch0"] == {"memory_controllers": 1, "lut": 500, "ff": 1000}
    total = usage_totals(rows)
    assert (total["lut"], total["ff"], total["bram"], total["memory_controllers"]) == (
        12720, 19136, 2, 2,
    )  # fmt: skip
    assert fit_problems(tiny_fpga) == [] and timing_warnings(tiny_fpga) == []


def test_uram_is_filled_before_block_ram(tiny_fpga):
    dev = {**TINY_DEVICE, "resources": {**TINY_DEVICE["resources"], "uram": 1}}
    arch = variant(tiny_fpga, {"fpga.device": dev})
    assert fabric_usage(arch)["onchip_memory"] == {"uram": 1, "bram": 0}  # 8 KiB < 36 KiB


def test_fabric_power_of_a_tiny_design_by_hand(tiny_fpga):
    # 1 us at 1 GHz: 1000 cycles. 32,000 synops on 4 x 16 lanes: half the lane-cycles busy,
    # so the datapath toggles 0.5 x 0.5 = 0.25 = 2x the reference; the rest at 0.125 (1x).
    # 36,000 bits over 2 blocks x 72 bits x 1000 cycles: enable 0.25 = 0.5x the reference.
    counts = {("compute", "synop"): 32000, ("onchip_memory", "read_bit"): 30000,
              ("onchip_memory", "write_bit"): 6000}  # fmt: skip
    w = fabric_power_w(tiny_fpga, counts, 1e-6)
    assert w["clock_tree"] == pytest.approx(19136 * 0.01 * 1000 * 1e-6)
    # datapath 1152 LUT / 1024 FF at 2x; control, NoC ports and DRAM ports (11,568 LUT,
    # 18,112 FF) at 1x
    logic = (1152 * 0.01 + 1024 * 0.001) * 1000 * 2 + (11568 * 0.01 + 18112 * 0.001) * 1000
    assert w["logic"] == pytest.approx(logic * 1e-6)
    assert w["routing"] == pytest.approx((1152 * 0.02 * 1000 * 2 + 11568 * 0.02 * 1000) * 1e-6)
    assert w["bram"] == pytest.approx(2 * 10 * 1000 * 0.5 * 1e-6)
    assert w["uram"] == 0 and w["dsp"] == 0
    # two chips: twice the cycles, so half the activity, on twice the fabric
    two = fabric_power_w(tiny_fpga, counts, 1e-6, chips=2)
    assert two["clock_tree"] == pytest.approx(2 * w["clock_tree"])
    assert two["bram"] == pytest.approx(w["bram"])


def test_fabric_power_and_device_static_enter_the_energy_breakdown(tiny_fpga):
    counts = {("compute", "synop"): 32000, ("onchip_memory", "read_bit"): 36000}
    energy = price(counts.items(), tiny_fpga, 1e-6)
    assert energy.dynamic[("fabric", "routing")] == pytest.approx(0.27744 * 1e-6)
    assert energy.dynamic[("compute", "synop")] == pytest.approx(32000 * 0.5e-12)  # unchanged
    assert energy.static["fpga_device"] == pytest.approx(0.5 * 1e-6)
    assert energy.static["compute"] == 0


def test_a_run_reports_fabric_power_and_on_chip_total(tiny_fpga, tiny_workload):
    r = simulate(tiny_fpga, tiny_workload, n_tokens=2, fidelity="analytic")
    fabric = [k for k in r.energy_per_token_j if k.startswith("fabric.")]
    assert {k.split(".")[1] for k in fabric} == {
        "clock_tree", "logic", "routing", "bram", "uram", "dsp",
    }  # fmt: skip
    rate = r.metrics["tokens_per_s"]
    assert r.metrics["fabric_power_w"] == pytest.approx(
        sum(r.energy_per_token_j[k] for k in fabric) * rate
    )
    offchip = sum(v for k, v in r.energy_per_token_j.items() if k.startswith("dram."))
    assert r.metrics["total_power_onchip_w"] == pytest.approx(
        r.metrics["total_power_w"] - offchip * rate
    )


def test_a_design_that_does_not_fit_names_the_resource_and_the_shortfall(tiny_fpga):
    small = {**TINY_DEVICE, "resources": {**TINY_DEVICE["resources"], "lut": 12000, "bram": 1}}
    with pytest.raises(ValueError) as err:
        variant(tiny_fpga, {"fpga.device": small})
    text = str(err.value)
    assert "needs 12,720 x LUT" in text and "short by 720" in text
    assert "needs 2 x BRAM (36 Kb)" in text and "short by 1" in text
    assert "onchip_memory.capacity_bytes" in text


def test_above_80_percent_lut_warns_of_timing_closure(tiny_fpga):
    tight = {**TINY_DEVICE, "resources": {**TINY_DEVICE["resources"], "lut": 15000}}
    warnings = timing_warnings(variant(tiny_fpga, {"fpga.device": tight}))
    assert len(warnings) == 1 and "LUT utilisation 84.8 %" in warnings[0]


def test_section_static_power_beside_the_device_is_refused(tiny_arch):
    with pytest.raises(ValueError, match="compute.static_power_w: with an `fpga` section"):
        variant(tiny_arch, {"fpga": {"device": TINY_DEVICE}})


def test_analog_kinds_cannot_be_built_from_fabric(tiny_crossbar):
    cleared = {k: 0.0 for k in NO_STATIC}
    with pytest.raises(ValueError, match="crossbar_tile cannot be built from FPGA fabric"):
        variant(tiny_crossbar, {**cleared, "fpga": {"device": "vc1902"}})


def test_shipped_parts_are_named_and_an_unknown_part_is_refused(tiny_fpga):
    assert set(DeviceName.__args__) == set(DEVICES)
    with pytest.raises(ValueError, match="unknown part 'vc1903'"):
        variant(tiny_fpga, {"fpga.device": "vc1903"})


def test_vck190_fits_the_vc1902_and_its_static_power_is_the_devices():
    arch = load_config(Architecture, VCK190_ARCH)
    total = usage_totals(fabric_usage(arch))
    assert total["uram"] == 463 and total["bram"] == 961  # 20.5 MiB: all URAM, most BRAM
    assert total["memory_controllers"] == 3
    assert any("BRAM (36 Kb) utilisation 99.4 %" in w for w in timing_warnings(arch))
    assert arch.compute.static_power_w == 0


def test_published_power_is_compared_with_the_metric_of_its_kind():
    pub = PublishedFigures(power_w=10.0, power_kind="board", source="a paper")
    block = published_block(pub, {"total_power_w": 12.0, "dynamic_power_w": 5.0})
    assert block["total_power_w"] == 10.0 and block["total_power_error"] == pytest.approx(0.2)
    assert block["power_kind"] == "board"
    pub = PublishedFigures(power_w=4.0, power_kind="total_onchip", source="a paper")
    block = published_block(pub, {"total_power_onchip_w": 5.0})
    assert block["total_power_onchip_error"] == pytest.approx(0.25)
    assert "total_power_onchip_w" in METRICS
    with pytest.raises(ValueError, match="give both"):
        PublishedFigures(power_w=4.0, source="a paper")


def test_cli_fpga_prints_the_table_and_refuses_a_part_too_small(capsys):
    assert main(["fpga", str(VCK190_ARCH)]) == 0
    out = capsys.readouterr().out
    assert "| compute | 221,184 | 196,608 |" in out and "| utilisation | 32.0 % |" in out
    assert "warning: BRAM (36 Kb) utilisation 99.4 %" in out
    code = main(["fpga", str(VCK190_ARCH), "--set", "architecture.fpga.device=zu7ev"])
    err = capsys.readouterr().err
    assert code == 2 and "short by 3,585" in err and "BRAM (36 Kb)" in err


def test_cli_fpga_refuses_a_design_without_a_part(capsys):
    assert main(["fpga", str(TINY_ARCH)]) == 2
    assert "has no `fpga` section" in capsys.readouterr().err


def test_validate_checks_the_fit(capsys, tmp_path):
    assert main(["validate", str(VCK190_ARCH)]) == 0
    out = capsys.readouterr().out
    assert "fpga: XCVC1902" in out and "LUT 288,048/899,840 (32 %)" in out
    bad = tmp_path / "small.yaml"
    bad.write_text("extends: vck190_nsllm\nname: small\nfpga:\n  device: zu7ev\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "fpga" in err and "short by" in err and "LUT" in err


def test_loading_a_file_that_does_not_fit_is_a_config_error_at_the_device_line(tmp_path):
    text = VCK190_ARCH.read_text()
    bad = tmp_path / "small.yaml"
    bad.write_text(text.replace("device: vc1902", "device: zu7ev"))
    line = text.splitlines().index("fpga:") + 1
    with pytest.raises(ConfigError, match="short by") as err:
        load_config(Architecture, bad)
    assert f"small.yaml:{line}: fpga: the design needs 313,548 x LUT" in str(err.value)
    assert "short by 3,585 (onchip_memory 3,897) [onchip_memory.capacity_bytes]" in str(err.value)
