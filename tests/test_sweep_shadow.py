"""Swept axes that can change nothing are refused, naming the key that shadows them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from neurosim.errors import ConfigError
from neurosim.sweep import load_spec
from neurosim.sweep.shadow import effective_config

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"
TINY_ARCH = FIX / "tiny_arch.yaml"
TINY_WL = FIX / "tiny_workload.yaml"
SITES = ("attn_in", "attn_ctx", "mlp_in", "mlp_act", "head")
EVERY_SITE = "{" + ", ".join(
    f"{s}: {{silent_fraction: 0.2, mean_active_count: 2.0, neuron_spread: 0.1}}" for s in SITES
) + "}"


def write_spec(tmp_path: Path, body: str, arch: Path = TINY_ARCH, wl: Path = TINY_WL) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(f"architecture: {arch}\nworkload: {wl}\n" + textwrap.dedent(body))
    return path


def run_cli(argv, capsys) -> tuple[int, str, str]:
    from neurosim.cli.app import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_default_statistics_shadowed_by_every_site_are_refused(tmp_path, capsys):
    spec = write_spec(
        tmp_path,
        f"""
        fixed:
          workload.spikes.synthetic.sites: {EVERY_SITE}
        axes:
          workload.spikes.synthetic.default.silent_fraction: [0.1, 0.5, 0.9]
          compute.clock_hz: [500 MHz, 1 GHz]
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_spec(spec)
    message = str(info.value)
    assert 'axes["workload.spikes.synthetic.default.silent_fraction"]' in message
    assert "can change nothing" in message
    for site in SITES:
        assert f"spikes.synthetic.sites.{site}.silent_fraction" in message
    assert "compute.clock_hz" not in message  # the live axis is not blamed
    for argv in (["--dry-run"], ["--jobs", "1", "--db", tmp_path / "s.db"]):
        code, out, err = run_cli(["sweep", spec, *argv], capsys)
        assert code == 2 and "can change nothing" in err and "Traceback" not in out + err
    assert not (tmp_path / "s.db").exists()  # refused before any point ran


def test_the_old_firing_study_axis_is_refused_on_the_real_workload(tmp_path, capsys):
    spec = write_spec(
        tmp_path,
        "axes:\n  workload.spikes.synthetic.default.silent_fraction: [0.0, 0.9]\n",
        arch=ROOT / "architectures" / "vck190_nsllm.yaml",
        wl=ROOT / "workloads" / "nsllm-1.5b.yaml",
    )
    code, _, err = run_cli(["sweep", spec, "--dry-run"], capsys)
    assert code == 2
    assert "spikes.synthetic.sites.mlp_act.silent_fraction" in err


def test_live_axes_pass_beside_a_dead_one(tmp_path):
    # the tiny workload overrides only mlp_act: the other sites read the default
    spec = write_spec(
        tmp_path, "axes:\n  workload.spikes.synthetic.default.silent_fraction: [0.1, 0.9]\n"
    )
    assert len(load_spec(spec).axes) == 1
    # with `sites` cleared by the other axis the default is read: live in that combination
    spec = write_spec(
        tmp_path,
        f"""
        axes:
          workload.spikes.synthetic.sites: [{EVERY_SITE}, {{}}]
          workload.spikes.synthetic.default.silent_fraction: [0.1, 0.9]
        """,
    )
    assert len(load_spec(spec).axes) == 2
    # on the real workload, the five per-site fractions tied together are live; the
    # default beside them is not
    paths = ", ".join(f"workload.spikes.synthetic.sites.{s}.silent_fraction" for s in SITES)
    spec = write_spec(
        tmp_path,
        f"""
        axes:
          silent: {{paths: [{paths}], values: [0.1, 0.9]}}
          workload.spikes.synthetic.default.neuron_spread: [0.1, 0.9]
        """,
        arch=ROOT / "architectures" / "vck190_nsllm.yaml",
        wl=ROOT / "workloads" / "nsllm-1.5b.yaml",
    )
    with pytest.raises(ConfigError) as info:
        load_spec(spec)
    assert "axes.silent" not in str(info.value)
    assert "spikes.synthetic.sites.head.neuron_spread" in str(info.value)


def test_documentation_and_identical_values_are_refused(tmp_path):
    spec = write_spec(tmp_path, "axes:\n  description: [one, two]\n")
    with pytest.raises(ConfigError, match="documentation: the simulator never reads it"):
        load_spec(spec)
    spec = write_spec(tmp_path, "axes:\n  compute.clock_hz: [1 GHz, 1000 MHz]\n")
    with pytest.raises(ConfigError, match="every value gives the same resolved"):
        load_spec(spec)


def test_effective_config_drops_only_what_is_unread():
    from neurosim.simulate.systems import load_workload

    wl = load_workload(ROOT / "workloads" / "nsllm-1.5b.yaml").model_dump(mode="json")
    eff = effective_config("workload", wl)
    assert "default" not in eff["spikes"]["synthetic"]  # every site overrides it
    assert eff["spikes"]["synthetic"]["sites"] == wl["spikes"]["synthetic"]["sites"]
    assert "provenance" not in eff and eff["blocks"] == wl["blocks"]
    tiny = load_workload(TINY_WL).model_dump(mode="json")
    assert effective_config("workload", tiny)["spikes"] == tiny["spikes"]
