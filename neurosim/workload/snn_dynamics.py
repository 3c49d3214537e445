"""Functional simulation of an imported spiking network: the spike raster per timestep.

Each timestep, populations are evaluated in the network's order. A population's input
current is its bias plus, for every projection into it, the weighted sum of the source's
outputs (this timestep's, or the previous timestep's for a recurrent projection, and
for every projection when `next_timestep` is set: Loihi's cores integrate a spike in the
timestep after it was sent). The neuron equations of NIR are integrated with forward
Euler over the timestep `dt`:

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


@numba.njit(cache=True)
def _leaky_fire(v, current, a, v_leak, r, v_th, v_reset, fired):  # pragma: no cover - jit
    """LIF: v += a (v_leak - v + r I), spike and reset; returns the spikes in `fired`."""
    m = 0
    for n in range(v.size):
        v[n] += a[n] * (v_leak[n] - v[n] + r[n] * current[n])
        if v[n] > v_th[n]:
            v[n] = v_reset[n]
            fired[m] = n
            m += 1
    return m


@numba.njit(cache=True)
def _cuba_fire(
    v, i_syn, current, a_syn, w_in, a, v_leak, r, v_th, v_reset, fired
):  # pragma: no cover
    """CubaLIF: the synaptic current first, then the membrane, spike and reset."""
    m = 0
    for n in range(v.size):
        i_syn[n] += a_syn[n] * (w_in[n] * current[n] - i_syn[n])
        v[n] += a[n] * (v_leak[n] - v[n] + r[n] * i_syn[n])
        if v[n] > v_th[n]:
            v[n] = v_reset[n]
            fired[m] = n
            m += 1
    return m


@numba.njit(cache=True)
def _integrate_fire(v, current, dt_r, v_th, v_reset, fired):  # pragma: no cover - jit
    """IF: v += dt r I, spike and reset."""
    m = 0
    for n in range(v.size):
        v[n] += dt_r[n] * current[n]
        if v[n] > v_th[n]:
            v[n] = v_reset[n]
            fired[m] = n
            m += 1
    return m


class _State:
    """A population's state variables, its coefficients for `dt`, and its step."""

    def __init__(self, pop: Population, dt: float) -> None:
        n = pop.size
        p = pop.params
        self.pop = pop
        self.v = np.zeros(n)
        self.i = np.zeros(n)
        self.fired = np.zeros(n, dtype=np.int32)
        self.ones = np.ones(n)
        self.a = dt / p["tau"] if "tau" in p else None
        if pop.kind == "cubalif":
            self.a_syn, self.a = dt / p["tau_syn"], dt / p["tau_mem"]
        self.dt_r = dt * p["r"] if "r" in p else None

    def step(self, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Advance one timestep on input `current`: (active neurons, their outputs)."""
        p, kind = self.pop.params, self.pop.kind
        if kind == "lif":
            m = _leaky_fire(
                self.v, current, self.a, p["v_leak"], p["r"], p["v_threshold"], p["v_reset"],
                self.fired,
            )  # fmt: skip
        elif kind == "cubalif":
            m = _cuba_fire(
                self.v, self.i, current, self.a_syn, p["w_in"], self.a, p["v_leak"], p["r"],
                p["v_threshold"], p["v_reset"], self.fired,
            )  # fmt: skip
        elif kind == "if":
            m = _integrate_fire(self.v, current, self.dt_r, p["v_threshold"], p["v_reset"],
                                self.fired)  # fmt: skip
        elif kind == "threshold":
            active = np.flatnonzero(current > p["threshold"]).astype(np.int32)
            return active, self.ones[: active.size]
        else:
            if kind == "li":
                self.v += self.a * (p["v_leak"] - self.v + p["r"] * current)
                values = self.v
            elif kind == "integrator":
                self.v += self.dt_r * current
                values = self.v
            else:  # output
                values = current
            active = np.flatnonzero(values).astype(np.int32)
            return active, values[active]
        return self.fired[:m].copy(), self.ones[:m]


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


def simulate(
    net: SnnNetwork,
    inputs: dict[str, np.ndarray],
    timesteps: int,
    dt: float,
    next_timestep: bool = False,
) -> Raster:
    """Run the network for `timesteps` steps of `dt` seconds on `inputs` (name ->
    array of shape (timesteps, *input shape)) and return its raster; with
    `next_timestep`, every spike reaches its targets one timestep after it is fired."""
    if timesteps < 1:
        raise UsageError(f"--timesteps must be at least 1; got {timesteps}")
    if not dt > 0:
        raise UsageError(f"--dt must be positive; got {dt}")
    given = _check_inputs(net, inputs, timesteps)
    pops = net.populations
    states = [None if p.kind == "input" else _State(p, dt) for p in pops]
    incoming = [[] for _ in pops]
    for k, pr in enumerate(net.projections):
        incoming[pr.target].append(k)
    empty = (np.zeros(0, np.int32), np.zeros(0))
    now = [empty for _ in pops]  # (active neurons, their outputs) of this timestep
    prev = list(now)
    currents = [np.zeros(p.size) for p in pops]
    steps_active: list[list[np.ndarray]] = [[] for _ in pops]
    events = np.zeros(len(net.projections), dtype=np.int64)
    recorded = {p.name: np.zeros((timesteps, p.size)) for p in pops if p.kind == "output"}
    for t in range(timesteps):
        for i, pop in enumerate(pops):
            if pop.kind == "input":
                row = given[pop.name][t]
                active = np.flatnonzero(row).astype(np.int32)
                now[i] = (active, row[active])
            else:
                current = currents[i]
                if pop.bias is None:
                    current.fill(0.0)
                else:
                    current[:] = pop.bias
                for k in incoming[i]:
                    pr = net.projections[k]
                    act, values = (prev if pr.delayed or next_timestep else now)[pr.source]
                    events[k] += _accumulate(pr.indptr, pr.post, pr.weight, act, values, current)
                if pop.kind == "output":
                    recorded[pop.name][t] = current
                now[i] = states[i].step(current)
            steps_active[i].append(now[i][0])
        prev = list(now)
    indptr = [
        np.concatenate([[0], np.cumsum([a.size for a in s])]).astype(np.int64) for s in steps_active
    ]
    active = [np.concatenate(s).astype(np.int32) for s in steps_active]
    return Raster(timesteps, dt, indptr, active, recorded, events)
