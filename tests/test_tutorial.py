"""docs/niai.md, the students' tutorial, cannot go stale: every command of its code blocks
runs here as a user would type it (from a fresh directory, so outputs stay out of the
checkout)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
TUTORIAL = REPO / "docs" / "niai.md"
BLOCK = re.compile(r"```bash\n(.*?)```", re.S)


def _commands() -> list[str]:
    return [line for block in BLOCK.findall(TUTORIAL.read_text())
            for line in block.splitlines() if line.strip()]


def _argv(command: str) -> list[str]:
    """The command with the README's install prefix swapped for this interpreter."""
    words = shlex.split(command)
    if words[0] == ".venv/bin/neurosim":
        return [sys.executable, "-m", "neurosim.cli.app", *words[1:]]
    assert words[0] == ".venv/bin/python", f"tutorial command of unknown kind: {command}"
    script = words[1]
    assert script.startswith("scripts/"), command
    return [sys.executable, str(REPO / script), *words[2:]]


def test_the_tutorial_has_commands_for_each_of_its_questions():
    names = " ".join(_commands())
    for command in ("niai", "capacity", "compare", "learning", "learning_table.py"):
        assert command in names


@pytest.mark.parametrize("command", _commands())
def test_every_tutorial_command_runs(command, tmp_path):
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"}
    proc = subprocess.run(_argv(command), cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, f"{command}\n{proc.stderr[-2000:]}"
    assert proc.stdout.strip()
