"""Functional simulation of an imported spiking network: the spike raster per timestep.

Each timestep, populations are evaluated in the network's order. A population's input
current is its bias plus, for every projection into it, the weighted sum of the source's
outputs (this timestep's, or the previous timestep's for a recurrent projection). The
neuron equations of NIR are integrated with forward Euler over the timestep `dt`:

- LIF:      v += dt/tau (v_leak - v + r I);  spike if v > v_threshold, then v = v_reset
- CubaLIF:  i += dt/tau_syn (w_in I - i);  v += dt/tau_mem (v_leak - v + r i);  spike, reset
- IF:       v += dt r I;  spike if v > v_threshold, then v = v_reset
- LI:       v += dt/tau (v_leak - v + r I);  outputs v
- I:        v += dt r I;  outputs v
- Threshold: outputs 1 where I > threshold
- Output:   records I

Every state variable starts at 0.
With snnTorch's export (r = tau/dt) the LIF update is snnTorch's v = beta v + I with
beta = 1 - dt/tau. Everything is float64 and evaluated in a fixed order, so a run is
deterministic; only the Poisson input (`poisson_input`) draws random numbers, from `seed`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from neurosim.errors import UsageError
from neurosim.workload.nir_import import Population, SnnNetwork

__all__ = ["Raster", "poisson_input", "simulate"]


@dataclass
class Raster:
    """What the network did: for each population, the active neurons of every timestep
    (spikes, or nonzero values of value-passing populations) as CSR over timesteps."""

    timesteps: int
    dt: float
    indptr: list[np.ndarray]  # per population: int64, timesteps + 1
    active: list[np.ndarray]  # per population: int32 neuron indices, timestep by timestep
    outputs: dict[str, np.ndarray]  # Output population name -> (timesteps, size) values
    synaptic_events: np.ndarray  # per projection: synapses reached by nonzero inputs

    def counts(self, population: int) -> np.ndarray:
        """Active neurons of one population per timestep."""
        return np.diff(self.indptr[population])

    def active_at(self, population: int, t: int) -> np.ndarray:
        """Active neurons of one population at timestep t."""
        ptr = self.indptr[population]
        return self.active[population][ptr[t] : ptr[t + 1]]


@numba.njit(cache=True)
def _accumulate(indptr, post, weight, active, values, current):  # pragma: no cover - jit
    """current[post] += weight * value for every synapse of every active presynaptic
    neuron; returns the synapses visited."""
    events = 0
    for a in range(active.size):
        j = active[a]
        x = values[a]
        for k in range(indptr[j], indptr[j + 1]):
            current[post[k]] += weight[k] * x
        events += indptr[j + 1] - indptr[j]
    return events


class _State:
    """Per-population state variables and this step's output."""

    def __init__(self, pop: Population) -> None:
        n = pop.size
        self.pop = pop
        self.v = np.zeros(n)
        self.i = np.zeros(n)
        self.out = np.zeros(n)

    def step(self, current: np.ndarray, dt: float) -> None:
        p, kind = self.pop.params, self.pop.kind
        if kind == "lif":
            self.v += dt / p["tau"] * (p["v_leak"] - self.v + p["r"] * current)
            self._fire(p)
        elif kind == "cubalif":
            self.i += dt / p["tau_syn"] * (p["w_in"] * current - self.i)
            self.v += dt / p["tau_mem"] * (p["v_leak"] - self.v + p["r"] * self.i)
            self._fire(p)
        elif kind == "if":
            self.v += dt * p["r"] * current
            self._fire(p)
        elif kind == "li":
            self.v += dt / p["tau"] * (p["v_leak"] - self.v + p["r"] * current)
            self.out = self.v.copy()
        elif kind == "integrator":
            self.v += dt * p["r"] * current
            self.out = self.v.copy()
        elif kind == "threshold":
            self.out = (current > p["threshold"]).astype(np.float64)
        else:  # output
            self.out = current.copy()

    def _fire(self, p: dict[str, np.ndarray]) -> None:
        spikes = self.v > p["v_threshold"]
        self.v[spikes] = p["v_reset"][spikes]
        self.out = spikes.astype(np.float64)


