"""The run shape: what shapes a run the same way on every architecture (the token mixer,
the cached context, the prompt and the batch of sequences), with the values each accepts.

`neurosim run`/`compare` take them as options (`--batch`), a sweep spec as `run.` paths
(`run.batch`); both check values here, so they accept the same values and refuse the rest
with the same words.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, get_args

from neurosim.config.bounds import Range, range_for
from neurosim.config.workload import MixerKind

__all__ = ["MIXERS", "RUN_OPTIONS", "RunOption", "check_run_value", "unknown_run_option"]

MIXERS: tuple[str, ...] = get_args(MixerKind)
"""Token mixers a run may put in every block (`--attention`, `run.attention`)."""


@dataclass(frozen=True)
class RunOption:
    """One run-shape option: its `run_system` keyword (also `run.<name>` in a sweep spec),
    its command-line flag, the value of a plain decode, and what it accepts."""

    name: str
    flag: str
    default: Any
    choices: tuple[str, ...] = ()

    @property
    def range(self) -> Range | None:
        """The accepted interval of an integer option (from `config.bounds`)."""
        return None if self.choices else range_for("", self.name)

    def check(self, value: Any, shown: str) -> None:
        """Raise ValueError, naming the option as `shown`, when `value` is not accepted."""
        if self.choices:
            if value not in self.choices:
                raise ValueError(
                    f"{shown} must be one of {', '.join(self.choices)}; got {value!r}"
                )
            return
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{shown} must be a whole number; got {value!r}")
        try:
            self.range.check(value)
        except ValueError as err:
            raise ValueError(f"{shown} {err}") from None


RUN_OPTIONS: dict[str, RunOption] = {
    option.name: option
    for option in (
        RunOption("attention", "--attention", None, MIXERS),
        RunOption("context_tokens", "--context-tokens", None),
        RunOption("prompt_tokens", "--prompt-tokens", 0),
        RunOption("batch", "--batch", 1),
    )
}
"""Every run-shape option by name; `default` is a plain decode of the workload as
configured (None: the workload's own mixer and context)."""


def check_run_value(name: str, value: Any, shown: str) -> None:
    """Check one value of run option `name`, named `shown` in the message; None passes
    where it is the default (the workload's own mixer or context)."""
    option = RUN_OPTIONS[name]
    if value is None and option.default is None:
        return
    option.check(value, shown)


def unknown_run_option(name: str, prefix: str = "run.") -> str:
    """The message for a run option that does not exist, with the valid names."""
    close = difflib.get_close_matches(name, list(RUN_OPTIONS), n=1)
    hint = f"did you mean {prefix}{close[0]}? " if close else ""
    return (
        f"unknown run option '{prefix}{name}'; {hint}run options: "
        + ", ".join(f"{prefix}{n}" for n in RUN_OPTIONS)
    )
