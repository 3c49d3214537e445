"""Every shipped architecture preset: it loads, every number names its source, and it runs.

The presets in architectures/ are data with provenance (STYLE.md item 7). These tests keep
them honest as the schema and the simulator move: a preset that stops validating, a number
added without a source, a provenance entry that names no setting (a typo hides the source),
or a preset the simulator can no longer run all fail here. The structural checks pin each
chip's published organisation (cores, arrays, memory per chip) to the numbers in its paper.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, TINY_WORKLOAD

from neurosim.architecture import Architecture, CrossbarTileConfig, SramCimTileConfig
from neurosim.cli.app import load_architecture, load_workload, main
from neurosim.config.loader import load_yaml_with_lines, resolve_extends
from neurosim.config.provenance import unsourced_numbers
from neurosim.simulate.systems import run_system

PRESET_DIR = REPO / "architectures"
PRESETS = sorted(PRESET_DIR.glob("*.yaml"))
IDS = [p.stem for p in PRESETS]


def _merged(path: Path) -> dict:
    """The preset's YAML merged with its `extends` base, as the CLI validates it."""
    data, lines = load_yaml_with_lines(path)
    merged, _ = resolve_extends(path, data, lines, (PRESET_DIR,))
    return merged


def _lookup(data: Any, dotted: str) -> bool:
    """True if the key path ``a.b[0].c`` names something in `data`."""
    node = data
    for piece in dotted.split("."):
        name, *indices = piece.split("[")
        if name:
            if not isinstance(node, dict) or name not in node:
                return False
            node = node[name]
        for index in indices:
            i = int(index.rstrip("]"))
            if not isinstance(node, list) or i >= len(node):
                return False
            node = node[i]
    return True


@pytest.fixture(scope="module")
def tiny_workload_cli():
    """The tiny test workload, loaded the way the CLI loads a workload."""
    return load_workload(TINY_WORKLOAD)


def test_presets_are_found() -> None:
    expected = {"loihi", "loihi2", "truenorth", "spinnaker2", "brainscales2"}
    expected |= {"reram_cim", "pcm_cim", "sram_cim", "vck190_nsllm"}
    assert expected <= set(IDS), sorted(expected - set(IDS))


@pytest.mark.parametrize("path", PRESETS, ids=IDS)
def test_preset_validates_and_is_named_after_its_file(path: Path) -> None:
    arch = load_architecture(path)
    assert arch.name == path.stem


@pytest.mark.parametrize("path", PRESETS, ids=IDS)
def test_every_number_has_a_source(path: Path) -> None:
    assert unsourced_numbers(_merged(path)) == []


@pytest.mark.parametrize("path", PRESETS, ids=IDS)
def test_provenance_entries_name_real_settings(path: Path) -> None:
    merged = _merged(path)
    dangling = [key for key in merged["provenance"] if not _lookup(merged, key)]
    assert dangling == []


@pytest.mark.parametrize("path", PRESETS, ids=IDS)
def test_provenance_entries_say_where_from(path: Path) -> None:
    """An entry is a citation or an explicit assumption, never an empty or bare word."""
    merged = _merged(path)
    for key, text in merged["provenance"].items():
        assert len(text.split()) >= 2, f"{key}: {text!r}"


@pytest.mark.parametrize("path", PRESETS, ids=IDS)
def test_cli_validate_passes_without_warning(path: Path, capsys) -> None:
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "valid architecture" in out
    assert "warning" not in out


def _event_driven() -> list[Path]:
    return [p for p in PRESETS if isinstance(load_architecture(p), Architecture)]


EVENT_DRIVEN = _event_driven()


@pytest.mark.parametrize("path", EVENT_DRIVEN, ids=[p.stem for p in EVENT_DRIVEN])
def test_preset_runs_one_token_of_the_tiny_workload(path: Path, tiny_workload_cli) -> None:
    arch = load_architecture(path)
    result = run_system(arch, tiny_workload_cli, n_tokens=1, seed=0, fidelity="analytic")
    m = result.metrics
    assert result.tokens == 1
    assert m["tokens_per_s"] > 0
    assert m["energy_per_token_j"] > 0
    assert m["dynamic_energy_per_token_j"] > 0
    assert m["static_energy_per_token_j"] > 0
    assert all(j >= 0 for j in result.energy_per_token_j.values())
    assert math.isclose(
        sum(result.energy_per_token_j.values()), m["energy_per_token_j"], rel_tol=1e-9
    )


