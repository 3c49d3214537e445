"""The commands of docs/snn.md run as written (in a scratch directory)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "snn.md"


def _commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", PAGE.read_text(), re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_every_command_of_the_page_runs(tmp_path):
    (tmp_path / "workloads").symlink_to(REPO / "workloads")
    (tmp_path / "results").mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    commands = _commands()
    assert len(commands) >= 7
    for line in commands:
        argv = shlex.split(line)
        if argv[0] == ".venv/bin/neurosim":
            argv = [sys.executable, "-m", "neurosim", *argv[1:]]
        elif argv[0] == ".venv/bin/python":
            argv = [sys.executable, *argv[1:]]
        else:
            raise AssertionError(f"docs/snn.md: unexpected command {line!r}")
        done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{line}\n{done.stderr[-2000:]}"
    assert len(list((tmp_path / "results").glob("snn-*/result.json"))) == 6
