"""Exception types of neurosim, each with the process exit code the CLI should use.

Exceptions never print anything; ``str(error)`` is the complete user-facing message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "NeurosimError",
    "PricingError",
    "SimulationError",
    "TraceError",
    "UsageError",
]


class NeurosimError(Exception):
    """Base of every error neurosim reports to a user; ``exit_code`` is the process status."""

    exit_code: int = 1

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a config file: dotted key path, message, 1-based line if known.

    ``file`` is set when the offending value was written in another file than the one
    being loaded (a preset named by ``extends``); ``None`` means the loaded file itself.
    """

    key_path: str
    message: str
    line: int | None = None
    file: str | Path | None = None

    def render(self, default_file: str | Path) -> str:
        """Format as ``file:line: key: message`` (line and key omitted when unknown)."""
        where = str(self.file if self.file is not None else default_file)
        if self.line is not None:
            where = f"{where}:{self.line}"
        if self.key_path:
            return f"{where}: {self.key_path}: {self.message}"
        return f"{where}: {self.message}"


class ConfigError(NeurosimError):
    """A config file that cannot be read or does not validate; lists every problem found."""

    exit_code = 2

    def __init__(self, path: str | Path, issues: Sequence[ConfigIssue]) -> None:
        self.path = path
        self.issues: tuple[ConfigIssue, ...] = tuple(issues)
        super().__init__(self._render())

    @classmethod
    def single(
        cls,
        path: str | Path,
        key_path: str,
        message: str,
        line: int | None = None,
        file: str | Path | None = None,
    ) -> ConfigError:
        """Build an error with one issue."""
        return cls(path, [ConfigIssue(key_path, message, line, file)])

    def _render(self) -> str:
        count = len(self.issues)
        noun = "problem" if count == 1 else "problems"
        lines = [f"invalid config {self.path} ({count} {noun}):"]
        lines.extend("  " + issue.render(self.path) for issue in self.issues)
        return "\n".join(lines)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.issues))


class UsageError(NeurosimError):
    """A command-line option with an impossible value."""

    exit_code = 2


class CapabilityError(UsageError):
    """A workload needs something its architecture cannot do (softmax attention on a chip
    with no unit for it, a KV cache that fits nowhere); the message names both files."""


class TraceError(NeurosimError):
    """A workload trace that cannot be read or is inconsistent."""

    exit_code = 3


class SimulationError(NeurosimError):
    """The simulation reached an impossible state (deadlock, overflow, broken invariant)."""

    exit_code = 4


class PricingError(NeurosimError):
    """An event kind has no energy price for the component that emitted it."""

    exit_code = 4

    def __init__(self, event_kind: str, component: str, section: str) -> None:
        self.event_kind = event_kind
        self.component = component
        self.section = section
        super().__init__(
            f"no price for event kind '{event_kind}' emitted by component '{component}'; "
            f"add '{event_kind}' to the '{section}' section of the price table"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.event_kind, self.component, self.section))
