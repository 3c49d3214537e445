"""Sweeps over the run shape: `run.batch`, `run.prompt_tokens`, `run.attention` and
`run.context_tokens` as fixed values and axes, checked like `neurosim run`'s options."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path

import pytest

from neurosim.errors import ConfigError
from neurosim.sweep import load_spec, load_study, plan_study, run_study

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"
TINY_ARCH = FIX / "tiny_arch.yaml"
TINY_WL = FIX / "tiny_workload.yaml"
A800 = ROOT / "architectures" / "a800.yaml"
METRICS = (
    "tokens_per_s",
    "time_to_first_token_s",
    "time_per_output_token_s",
    "decode_tokens_per_s",
    "energy_per_token_j",
)
ENGINE = (  # an attention engine for the tiny chip, as tests/test_kv_cache.py gives it
    "{count: 2, clock_hz: 1e9, macs_per_cycle: 4, exps_per_cycle: 1, "
    "energy: {mac_j: 1e-12, exp_j: 5e-12}, static_power_w: 0.01}"
)
SOFTMAX = "{heads: 2, kv_heads: 1, head_dim: 8, kv_bits: 16}"


def write_spec(tmp_path: Path, body: str, archs: tuple[Path, ...] = (TINY_ARCH,)) -> Path:
    listed = ", ".join(str(a) for a in archs)
    path = tmp_path / "spec.yaml"
    path.write_text(f"architecture: [{listed}]\nworkload: {TINY_WL}\n" + textwrap.dedent(body))
    return path


def main(argv: list) -> int:
    from neurosim.cli.app import main as cli_main

    return cli_main([str(a) for a in argv])


SHAPE_SPEC = f"""
fixed:
  run.context_tokens: 16
axes:
  run.batch: [1, 4]
  run.prompt_tokens: [0, 8]
