"""A network built in snnTorch, exported to NIR, runs here spike for spike like snnTorch."""

from __future__ import annotations

import nir
import numpy as np
import snntorch as snn
import torch
from snntorch import utils as snn_utils
from snntorch.export_nir import export_to_nir

from neurosim.workload.nir_import import load_nir
from neurosim.workload.snn_dynamics import simulate

SNNTORCH_DT = 1e-4  # snnTorch's export writes tau = dt / (1 - beta) with this dt


def _leaky(n: int, beta: float) -> snn.Leaky:
    # per-neuron parameters (scalar ones do not pass the exporter's type inference);
    # reset to zero without delay is NIR's LIF reset (v = v_reset right after the spike)
    return snn.Leaky(
        beta=torch.full((n,), beta),
        threshold=torch.ones(n),
        init_hidden=True,
        reset_mechanism="zero",
        reset_delay=False,
    )


def test_snntorch_export_runs_spike_for_spike(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(12, 40),
        _leaky(40, 0.85),
        torch.nn.Linear(40, 5),
        _leaky(5, 0.7),
    )
    with torch.no_grad():
        model[2].weight *= 3.0  # a livelier output layer
    path = tmp_path / "snntorch.nir"
    nir.write(str(path), export_to_nir(model, torch.zeros(1, 12), ignore_dims=[0]))
    net = load_nir(path)
    steps = 300
    x = (np.random.default_rng(3).random((steps, 12)) < 0.3).astype(np.float32) * 2.0
    raster = simulate(net, {net.inputs[0].name: x}, steps, SNNTORCH_DT)
    snn_utils.reset(model)
    with torch.no_grad():
        theirs = np.stack([model(torch.tensor(x[t : t + 1])).numpy()[0] for t in range(steps)])
    ours = next(iter(raster.outputs.values()))
    assert theirs.sum() > 20  # the output layer fires
    np.testing.assert_array_equal(ours, theirs)
    first_lif = next(i for i, p in enumerate(net.populations) if p.kind == "lif")
    assert raster.counts(first_lif).sum() > 100  # and the hidden layer too