@pytest.mark.parametrize("path", EVENT_DRIVEN, ids=[p.stem for p in EVENT_DRIVEN])
def test_presets_without_dram_can_add_chips(path: Path) -> None:
    """Weight-stationary presets must be able to grow to the model (a `chips` section)."""
    arch = load_architecture(path)
    if arch.dram is None:
        assert arch.chips is not None


# Published organisation of each chip, per chip (docs/sources.md anchor in brackets).
def _spiking_capacity(name: str) -> int:
    return int(load_architecture(PRESET_DIR / f"{name}.yaml").onchip_memory.capacity_bytes)


def _arrays_per_chip(name: str) -> int:
    compute = load_architecture(PRESET_DIR / f"{name}.yaml").compute
    assert isinstance(compute, CrossbarTileConfig | SramCimTileConfig)
    return compute.count * compute.arrays_per_tile


@pytest.mark.parametrize(
    ("name", "measure", "expected"),
    [
        # Loihi: 128 cores x 128 KB synaptic memory [#loihi]
        ("loihi", _spiking_capacity, 128 * 128 * 1024),
        # Loihi 2: 128 cores x 128 KB [#loihi2, secondary]
        ("loihi2", _spiking_capacity, 128 * 128 * 1024),
        # TrueNorth: 4096 x 256 x 256 synapse bits + 2^20 neurons x 20-bit potentials [#truenorth]
        ("truenorth", _spiking_capacity, 4096 * 256 * 256 // 8 + 2**20 * 20 // 8),
        # SpiNNaker 2: 152 PEs x 96 KiB of their 128 KB free for weights [#spinnaker2]
        ("spinnaker2", _spiking_capacity, 152 * 96 * 1024),
        # BrainScaleS-2: 131,072 synapses, a signed weight in two -> 65,536 x 2 bit [#brainscales2]
        ("brainscales2", _spiking_capacity, 131072 // 2 * 2 // 8),
        # ISAAC: 168 tiles x 12 IMAs x 8 arrays [#isaac]
        ("reram_cim", _arrays_per_chip, 168 * 12 * 8),
        # HERMES: 64 cores of one 256 x 256 array [#hermes]
        ("pcm_cim", _arrays_per_chip, 64),
        # 256 IMAGINE macros (a design choice, see the preset)
        ("sram_cim", _arrays_per_chip, 256),
    ],
)
def test_preset_matches_the_published_organisation(name, measure, expected) -> None:
    assert measure(name) == expected


def test_adcs_cover_every_column_of_the_crossbar_presets() -> None:
    for name in ("reram_cim", "pcm_cim"):
        arch = load_architecture(PRESET_DIR / f"{name}.yaml")
        assert arch.adc.count * arch.adc.columns_per_adc == arch.compute.cols


def test_spiking_presets_say_their_compute_unit_grouping() -> None:
    """Units group physical cores (STYLE: say so in provenance); the text must name it."""
    for path in EVENT_DRIVEN:
        merged = _merged(path)
        if merged["compute"].get("kind", "spiking_core") != "spiking_core":
            continue
        if path.stem == "vck190_nsllm":
            continue  # an FPGA design: its units are a partitioning choice, said there
        text = merged["provenance"]["compute.count"]
        assert re.search(r"granularity|group", text), f"{path.stem}: {text}"


@pytest.mark.parametrize("path", PRESETS, ids=IDS)
def test_preset_runs_one_token_of_smollm2(path: Path) -> None:
    """Every preset, GPU included, decodes a token of the real SmolLM2-135M shapes."""
    from neurosim.cli.app import load_workload
    from neurosim.simulate.systems import run_system

    workload = load_workload(Path(__file__).resolve().parent.parent / "workloads/smollm2-135m.yaml")
    r = run_system(load_architecture(path), workload, n_tokens=1, fidelity="analytic")
    assert r.metrics["tokens_per_s"] > 0 and r.metrics["energy_per_token_j"] > 0


@pytest.mark.parametrize("path", PRESETS, ids=IDS)
def test_preset_runs_one_token_of_nsllm_1_5b(path: Path) -> None:
    """Every preset decodes a token of the 1.5B-parameter NSLLM workload."""
    from neurosim.cli.app import load_workload
    from neurosim.simulate.systems import run_system

    workload = load_workload(Path(__file__).resolve().parent.parent / "workloads/nsllm-1.5b.yaml")
    r = run_system(load_architecture(path), workload, n_tokens=1, fidelity="analytic")
    assert r.metrics["tokens_per_s"] > 0 and r.metrics["energy_per_token_j"] > 0
