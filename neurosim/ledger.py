"""One ledger of named event counts, keyed by (component, event kind)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping


class Ledger:
    """Counts events; pricing happens elsewhere (`neurosim.results.pricing`)."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()

    def add(self, component: str, event: str, count: int) -> None:
        """Record `count` events of kind `event` on `component`."""
        if count:
            self._counts[(component, event)] += int(count)

    def add_all(self, counts: Mapping[tuple[str, str], int]) -> None:
        """Record many counts at once."""
        for (component, event), n in counts.items():
            self.add(component, event, n)

    def items(self) -> Iterable[tuple[tuple[str, str], int]]:
        """(component, event) -> count pairs, sorted."""
        return sorted(self._counts.items())

    def as_dict(self) -> dict[str, int]:
        """Counts keyed 'component/event', for JSON."""
        return {f"{c}/{e}": n for (c, e), n in self.items()}

    def get(self, component: str, event: str) -> int:
        """One count (0 if never recorded)."""
        return self._counts.get((component, event), 0)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ledger) and +self._counts == +other._counts
