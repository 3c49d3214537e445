"""What a new user hits: --set overrides, schema and the config reference, Ctrl-C, progress,
help texts, reprice across kinds, GPU-only options on a chip."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neurosim.analysis.config_docs import config_reference, config_schema
from neurosim.cli.app import _parser, main
from neurosim.simulate import run as run_module
from neurosim.simulate.run import RunInterrupted, simulate
from neurosim.trace import open_trace
from neurosim.trace.extract import ExtractConfig, extract

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TINY_ARCH, TINY_WL = FIXTURES / "tiny_arch.yaml", FIXTURES / "tiny_workload.yaml"


def _main(argv, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- --set


def test_set_changes_the_run_like_a_sweep_axis(tmp_path, capsys) -> None:
    base = ["run", TINY_ARCH, TINY_WL, "--tokens", "2", "--fidelity", "analytic", "--quiet"]
    assert _main([*base, "--out", tmp_path / "a"], capsys)[0] == 0
    argv = [*base, "--out", tmp_path / "b", "--set", "architecture.compute.clock_hz=1 MHz"]
    argv += ["--set", "workload.weights.bits=4"]
    assert _main(argv, capsys)[0] == 0
    a = json.loads((tmp_path / "a" / "result.json").read_text())
    b = json.loads((tmp_path / "b" / "result.json").read_text())
    assert b["config"]["architecture"]["compute"]["clock_hz"] == 1e6
    assert b["config"]["workload"]["weights"]["bits"] == 4
    assert b["metrics"]["latency_mean_s"] > a["metrics"]["latency_mean_s"]


@pytest.mark.parametrize(
    ("setting", "texts"),
    [
        ("architecture.compute.lane=3", ["compute.lane", "did you mean lanes?", "accepted keys"]),
        ("architecture.dram.channels[7].efficiency=0.5", ["indices 0..1"]),
        ("architecture.compute.clock_hz=fast", ["compute.clock_hz", "a frequency"]),
        ("workload.weights.bitz=4", ["did you mean bits?"]),
        ("compute.lanes=3", ["starts with 'architecture.' or 'workload.'"]),
        ("architecture.compute.lanes", ["expected KEY=VALUE"]),
    ],
)
def test_set_mistakes_name_the_key(setting, texts, capsys) -> None:
    argv = ["run", TINY_ARCH, TINY_WL, "--tokens", "1", "--quiet", "--set", setting]
    code, out, err = _main(argv, capsys)
    assert code == 2 and err.startswith("error: ") and "Traceback" not in err, err
    for text in texts:
        assert text in err, err


@pytest.mark.parametrize("command", ["validate", "compare", "capacity", "reprice"])
def test_set_is_offered_where_configs_are_read(command) -> None:
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert any("--set" in a.option_strings for a in sub.choices[command]._actions)


def test_validate_with_set_shows_the_changed_value(capsys) -> None:
    code, out, _ = _main(
        ["validate", "vck190_nsllm", "--set", "architecture.compute.lanes=7"], capsys
    )
    assert code == 0 and "7 lanes" in out
    code, _, err = _main(["validate", "vck190_nsllm", "--set", "workload.weights.bits=4"], capsys)
    assert code == 2 and "describes an architecture" in err


# --------------------------------------------------------------------------- schema, reference


@pytest.mark.parametrize("kind", ["architecture", "workload", "sweep"])
def test_schema_command_prints_config_schema(kind, capsys) -> None:
    code, out, _ = _main(["schema", kind], capsys)
    schema = json.loads(out)
    assert code == 0 and schema["$schema"].startswith("https://json-schema.org/")
    assert schema == config_schema(kind)
    text = json.dumps(schema)
    if kind == "architecture":
        clock = schema["$defs"]["SpikingCoreConfig"]["properties"]["clock_hz"]
        assert {"type": "string"}.items() <= clock["anyOf"][1].items()  # "300 MHz" is fine
        assert clock["anyOf"][0] == {"type": "number", "exclusiveMinimum": 0}
        assert "GpuArchitecture" in schema["$defs"] and "extends" in text
    if kind == "workload":
        assert "weights" in schema["properties"] and "extends" in schema["properties"]


def _yaml12_numbers(node):
    """PyYAML (YAML 1.1) reads 1.0e9 as text; editors (YAML 1.2) read a number."""
    if isinstance(node, dict):
        return {k: _yaml12_numbers(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_yaml12_numbers(v) for v in node]
    if isinstance(node, str) and re.fullmatch(r"[-+]?\d+(\.\d*)?[eE][-+]?\d+", node):
        return float(node)
    return node


def test_schema_validates_the_shipped_presets() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    for kind, folder in (("architecture", "architectures"), ("workload", "workloads")):
        schema = config_schema(kind)
        for path in sorted((ROOT / folder).glob("*.yaml")):
            jsonschema.validate(_yaml12_numbers(yaml.safe_load(path.read_text())), schema)
    sweeps = 0
    for path in sorted((ROOT / "architectures" / "sweeps").glob("*.yaml")):
        data = _yaml12_numbers(yaml.safe_load(path.read_text()))
        kind = "sweep" if "axes" in data else "architecture"  # the folder holds both
        jsonschema.validate(data, config_schema(kind))
        sweeps += kind == "sweep"
    assert sweeps >= 3
    with pytest.raises(jsonschema.ValidationError, match="lane"):
        jsonschema.validate({"compute": {"lane": 3}}, config_schema("architecture"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"interconnect": {"hop_latency_s": [1]}}, config_schema("architecture"))


def test_committed_config_reference_is_fresh() -> None:
    committed = (ROOT / "docs" / "config-reference.md").read_text()
    assert committed == config_reference(), "run python scripts/config_reference.py"


def test_reference_lists_every_field_with_unit_and_range() -> None:
    from neurosim.architecture import Architecture, DramChannelConfig

    text = config_reference()
    for model in (Architecture, DramChannelConfig):
        for name in model.model_fields:
            assert f"| `{name}` |" in text
    row = next(r for r in text.splitlines() if r.startswith("| `efficiency` |"))
    assert ">= 0" in row and "<= 1" in row and "sustained / peak" in row
    row = next(r for r in text.splitlines() if r.startswith("| `latency_s` |"))
    assert "| s |" in row and "3 ns" in row
    assert "`extends:`" in text and "adc: null" in text


def test_null_removes_an_inherited_optional_section(tmp_path, capsys) -> None:
    """What the reference says about removing a key holds."""
    child = tmp_path / "no_published.yaml"
    child.write_text("extends: vck190_nsllm\nname: no_published\npublished: null\n")
    code, out, err = _main(["validate", child], capsys)
    assert code == 0, err
    from neurosim.cli.app import load_architecture

    assert load_architecture(child).published is None


# --------------------------------------------------------------------------- interrupts


def _interrupt_after(n: int):
    calls = {"n": 0}

    def progress(step: int) -> None:
        calls["n"] += step
        if calls["n"] == n:
            raise KeyboardInterrupt

    return progress


@pytest.mark.parametrize("fidelity", ["analytic", "des"])
def test_interrupted_run_keeps_the_finished_tokens(fidelity, tiny_arch, tiny_workload) -> None:
    with pytest.raises(RunInterrupted) as info:
        simulate(
            tiny_arch, tiny_workload, n_tokens=5, fidelity=fidelity, progress=_interrupt_after(3)
        )
    partial = info.value.result
    fresh = simulate(tiny_arch, tiny_workload, n_tokens=3, fidelity=fidelity)
    assert info.value.requested == 5 and partial.tokens == 3
    assert partial.event_counts == fresh.event_counts
    assert partial.metrics == pytest.approx(fresh.metrics)


def test_interrupt_inside_a_des_token_drops_that_token(tiny_arch, tiny_workload, monkeypatch):
    """Ctrl-C while the 3rd token is under way: only whole tokens are kept."""
    real, calls = run_module.busy_times, {"n": 0}

    def busy_times(meter, work):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(meter, work)

    monkeypatch.setattr(run_module, "busy_times", busy_times)
    with pytest.raises(RunInterrupted) as info:
        simulate(tiny_arch, tiny_workload, n_tokens=4, fidelity="des")
    monkeypatch.setattr(run_module, "busy_times", real)
    fresh = simulate(tiny_arch, tiny_workload, n_tokens=2, fidelity="des")
    assert info.value.result.event_counts == fresh.event_counts


def test_interrupt_before_any_token_is_a_plain_interrupt(tiny_arch, tiny_workload, monkeypatch):
    def busy_times(meter, work):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "busy_times", busy_times)
    with pytest.raises(KeyboardInterrupt) as info:
        simulate(tiny_arch, tiny_workload, n_tokens=2, fidelity="analytic")
    assert not isinstance(info.value, RunInterrupted)


def test_run_command_writes_a_partial_result_on_ctrl_c(tmp_path, monkeypatch, capsys) -> None:
    real, calls = run_module.busy_times, {"n": 0}

    def busy_times(meter, work):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(meter, work)

    monkeypatch.setattr(run_module, "busy_times", busy_times)
    argv = ["run", TINY_ARCH, TINY_WL, "--tokens", "6", "--quiet", "--out", tmp_path / "o"]
    code, out, err = _main(argv, capsys)
    assert code == 130 and "partial" in err and "2 of 6 tokens" in err
    saved = json.loads((tmp_path / "o" / "result.json").read_text())
    assert saved["partial"] is True and saved["tokens"] == 2 and saved["tokens_requested"] == 6
    assert "throughput" in out  # the partial result is printed too


class _InterruptedModel:
    """TinyModel whose forward pass is interrupted on the n-th traced window."""

    def __init__(self, n: int) -> None:
        from test_trace_pipeline import TinyModel

        self.model, self.n, self.calls = TinyModel(), n, 0
        self.sites, self.info = self.model.sites, self.model.info
        self.encode = self.model.encode

    def forward(self, ids, hook=None):
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
        return self.model.forward(ids, hook)


def test_interrupted_extract_keeps_a_valid_shorter_trace(tmp_path) -> None:
    ids = np.arange(100) % 30
    cfg = ExtractConfig(
        tokens=100,
        levels=8,
        k=2.0,
        threshold="adaptive",
        granularity="site",
        eval_tokens=0,
        context=20,
        chunk_tokens=15,
    )
    res = extract(_InterruptedModel(3), tmp_path / "t.nstrace", ids, cfg)
    assert res.footer["partial"] is True and res.footer["tokens_requested"] == 100
    reader = open_trace(res.path)
    assert reader.n_tokens == 40 == res.footer["tokens"]
    assert sum(c.counts.shape[0] for c in reader.chunks()) == 40
    with pytest.raises(KeyboardInterrupt):  # nothing traced yet: no file is left behind
        extract(_InterruptedModel(1), tmp_path / "u.nstrace", ids, cfg)
    assert not list(tmp_path.glob("u.nstrace*"))


def test_trace_extract_command_says_the_trace_is_partial(tmp_path, monkeypatch, capsys):
    from neurosim.trace import gguf_llama

    monkeypatch.setattr(gguf_llama, "load_smollm2", lambda: _InterruptedModel(2))
    text = tmp_path / "t.txt"
    text.write_text("abcdefghij klmnopqrstuvwxyz " * 20)
    argv = [
        "trace",
        "extract",
        "--text",
        text,
        "--out",
        tmp_path / "t.nstrace",
        "--tokens",
        "60",
        "--context",
        "20",
        "--threshold-k",
        "2",
        "--levels",
        "8",
        "--eval-tokens",
        "0",
        "--quiet",
    ]
    code, out, err = _main(argv, capsys)
    assert code == 130 and "20 of 60 tokens" in err and "valid, shorter trace" in err
    assert open_trace(tmp_path / "t.nstrace").n_tokens == 20


# --------------------------------------------------------------------------- compare, help


def test_compare_shows_progress_unless_quiet(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    argv = [
        "compare",
        TINY_ARCH,
        TINY_ARCH,
        "--workload",
        TINY_WL,
        "--tokens",
        "2",
        "--out",
        tmp_path,
    ]
    code, _, err = _main(argv, capsys)
    assert code == 0 and "compare analytic" in err and "/4 " in err and "tiny_test_arch" in err
    code, _, err = _main([*argv, "--quiet"], capsys)
    assert code == 0 and "compare analytic" not in err


@pytest.mark.parametrize("command", ["validate", "compare", "capacity", "reprice", "run"])
def test_every_option_has_help(command) -> None:
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    for action in sub.choices[command]._actions:
        assert action.help, f"{command} {action.dest} has no help text"


# --------------------------------------------------------------------------- wrong pairings


def test_softmax_on_a_chip_names_what_is_missing(tmp_path, capsys) -> None:
    base = ["run", TINY_ARCH, TINY_WL, "--quiet", "--out", tmp_path / "o"]
    code, _, err = _main([*base, "--attention", "softmax"], capsys)
    assert code == 2 and "blocks.softmax_attention" in err and "tiny_workload.yaml" in err
    section = "workload.blocks.softmax_attention={heads: 2, kv_heads: 1, head_dim: 8}"
    code, _, err = _main([*base, "--attention", "softmax", "--set", section], capsys)
    assert code == 2 and "Traceback" not in err
    assert "tiny_arch.yaml" in err and "tiny_workload.yaml" in err and "attention_engine" in err
    assert not (tmp_path / "o").exists()
    code, out, _ = _main([*base, "--context-tokens", "100"], capsys)  # linear: no cache
    assert code == 0 and "throughput" in out


def test_reprice_on_another_kind_says_the_kinds_differ(tiny_arch, tiny_workload, tmp_path, capsys):
    from neurosim.results.record import write_result

    write_result(simulate(tiny_arch, tiny_workload, n_tokens=1, fidelity="analytic"), tmp_path)
    code, _, err = _main(
        ["reprice", tmp_path / "result.json", FIXTURES / "tiny_crossbar.yaml"], capsys
    )
    assert code == 2 and "kinds differ" in err and "compute/synop" in err
    assert "add 'synop'" not in err


def test_subprocess_run_accepts_preset_names(tmp_path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "neurosim.cli.app",
            "run",
            "vck190_nsllm",
            "nsllm-1.5b",
            "--tokens",
            "1",
            "--fidelity",
            "analytic",
            "--quiet",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "result.json").is_file()


def test_compare_default_output_directory_is_checked_too(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "compare").write_text("a file where the directory goes\n")
    code, _, err = _main(["compare", TINY_ARCH, "--workload", TINY_WL, "--quiet"], capsys)
    assert code == 2 and "results/compare is an existing file" in err
