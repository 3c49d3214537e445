"""Write the shipped example spiking network, workloads/snn/edge-cnn.nir.

A small convolutional SNN (untrained: fixed, seeded weights chosen to keep every layer
firing at a few per cent) that uses most of the NIR node types neurosim reads:

    Input (1 x 8 x 8) -> Conv2d 3 x 3 x 3 -> LIF (3 x 8 x 8)
        -> SumPool2d 2 x 2 -> Flatten -> Affine 48 -> 32 -> CubaLIF (32, with a recurrent
        Linear 32 x 32 of weak lateral inhibition) -> Affine 32 -> 10 -> LI (10) -> Output

Small enough for every neuromorphic preset: the CubaLIF neurons' fan-in (192 conv neurons
through the pooling, plus 31 lateral) fits TrueNorth's and BrainScaleS-2's 256 axons.

    python scripts/make_example_snn.py [--out workloads/snn/edge-cnn.nir]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nir
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "workloads" / "snn" / "edge-cnn.nir"


def edge_cnn(seed: int = 0) -> nir.NIRGraph:
    """The example network, the same for the same seed."""
    rng = np.random.default_rng(seed)
    conv = rng.normal(0.0, 1.5, size=(3, 1, 3, 3))
    conv -= conv.mean(axis=(2, 3), keepdims=True)  # edge detectors: zero-sum kernels
    hidden = rng.normal(0.0, 0.5, size=(32, 48))
    lateral = -0.2 * (np.ones((32, 32)) - np.eye(32))
    readout = rng.normal(0.0, 0.5, size=(10, 32))
    tau, dt = 5e-3, 1e-3
    grid = (3, 8, 8)
    return nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([1, 8, 8])}),
            "conv": nir.Conv2d(input_shape=(8, 8), weight=conv, stride=1, padding=1,
                               dilation=1, groups=1, bias=np.zeros(3)),
            "lif_conv": nir.LIF(tau=np.full(grid, tau), r=np.full(grid, tau / dt),
                                v_leak=np.zeros(grid), v_threshold=np.full(grid, 1.0),
                                v_reset=np.zeros(grid)),
            "pool": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                                  padding=np.array([0, 0])),
            "flatten": nir.Flatten(input_type={"input": np.array([3, 4, 4])}, start_dim=0,
                                   end_dim=-1),
            "fc": nir.Affine(weight=hidden, bias=np.zeros(32)),
            "cuba": nir.CubaLIF(tau_syn=np.full(32, 2e-3), tau_mem=np.full(32, tau),
                                r=np.full(32, tau / dt), v_leak=np.zeros(32),
                                v_threshold=np.full(32, 1.0), v_reset=np.zeros(32),
                                w_in=np.full(32, 2e-3 / dt)),
            "lateral": nir.Linear(weight=lateral),
            "readout": nir.Affine(weight=readout, bias=np.zeros(10)),
            "li": nir.LI(tau=np.full(10, 1e-2), r=np.full(10, 1e-2 / dt), v_leak=np.zeros(10)),
            "output": nir.Output(output_type={"output": np.array([10])}),
        },
        edges=[("input", "conv"), ("conv", "lif_conv"), ("lif_conv", "pool"),
               ("pool", "flatten"), ("flatten", "fc"), ("fc", "cuba"), ("cuba", "lateral"),
               ("lateral", "cuba"), ("cuba", "readout"), ("readout", "li"), ("li", "output")],
    )  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT)
    args = ap.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    nir.write(str(args.out), edge_cnn())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
