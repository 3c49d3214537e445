"""The simulation context: one SimPy environment, one ledger, one seeded generator.

Time is SimPy time in integer picoseconds; conversion happens only at the boundary,
through `seconds_to_ps` and `ps_to_seconds` here (results are in seconds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from neurosim.ledger import Ledger

PS_PER_S = 1_000_000_000_000  # SimPy time is integer picoseconds


def seconds_to_ps(seconds: float) -> int:
    """Seconds as integer picoseconds, rounded to the nearest."""
    return int(round(seconds * PS_PER_S))


def ps_to_seconds(ps: float) -> float:
    """Picoseconds as seconds."""
    return ps / PS_PER_S


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it processes."""

    def __init__(self) -> None:
        super().__init__()
        self.events_processed = 0

    def step(self) -> None:
        """Process the next event and count it."""
        super().step()
        self.events_processed += 1


@dataclass
class SimContext:
    """Everything a component needs from the outside world; no globals."""

    env: CountingEnvironment
    ledger: Ledger
    rng: np.random.Generator
    contention: bool = True

    @classmethod
    def create(cls, seed: int, contention: bool = True) -> SimContext:
        """A fresh context with its own environment, ledger and generator."""
        return cls(
            env=CountingEnvironment(),
            ledger=Ledger(),
            rng=np.random.default_rng(seed),
            contention=contention,
        )


class ReservationTable:
    """FIFO occupancy of a set of servers (links, channels) by time reservations.

    A request at time `now` for `duration` on server i starts when the server is free
    (or at once when contention is off) and keeps it busy for `duration`. This is the
    same schedule a FIFO `simpy.Resource` gives for holds requested in time order, at
    one array operation per request instead of several events per server.
    """

    def __init__(self, size: int, contention: bool) -> None:
        self.busy_until = np.zeros(size, dtype=np.int64)
        self.busy_time = np.zeros(size, dtype=np.int64)
        self.contention = contention
        self.recorder = None  # a timeline recorder told of every hold (None: off, no cost)

    def reserve(self, now: int, servers: np.ndarray, durations: np.ndarray) -> int:
        """Reserve `servers` for `durations` (ps) from `now`; return the latest finish time."""
        if servers.size == 0:
            return now
        if servers.size == 1:  # the common single-server case, without array overhead
            i, duration = int(servers[0]), int(durations[0])
            start = max(int(self.busy_until[i]), now) if self.contention else now
            if self.contention:
                self.busy_until[i] = start + duration
            self.busy_time[i] += duration
            if self.recorder is not None:
                self.recorder.held(self, i, start, duration)
            return start + duration
        if self.contention:
            start = np.maximum(self.busy_until[servers], now)
        else:
            start = np.full(servers.size, now, dtype=np.int64)
        finish = start + durations
        if self.contention:
            self.busy_until[servers] = finish
        np.add.at(self.busy_time, servers, durations)
        if self.recorder is not None:
            self.recorder.held_many(self, servers, start, durations)
        return int(finish.max())
