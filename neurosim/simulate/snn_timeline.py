"""The timeline of an imported spiking network: its per-timestep schedule as spans.

The spiking-network cost (`simulate.snn`) is bulk-synchronous, so its schedule follows
from what it computed: each timestep, every core starts at the timestep's start and is
busy for its own work (synaptic events, then neuron updates: `snn.core_activity_s`); the
spike phase starts when the slowest core is done, every link serialising its messages
from then; the barrier closes the timestep. An analog chip emulates the timestep on all
its cores while spikes are routed. The recorder gets one step per timestep (noun
"timestep"): a track per used core and per busy link, and the phases on the schedule.
"""

from __future__ import annotations

import numpy as np

from neurosim.engine import PS_PER_S
from neurosim.resources import Resource
from neurosim.simulate.snn import SnnRun
from neurosim.simulate.timeline import TimelineRecorder

SCHEDULE_TRACKS = ("timesteps", "phases", "spike routing")
TIMESTEPS, PHASES, ROUTING = range(3)  # routing: an analog chip's, alongside its emulation
ANALOG = "analog emulation"


class SnnNames:
    """Names of a spiking-network run's tracks and spans (see `timeline._Names`)."""

    def __init__(self, run: SnnRun) -> None:
        self.links = run.links
        self.chip_links = run.chip_links

    def kind(self, kind: str, index: int) -> str:
        """Links split into on-chip links and chip links."""
        if kind == "link" and self.chip_links[index]:
            return "chip_link"
        return kind

    def track(self, kind: str, index: int) -> str:
        """`core 3` (as the run's bottleneck names it), `link 0->1`, the schedule's tracks."""
        if kind == "schedule":
            return SCHEDULE_TRACKS[index]
        if kind == "core":
            return f"core {index}"
        a, b = self.links[index]
        return Resource.link(a, b, chip=bool(self.chip_links[index])).display

    def describe_all(self, labels: list[tuple]) -> list[tuple[str, str]]:
        """`describe` of each label."""
        return [self.describe(label) for label in labels]

    def describe(self, label: tuple) -> tuple[str, str]:
        """(activity, span name): `synaptic events t3`, `spikes t3`, `barrier t3`."""
        activity, _, _, t0, _ = label
        if activity == "timestep":  # the step itself: named after its number when written
            return activity, activity
        return activity, f"{activity} t{t0}"


def _ps(seconds) -> np.ndarray:
    """Seconds as integer picoseconds."""
    return np.rint(np.asarray(seconds) * PS_PER_S).astype(np.int64)


def record_timesteps(run: SnnRun, recorder: TimelineRecorder) -> None:
    """Feed `recorder` the first timesteps of `run` (as many as its caps allow)."""
    recorder.use_names(SnnNames(run))
    analog = ANALOG in run.core_activity_s
    bounds = _ps(np.concatenate(([0.0], np.cumsum(run.latency_s))))
    compute_ps = _ps(run.phases_s["compute"])
    spikes_ps = _ps(run.phases_s["spikes"])
    sync_ps = _ps(run.phases_s["sync"])
    activity_s = run.core_activity_s
    link_ps = _ps(run.link_busy_s)
    cores = next(iter(activity_s.values())).shape[1] if activity_s else 0
    for t in range(run.timesteps):
        t0 = int(bounds[t])
        recorder.begin_step(t0, noun="timestep")
        if not recorder.recording:
            break
        compute_end = t0 + int(compute_ps[t])
        # each core's work, one activity after another; boundaries rounded from the running
        # sum, which adds up as the cost does, so the slowest core ends the phase exactly
        done_s = np.zeros(cores)
        for name, busy in activity_s.items():
            upto_s = done_s + busy[t]
            used = np.flatnonzero(busy[t])
            if used.size:
                start = t0 + _ps(done_s[used])
                end = np.minimum(t0 + _ps(upto_s[used]), compute_end)
                recorder.span_many("core", used, start, end - start, (name, -1, -1, t, t + 1))
            done_s = upto_s
        spikes_start = t0 if analog else compute_end
        if link_ps.size:
            loaded = np.flatnonzero(link_ps[t])
            if loaded.size:
                recorder.span_many(
                    "link", loaded, np.full(loaded.size, spikes_start, dtype=np.int64),
                    link_ps[t, loaded], ("spikes", -1, -1, t, t + 1),
                )
        spikes_end = spikes_start + int(spikes_ps[t])
        phases = [(PHASES, ANALOG if analog else "compute phase", t0, compute_end),
                  (ROUTING if analog else PHASES, "spikes", spikes_start, spikes_end)]
        if not analog:
            phases.append((PHASES, "barrier", spikes_end, spikes_end + int(sync_ps[t])))
        for track, name, start, end in phases:  # (rounding to ps may overrun by 1 ps)
            end = min(end, int(bounds[t + 1]))
            recorder.span("schedule", track, start, end, (name, -1, -1, t, t + 1))
        if not recorder.end_step(int(bounds[t + 1])):
            break