def poisson_input(net: SnnNetwork, rate_hz: float, timesteps: int, dt: float, seed: int):
    """Bernoulli spikes at `rate_hz` (probability rate x dt per timestep) for every input."""
    p = rate_hz * dt
    if not 0 <= p <= 1:
        raise UsageError(
            f"--input-rate {rate_hz:g} Hz with dt {dt:g} s gives a spike probability of "
            f"{p:g} per timestep; it must be between 0 and 1"
        )
    rng = np.random.default_rng(seed)
    return {pop.name: rng.random((timesteps, pop.size), dtype=np.float32) < p for pop in net.inputs}


def _check_inputs(net: SnnNetwork, inputs: dict[str, np.ndarray], timesteps: int) -> dict:
    out = {}
    for pop in net.inputs:
        if pop.name not in inputs:
            raise UsageError(
                f"no input for the network's Input node '{pop.name}' (given: "
                f"{', '.join(inputs) or 'none'})"
            )
        x = np.asarray(inputs[pop.name])
        if x.ndim < 1 or x.shape[0] < timesteps:
            raise UsageError(
                f"input '{pop.name}' has {x.shape[0] if x.ndim else 0} timesteps; the run "
                f"needs {timesteps} (first axis is time)"
            )
        x = x[:timesteps].reshape(timesteps, -1)
        if x.shape[1] != pop.size:
            raise UsageError(
                f"input '{pop.name}' has {x.shape[1]} values per timestep; the Input node "
                f"has shape {pop.shape} ({pop.size} values)"
            )
        out[pop.name] = x.astype(np.float64)
    return out


def simulate(net: SnnNetwork, inputs: dict[str, np.ndarray], timesteps: int, dt: float) -> Raster:
    """Run the network for `timesteps` steps of `dt` seconds on `inputs` (name ->
    array of shape (timesteps, *input shape)) and return its raster."""
    if timesteps < 1:
        raise UsageError(f"--timesteps must be at least 1; got {timesteps}")
    if not dt > 0:
        raise UsageError(f"--dt must be positive; got {dt}")
    given = _check_inputs(net, inputs, timesteps)
    pops = net.populations
    states = [None if p.kind == "input" else _State(p) for p in pops]
    incoming = [[] for _ in pops]
    for k, pr in enumerate(net.projections):
        incoming[pr.target].append(k)
    outs = [np.zeros(p.size) for p in pops]
    prev = [np.zeros(p.size) for p in pops]
    prev_active = [np.zeros(0, np.int32) for _ in pops]
    active_now = [np.zeros(0, np.int32) for _ in pops]
    steps_active: list[list[np.ndarray]] = [[] for _ in pops]
    events = np.zeros(len(net.projections), dtype=np.int64)
    recorded = {p.name: np.zeros((timesteps, p.size)) for p in pops if p.kind == "output"}
    for t in range(timesteps):
        for i, pop in enumerate(pops):
            if pop.kind == "input":
                outs[i] = given[pop.name][t]
            else:
                current = np.zeros(pop.size) if pop.bias is None else pop.bias.copy()
                for k in incoming[i]:
                    pr = net.projections[k]
                    src, idx = (prev, prev_active) if pr.delayed else (outs, active_now)
                    act = idx[pr.source]
                    events[k] += _accumulate(
                        pr.indptr, pr.post, pr.weight, act, src[pr.source][act], current
                    )
                states[i].step(current, dt)
                outs[i] = states[i].out
                if pop.kind == "output":
                    recorded[pop.name][t] = outs[i]
            active_now[i] = np.flatnonzero(outs[i]).astype(np.int32)
            steps_active[i].append(active_now[i])
        prev, prev_active = list(outs), list(active_now)
    indptr = [
        np.concatenate([[0], np.cumsum([a.size for a in s])]).astype(np.int64) for s in steps_active
    ]
    active = [np.concatenate(s).astype(np.int32) for s in steps_active]
    return Raster(timesteps, dt, indptr, active, recorded, events)