tokens: 2
metrics: [{", ".join(METRICS)}]
"""


def test_run_axes_expand_into_points_with_their_shape(tmp_path):
    plan = plan_study(load_spec(write_spec(tmp_path, SHAPE_SPEC)))
    assert not plan.skipped
    shapes = [(t.params["run.batch"], t.params["run.prompt_tokens"]) for t in plan.tasks]
    assert shapes == [(1, 0), (1, 8), (4, 0), (4, 8)]
    for task in plan.tasks:
        batch, prompt = task.params["run.batch"], task.params["run.prompt_tokens"]
        assert task.run == {
            "attention": None, "context_tokens": 16, "prompt_tokens": prompt, "batch": batch,
        }
        options = task.config["options"]  # only what differs from a plain decode
        assert options.get("batch", 1) == batch and options.get("prompt_tokens", 0) == prompt
        assert ("batch" in options) == (batch != 1)
        assert options["context_tokens"] == 16  # the tiny workload caches 0
    assert len({t.key for t in plan.tasks}) == 4


def test_a_point_equals_neurosim_run_with_the_same_shape(tmp_path, capsys):
    """Chip and GPU: the stored metrics are those of `neurosim run --batch B
    --prompt-tokens P --context-tokens C`; on a chip the key is the run's config hash; the
    sweep-point command reproduces the point with its run-shape options."""
    spec = write_spec(tmp_path, SHAPE_SPEC, (TINY_ARCH, A800))
    db = tmp_path / "s.db"
    run = run_study(load_spec(spec), db, jobs=1)
    assert run.statuses == {"done": 8}
    frame = load_study(db)
    assert list(frame["batch"]) == [1, 1, 4, 4] * 2  # the run shape as identifier columns
    assert list(frame["prompt_tokens"]) == [0, 8, 0, 8] * 2
    for arch in (TINY_ARCH, A800):
        row = frame[(frame["base_architecture"] == str(arch)) & (frame["run.batch"] == 4)
                    & (frame["run.prompt_tokens"] == 8)].iloc[0]
        out = tmp_path / f"run_{arch.stem}"
        assert main(["run", arch, TINY_WL, "--fidelity", "analytic", "--tokens", "2",
                     "--batch", "4", "--prompt-tokens", "8", "--context-tokens", "16",
                     "--quiet", "--out", out]) == 0
        result = json.loads((out / "result.json").read_text())
        for metric in METRICS:
            assert row[metric] == result["metrics"][metric], (arch.stem, metric)
        if arch == TINY_ARCH:
            assert row["key"] == result["config_hash"]
    capsys.readouterr()
    chip_key = frame[(frame["base_architecture"] == str(TINY_ARCH))
                     & (frame["run.batch"] == 4) & (frame["run.prompt_tokens"] == 8)]["key"]
    assert main(["sweep-point", db, chip_key.iloc[0], "--out", tmp_path / "pt"]) == 0
    assert "--context-tokens 16 --prompt-tokens 8 --batch 4" in capsys.readouterr().out


def test_attention_and_context_axes_on_a_chip_and_a_gpu(tmp_path):
    """A chip runs `run.attention` as its workload's mixer (stored so); the GPU takes it
    as `--attention`; both run the KV cache for `run.context_tokens`."""
    chip = write_spec(tmp_path, f"""
        fixed:
          attention_engine: {ENGINE}
          workload.blocks.softmax_attention: {SOFTMAX}
        axes:
          run.attention: [linear, softmax]
          run.context_tokens: [0, 256]
        tokens: 1
        """)
    plan = plan_study(load_spec(chip))
    mixers = [t.workload.blocks.attention_kind for t in plan.tasks]
    assert mixers == ["linear", "linear", "softmax", "softmax"]
    assert all(t.run["attention"] is None for t in plan.tasks)  # applied to the workload
    run_study(load_spec(chip), tmp_path / "chip.db", jobs=1)
    frame = load_study(tmp_path / "chip.db").set_index(["run.attention", "run.context_tokens"])
    tps = frame["tokens_per_s"]
    assert tps[("linear", 0)] == tps[("linear", 256)]  # a recurrent state has no cache
    assert tps[("softmax", 256)] < tps[("softmax", 0)]  # the cache is read every token

    gpu = tmp_path / "gpu"
    gpu.mkdir()
    spec = write_spec(gpu, """
        axes:
          run.attention: [linear, softmax]
          run.context_tokens: [0, 4096]
        tokens: 1
        """, (A800,))
    run_study(load_spec(spec), gpu / "gpu.db", jobs=1)
    frame = load_study(gpu / "gpu.db").set_index(["run.attention", "run.context_tokens"])
    energy = frame["energy_per_token_j"]
    assert energy[("softmax", 4096)] > energy[("softmax", 0)]
    assert energy[("linear", 4096)] == energy[("linear", 0)]


INVALID = {
    "typo": ("axes:\n  run.bacth: [1, 2]\n",
             ['axes["run.bacth"]', "unknown run option 'run.bacth'", "did you mean run.batch?",
              "run options: run.attention, run.context_tokens, run.prompt_tokens, run.batch"]),
    "bare_run_option": ("fixed:\n  batch: 4\n", ["(did you mean run.batch?)"]),
    "batch_range": ("axes:\n  run.batch: [1, 8192]\n",
                    ["run.batch must be between 1 and 4096", "got 8192"]),
    "negative_prompt": ("fixed:\n  run.prompt_tokens: -1\n",
                        ["run.prompt_tokens must be between 0 and 1048576"]),
    "fractional_batch": ("axes:\n  run.batch: [1, 2.5]\n", ["run.batch must be a whole number"]),
    "unknown_mixer": ("axes:\n  run.attention: [linear, mamba]\n",
                      ["run.attention must be one of linear, softmax, hgrn, ssm; got 'mamba'"]),
    "continuous_batch": (
        "axes:\n  run.batch: {distribution: uniform, low: 1, high: 8}\n"
        "strategy: random\nbudget: 4\n",
        ["run.batch takes whole numbers; add `integer: true`"]),
    "pick_on_run": ("axes:\n  b:\n    paths: [run.batch]\n    pick: [[0]]\n",
                    ["`pick` selects items of a config list; run.batch is a run option"]),
    "context_twice": ("fixed:\n  workload.context_tokens: 8\naxes:\n  run.context_tokens: [0, 4]\n",
                      ["both run.context_tokens and workload.context_tokens are set"]),
    "fixed_and_swept": ("fixed:\n  run.batch: 2\naxes:\n  run.batch: [1, 4]\n",
                        ["also in `fixed`"]),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_bad_run_paths_and_values_are_refused_with_their_line(case, tmp_path):
    body, expected = INVALID[case]
    spec = write_spec(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_spec(spec)
    text = str(err.value)
    for fragment in expected:
        assert fragment in text, (case, text)
    assert f"{spec}:" in text  # names the file and line


def test_a_typo_exits_2_from_the_command_line(tmp_path, capsys):
    spec = write_spec(tmp_path, "axes:\n  run.bacth: [1, 2]\n")
    assert main(["sweep", spec, "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "run.bacth" in err and "run.batch" in err and "Traceback" not in err


def test_the_command_line_and_sweeps_share_one_check(tmp_path, capsys):
    assert main(["run", TINY_ARCH, TINY_WL, "--batch", "8192", "--quiet",
                 "--out", tmp_path / "o"]) == 2
    cli = capsys.readouterr().err
    spec = write_spec(tmp_path, "fixed:\n  run.batch: 8192\n")
    with pytest.raises(ConfigError) as err:
        load_spec(spec)
    tail = "must be between 1 and 4096 (sequences decoded together); got 8192"
    assert f"--batch {tail}" in cli and f"run.batch {tail}" in str(err.value)


# Keys of points of a study without run paths, computed before the run shape existed: a
# study database written then resumes without recomputing anything.
PINNED = {
    "chip_and_gpu": (
        "axes:\n  workload.weights.bits: [2, 4]\ntokens: 2\n",
        (TINY_ARCH, A800),
        {0: "6fbe8ce4a508ee98", 1: "4f053b0b563ecadb", 2: "e6aff576c872fb37",
         3: "0efb2b691ba3f001"},
    ),
    "with_skipped": (
        "axes:\n  compute.clock_hz: [1 GHz, -5]\ntokens: 2\nseeds: [0, 3]\n",
        (TINY_ARCH,),
        {0: "6fbe8ce4a508ee98", 1: "e484fcf3f79621b8", 2: "69a9c2a8453cdaf3",
         3: "a584c4d76feee772"},
    ),
}


@pytest.mark.parametrize("case", sorted(PINNED))
def test_keys_of_studies_without_run_paths_are_unchanged(case, tmp_path):
    body, archs, keys = PINNED[case]
    plan = plan_study(load_spec(write_spec(tmp_path, body, archs)))
    assert {t.index: t.key for t in [*plan.tasks, *plan.skipped]} == keys


def test_a_plain_shape_written_out_keeps_the_plain_key(tmp_path):
    plain = plan_study(load_spec(write_spec(tmp_path, "tokens: 2\n", (TINY_ARCH, A800))))
    spelled = plan_study(load_spec(write_spec(
        tmp_path, "fixed:\n  run.batch: 1\n  run.prompt_tokens: 0\ntokens: 2\n", (TINY_ARCH, A800)
    )))
    assert [t.key for t in plain.tasks] == [t.key for t in spelled.tasks]
    assert plain.tasks[0].key == PINNED["chip_and_gpu"][2][0]


def test_a_database_from_before_the_run_shape_resumes_and_reads(tmp_path):
    spec = write_spec(tmp_path, "axes:\n  workload.weights.bits: [2, 4]\ntokens: 1\n")
    db = tmp_path / "old.db"
    run_study(load_spec(spec), db, jobs=1)
    with sqlite3.connect(db) as conn:  # as an older neurosim wrote it
        conn.execute("ALTER TABLE points DROP COLUMN batch")
        conn.execute("ALTER TABLE points DROP COLUMN prompt_tokens")
    frame = load_study(db)
    assert list(frame["batch"]) == [1, 1] and list(frame["prompt_tokens"]) == [0, 0]
    again = run_study(load_spec(spec), db, jobs=1)
    assert again.progress.stored_before == 2 and again.progress.pending == 0


def test_a_swept_run_option_is_a_pareto_objective_and_colour(tmp_path, capsys):
    spec = write_spec(tmp_path, "axes:\n  run.batch: [1, 2, 4]\ntokens: 1\n")
    db = tmp_path / "s.db"
    run_study(load_spec(spec), db, jobs=1)
    assert main(["pareto", db, "--x", "run.batch", "--y", "decode_tokens_per_s",
                 "--color", "run.batch", "--out", tmp_path / "front", "--formats", "png"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("run.batch"))
    assert header.split().count("run.batch") == 1  # the swept objective shown once
    front = (tmp_path / "front.csv").read_text().splitlines()
    assert front[0].split(",").count("run.batch") == 1
    assert len(front) == 4  # throughput grows with the batch: every point is on the front
    assert (tmp_path / "front.png").stat().st_size > 0


def test_a_mixer_the_workload_does_not_describe_is_a_skipped_point(tmp_path):
    spec = write_spec(tmp_path, "axes:\n  run.attention: [linear, softmax]\ntokens: 1\n")
    plan = plan_study(load_spec(spec))
    assert [t.params["run.attention"] for t in plan.tasks] == ["linear"]
    (skipped,) = plan.skipped
    assert skipped.params == {"run.attention": "softmax"}
    assert "invalid workload" in skipped.reason and "softmax_attention" in skipped.reason
