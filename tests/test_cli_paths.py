"""Every command checks its paths before any work: wrong kinds of path exit 2, cleanly.

The commands are enumerated from the parser, so a new command or path option is
covered without editing this file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from neurosim.cli import paths as cli_paths
from neurosim.cli.app import _parser, main
from neurosim.cli.sweep import SWEEP_COMMANDS

ROOT = Path(__file__).resolve().parent.parent
ARCH = ROOT / "architectures" / "vck190_nsllm.yaml"
WORKLOAD = ROOT / "workloads" / "nsllm-1.5b.yaml"

# cli_sweep.py has its own owner and path handling; every other command is held here
NOT_COVERED = set(SWEEP_COMMANDS)
# required arguments that are not paths, by dest (a new one must be added here)
PLAIN_VALUES = {"parameters": "1e9", "corpus": "bible"}


def _leaf_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """(command words, parser) of every command that takes arguments, depth first."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield prefix, parser
        return
    for name, child in subs[0].choices.items():
        if not prefix and name in NOT_COVERED:
            continue
        yield from _leaf_commands(child, (*prefix, name))


def _good_value(action: argparse.Action, tmp: Path) -> str:
    role = action.type
    if role in (cli_paths.architecture_file, cli_paths.config_file):
        return str(ARCH)
    if role in (cli_paths.workload_file, cli_paths.workload_or_network):
        return str(WORKLOAD)
    if role is cli_paths.input_file:
        return str(tmp / "input.txt")
    if role is cli_paths.output_file:
        return str(tmp / "new" / f"{action.dest}.out")
    if role is cli_paths.output_dir:
        return str(tmp / "new" / f"{action.dest}_dir")
    if action.choices:
        return str(next(iter(action.choices)))
    assert action.dest in PLAIN_VALUES, f"no test value for required argument {action.dest}"
    return PLAIN_VALUES[action.dest]


def _wrong_values(action: argparse.Action, tmp: Path) -> list[str]:
    afile, adir = tmp / "input.txt", tmp / "adir"
    under_a_file = str(afile / "x.yaml")
    if action.type is cli_paths.output_file:
        return [str(adir), under_a_file]
    if action.type is cli_paths.output_dir:
        return [str(afile), under_a_file]
    return [str(adir), str(tmp / "missing.yaml"), under_a_file]  # inputs and configs


def _argv(words, parser, tmp: Path, replace=None) -> list[str]:
    """A valid command line, with one action's value replaced when `replace` is given."""
    argv = list(words)
    required_groups = [g for g in parser._mutually_exclusive_groups if g.required]
    chosen = {id(g._group_actions[0]) for g in required_groups}
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        replaced = replace is not None and action is replace[0]
        needed = not action.option_strings or action.required or id(action) in chosen or replaced
        if not needed:
            continue
        value = replace[1] if replaced else _good_value(action, tmp)
        argv += ([action.option_strings[0]] if action.option_strings else []) + [value]
    return argv


def _path_actions(parser):
    return [a for a in parser._actions if a.type in cli_paths.PATH_TYPES]


def test_every_command_refuses_wrong_paths_before_any_work(tmp_path, capsys) -> None:
    (tmp_path / "input.txt").write_text("some text\n")
    (tmp_path / "adir").mkdir()
    leaves = list(_leaf_commands(_parser()))
    assert {w[0] for w, _ in leaves} >= {"run", "validate", "compare", "capacity", "reprice"}
    checked = 0
    for words, parser in leaves:
        for action in parser._actions:
            assert action.type is not Path, (
                f"{' '.join(words)} {action.dest}: use a role from neurosim.cli.paths, not Path"
            )
        _parser().parse_args(_argv(words, parser, tmp_path))  # the baseline is valid
        for action in _path_actions(parser):
            for wrong in _wrong_values(action, tmp_path):
                argv = _argv(words, parser, tmp_path, replace=(action, wrong))
                code = main(argv)
                out, err = capsys.readouterr()
                where = f"{argv}: {err}"
                assert code == 2, where
                assert err.startswith("error: ") and "Traceback" not in out + err, where
                assert wrong in err, where
                assert not (tmp_path / "new").exists(), f"{where}: work started"
                checked += 1
    assert checked >= 30  # run, compare, capacity, reprice, validate, trace extract/stats


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["run", "vck19_nsllm", "nsllm-1.5b"], "did you mean 'vck190_nsllm'?"),
        (["run", "nsllm-1.5b", "vck190_nsllm"], "did you swap the arguments?"),
        (["run", "vck190_nsllm", "loihi"], "did you swap the arguments?"),
        (["validate", "no_such_preset"], "workload presets: llama-2-7b, llama-3.1-8b, nsllm-1.5b"),
        (["compare", "vck190_nsllm", "--workload", "a800"], "not a workload"),
    ],
)
def test_preset_names_and_their_mistakes(argv, text, capsys) -> None:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and text in err and "Traceback" not in err, err
    if "known presets" in err:
        assert "vck190_nsllm" in err and "reram_cim" in err


def test_preset_names_resolve_to_the_shipped_files(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)  # found relative to the package, not the working directory
    assert main(["validate", "vck190_nsllm"]) == 0
    assert "valid architecture 'vck190_nsllm'" in capsys.readouterr().out
    assert main(["validate", "nsllm-1.5b.yaml"]) == 0
    assert "valid workload 'nsllm-1.5b'" in capsys.readouterr().out
    args = _parser().parse_args(["run", "vck190_nsllm", "nsllm-1.5b"])
    assert args.architecture == ARCH and args.workload == WORKLOAD
