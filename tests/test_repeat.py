"""Repetition in configs: `repeat: N` with a per-instance name pattern and varying keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO

from neurosim.errors import ConfigError
from neurosim.simulate.systems import load_architecture

TINY = REPO / "tests" / "fixtures" / "tiny_arch.yaml"
CHANNEL = """\
        capacity_bytes: 256 KiB
        peak_bandwidth_bytes_per_s: 1 GB/s
        efficiency: 0.5
        burst_bytes: 32
        latency_s: 50 ns
        read_energy_j_per_bit: 20 pJ/bit
        write_energy_j_per_bit: 20 pJ/bit
        static_power_w: 0.01 W
"""


def write(tmp_path: Path, repeat: str, extra: str = "") -> Path:
    path = tmp_path / "arch.yaml"
    path.write_text(
        f"extends: {TINY}\n"
        "dram:\n  channels:\n"
        f"      - repeat: {repeat}\n"
        '        name: "pc{i:02d}"\n'
        "        attach_node: 2\n"
        f"{extra}{CHANNEL}"
    )
    return path


def test_count_and_name_pattern_make_identical_channels(tmp_path):
    arch = load_architecture(write(tmp_path, "8"))
    names = [ch.name for ch in arch.dram_channels]
    assert names == [f"pc{i:02d}" for i in range(8)]
    assert {ch.capacity_bytes for ch in arch.dram_channels} == {256 * 1024}


def test_start_and_vary(tmp_path):
    arch = load_architecture(
        write(tmp_path, "{count: 4, start: 1}", "        vary: {attach_node: [2, 5]}\n")
    )
    assert [ch.name for ch in arch.dram_channels] == ["pc01", "pc02", "pc03", "pc04"]
    assert [ch.attach_node for ch in arch.dram_channels] == [2, 5, 2, 5]


def test_repeated_channels_run_like_written_ones(tmp_path):
    from neurosim.simulate.systems import load_workload, run_system

    wl = load_workload(REPO / "tests" / "fixtures" / "tiny_workload.yaml")
    repeated = load_architecture(write(tmp_path, "2", "        vary: {attach_node: [2, 5]}\n"))
    written = tmp_path / "written.yaml"
    body = "".join(
        f'      - name: "pc{i:02d}"\n        attach_node: {node}\n{CHANNEL}'
        for i, node in enumerate((2, 5))
    )
    written.write_text(f"extends: {TINY}\ndram:\n  channels:\n{body}")
    a = run_system(repeated, wl, n_tokens=1, fidelity="analytic")
    b = run_system(load_architecture(written), wl, n_tokens=1, fidelity="analytic")
    assert a.metrics == b.metrics


@pytest.mark.parametrize(
    ("repeat", "extra", "text", "line"),
    [
        ("0", "", "count must be an integer >= 1", 4),
        ("{count: 2, every: 3}", "", "unknown key 'every'", 4),
        ("5000", "", "at most 4096", 4),
        ("2", "        vary: {attach_node: []}\n", "non-empty list", 7),
        ("2", '        name: "same"\n', "must be unique", None),
    ],
)
def test_bad_repeats_name_file_and_line(tmp_path, repeat, extra, text, line):
    path = write(tmp_path, repeat, extra)
    if "same" in extra:  # a second name key: write the pattern-less item instead
        path.write_text(path.read_text().replace('        name: "pc{i:02d}"\n', ""))
    with pytest.raises(ConfigError) as err:
        load_architecture(path)
    message = str(err.value)
    assert text in message and str(path) in message
    if line is not None:
        assert f"{path}:{line}:" in message


def test_error_inside_an_instance_points_at_the_written_item(tmp_path):
    path = write(tmp_path, "3")
    path.write_text(path.read_text().replace("efficiency: 0.5", "efficiency: 1.5"))
    with pytest.raises(ConfigError) as err:
        load_architecture(path)
    assert f"{path}:9: dram.channels[0].efficiency" in str(err.value)
