"""Argument types that check command-line paths while parsing, before any work starts.

Each type names the role of a path (a file to read, a file or directory to write, a
config given as a file or a preset name); argparse turns its ``ArgumentTypeError`` into
``neurosim CMD: error: argument X: message`` and exit status 2. Every path option of
`neurosim` uses one of these, never a bare ``Path`` (a test holds to it).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _blocking_ancestor(path: Path) -> Path | None:
    """The nearest existing ancestor of `path` when it is not a directory, else None."""
    for parent in path.absolute().parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def input_file(value: str) -> Path:
    """An existing regular file to read."""
    path = Path(value)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a directory; expected a file")
    if not path.exists():
        blocker = _blocking_ancestor(path)
        if blocker is not None:
            raise argparse.ArgumentTypeError(f"{path}: file not found ({blocker} is a file)")
        raise argparse.ArgumentTypeError(f"{path}: file not found")
    return path


def output_file(value: str) -> Path:
    """A file to write: not an existing directory, under a directory (missing ones are made)."""
    path = Path(value)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is an existing directory; expected a file name")
    blocker = _blocking_ancestor(path)
    if blocker is not None:
        raise argparse.ArgumentTypeError(
            f"cannot write {path}: {blocker} is a file, not a directory"
        )
    return path


def output_dir(value: str) -> Path:
    """A directory to write into: not an existing file (missing directories are made)."""
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is an existing file; expected a directory")
    blocker = _blocking_ancestor(path)
    if blocker is not None:
        raise argparse.ArgumentTypeError(
            f"cannot create directory {path}: {blocker} is a file, not a directory"
        )
    return path


def _config(kind: str):
    def parse(value: str) -> Path:
        from neurosim.simulate.systems import resolve_config_path

        try:
            return resolve_config_path(value, kind)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    parse.__name__ = f"{kind}_file"  # argparse names the type in some messages
    return parse


architecture_file = _config("architecture")
workload_file = _config("workload")


def workload_or_network(value: str) -> Path:
    """A spiking network file (`*.nir`, to read), else a workload file or preset name."""
    if value.lower().endswith(".nir"):
        return input_file(value)
    return workload_file(value)


def config_file(value: str) -> Path:
    """An architecture or a workload, as a file or a preset name of either kind."""
    from neurosim.simulate.systems import preset_names, resolve_config_path

    try:
        return resolve_config_path(value, "architecture")
    except ValueError as err:
        try:
            return resolve_config_path(value, "workload")
        except ValueError:
            message = str(err)
    if "known presets" in message:
        message += "; workload presets: " + ", ".join(preset_names("workload"))
    raise argparse.ArgumentTypeError(message)


PATH_TYPES = (
    input_file,
    output_file,
    output_dir,
    architecture_file,
    workload_file,
    workload_or_network,
    config_file,
)
