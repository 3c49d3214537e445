"""compare and capacity commands: tables, chart, NSLLM ratios, chip counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from neurosim.analysis.capacity import capacity
from neurosim.analysis.compare import energy_by_category, nsllm_ratios
from neurosim.cli.app import load_architecture, load_workload, main
from neurosim.simulate.systems import run_system

ROOT = Path(__file__).resolve().parent.parent
VCK = ROOT / "architectures/vck190_nsllm.yaml"
A800 = ROOT / "architectures/a800.yaml"
NSLLM = ROOT / "workloads/nsllm-1.5b.yaml"
CROSSBAR = ROOT / "tests/fixtures/tiny_crossbar.yaml"


def test_compare_prints_table_ratios_and_writes_chart(tmp_path, capsys):
    code = main(
        [
            "compare",
            str(VCK),
            str(A800),
            "--workload",
            str(NSLLM),
            "--tokens",
            "1",
            "--out",
            str(tmp_path),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    for text in ("| vck190_nsllm |", "| a800 |", "NSLLM ratios", "throughput", "memory_saving"):
        assert text in out
    assert (tmp_path / "compare__nsllm-1.5b.csv").read_text().count("\n") == 3
    png = tmp_path / "energy__nsllm-1.5b.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_refuses_a_bad_file_before_running(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: vck190_nsllm\ncompute: {lane: 3}\n")
    code = main(["compare", str(VCK), str(bad), "--workload", str(NSLLM), "--out", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code == 2 and "error:" in err and "Traceback" not in err
    assert not list(tmp_path.glob("*.csv"))


def test_nsllm_ratios_count_what_they_say():
    wl = load_workload(NSLLM)
    fpga = run_system(load_architecture(VCK), wl, n_tokens=1, fidelity="analytic")
    gpu = run_system(load_architecture(A800), wl, n_tokens=1)
    ratios = {r["ratio"]: r for r in nsllm_ratios(fpga, gpu)}
    assert ratios["throughput"]["ours"] == pytest.approx(
        fpga.metrics["tokens_per_s"] / gpu.metrics["tokens_per_s"]
    )
    assert ratios["energy_efficiency"]["ours"] == pytest.approx(
        gpu.metrics["energy_per_token_j"] / fpga.metrics["dynamic_energy_per_token_j"]
    )
    assert ratios["memory_saving"]["paper"] == 21.3
    assert sum(energy_by_category(fpga).values()) == pytest.approx(
        fpga.metrics["energy_per_token_j"], rel=1e-12
    )


def test_firing_rate_moves_event_driven_energy_not_the_gpu():
    wl = load_workload(NSLLM)
    from neurosim.config.overrides import with_overrides

    quiet = with_overrides(wl, {"spikes.synthetic.default.silent_fraction": 0.95})
    cross = load_architecture(CROSSBAR)
    tiny = load_workload(ROOT / "tests/fixtures/tiny_workload.yaml")
    tiny_quiet = with_overrides(tiny, {"spikes.synthetic.default.silent_fraction": 0.95})
    e = [
        run_system(cross, w, n_tokens=2, fidelity="analytic").metrics["dynamic_energy_per_token_j"]
        for w in (tiny, tiny_quiet)
    ]
    assert e[1] < e[0]
    gpu = load_architecture(A800)
    g = [run_system(gpu, w, n_tokens=1).metrics["energy_per_token_j"] for w in (wl, quiet)]
    assert g[0] == g[1]


def test_capacity_counts_chips_from_cells_and_memory(capsys):
    wl = load_workload(NSLLM)
    cross = load_architecture(CROSSBAR)
    answer = capacity(cross, 20e9, wl)
    cfg = cross.compute
    cells = 20e9 * 1  # 2-bit weights in 2-bit cells: one cell per weight
    assert answer.chips == -(-int(cells) // (cfg.count * cfg.arrays_per_tile * cfg.rows * cfg.cols))
    assert answer.link_energy_per_token_j == pytest.approx(
        answer.boundary_bits_per_token * cross.chips.energy_j_per_bit
    )
    gpu = capacity(load_architecture(A800), 20e9, wl)
    assert gpu.chips == 1  # 40 GB of FP16 weights + 1 GB framework fit in 80 GB
    assert main(["capacity", str(CROSSBAR), str(A800), "--parameters", "20e9"]) == 0
    out, _ = capsys.readouterr()
    assert "| tiny_crossbar |" in out and "array cells" in out
    assert main(["capacity", str(A800), "--parameters", "-1"]) == 2


@pytest.mark.parametrize(
    ("preset", "precision", "gpus"),
    [
        # 200e9 x 4 B (tf32 is stored as fp32) + 1 GB framework = 801 GB
        ("a800", "tf32", 11),  # 801 / 80 = 10.01
        ("a800_pcie_40gb", "tf32", 21),  # 801 / 40 = 20.03
        ("a800", "fp32", 11),
        ("a800", "bf16", 6),  # 401 / 80 = 5.01
        ("a800_pcie_40gb", "int8", 6),  # 201 / 40 = 5.03
    ],
)
def test_gpu_capacity_uses_the_dtype_table(preset, precision, gpus):
    from neurosim.config.overrides import with_overrides

    gpu = with_overrides(
        load_architecture(ROOT / f"architectures/{preset}.yaml"), {"precision": precision}
    )
    answer = capacity(gpu, 200e9, load_workload(NSLLM))
    assert answer.chips == gpus
    assert answer.weight_bits == {"tf32": 32, "fp32": 32, "bf16": 16, "int8": 8}[precision]
