"""Command line: one module per command family; parsing, printing and exit codes only."""

from neurosim.cli.app import main

__all__ = ["main"]
