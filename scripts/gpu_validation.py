"""The GPU decode model against public measurements: a README-ready Markdown table.

Each measurement names the preset that describes its GPU and runtime (eager or graph), the
workload preset of its model, and the run shape the measurement used (prompt, decoded tokens,
batch); the model is run with exactly that shape and compared on the measured quantity.
No preset constant was fitted to these numbers (docs/gpu.md). Sources:
docs/sources.md#gpu-decode-measurements.

    python scripts/gpu_validation.py            # the Markdown validation table
    python scripts/gpu_validation.py --modes    # eager against graph execution, by stream
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from neurosim.config.loader import load_config  # noqa: E402
from neurosim.config.workload import Workload  # noqa: E402
from neurosim.simulate.gpu import load_gpu_architecture, simulate_gpu  # noqa: E402

METRICS = {
    "end-to-end ms": "prefill of the prompt plus every decode step of the request",
    "decode tokens/s": "decoded tokens per second of one sequence (1 / time per output token)",
    "TPOT ms": "mean decode step (time per output token of each sequence)",
}


@dataclass(frozen=True)
class Measurement:
    """One published decode figure and the run shape it was measured with."""

    key: str  # anchor-style id, listed in docs/sources.md#gpu-decode-measurements
    gpu: str  # what was measured on
    arch: str  # preset describing that GPU and runtime
    workload: str
    runtime: str
    batch: int
    prompt_tokens: int
    decode_steps: int
    metric: str  # one of METRICS
    measured: float
    note: str = ""


MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement("nemo-a100-b1", "A100 80GB SXM4", "a800_graph", "llama-2-7b",
                "TensorRT-LLM", 1, 128, 19, "end-to-end ms", 234.0,
                "input 128, output 20"),
    Measurement("nemo-a100-b8", "A100 80GB SXM4", "a800_graph", "llama-2-7b",
                "TensorRT-LLM", 8, 128, 19, "end-to-end ms", 329.5,
                "input 128, output 20"),
    Measurement("nemo-h100-b1", "H100 80GB HBM3", "h100_graph", "llama-2-7b",
                "TensorRT-LLM", 1, 128, 19, "end-to-end ms", 153.8,
                "input 128, output 20"),
    Measurement("nemo-h100-b8", "H100 80GB HBM3", "h100_graph", "llama-2-7b",
                "TensorRT-LLM", 8, 128, 19, "end-to-end ms", 199.2,
                "input 128, output 20"),
    Measurement("vllm-a100-c1", "A100 40GB", "a100_40gb_graph", "llama-3.1-8b",
                "vLLM 0.23", 1, 1024, 127, "decode tokens/s", 75.0,
                "input 1024, output 128; 'about 75'"),
    Measurement("vllm-h100-c1", "H100 80GB HBM3", "h100_graph", "llama-3.1-8b",
                "vLLM 0.21", 1, 256, 127, "TPOT ms", 6.48,
                "median TPOT; prompt length not given (256 assumed)"),
    Measurement("vllm-h100-c16", "H100 80GB HBM3", "h100_graph", "llama-3.1-8b",
                "vLLM 0.21", 16, 256, 127, "TPOT ms", 10.94,
                "16 concurrent requests taken as batch 16; prompt 256 assumed"),
    Measurement("torch-h100-eager", "H100 SXM5", "h100", "llama-3.1-8b",
                "PyTorch eager", 1, 256, 32, "TPOT ms", 8.4,
                "one decode step; context not given (256 assumed)"),
    Measurement("torch-h100-graph", "H100 SXM5", "h100_graph", "llama-3.1-8b",
                "PyTorch + CUDA graph", 1, 256, 32, "TPOT ms", 5.1,
                "one decode step; context not given (256 assumed)"),
)


def modelled(m: Measurement) -> tuple[float, str]:
    """The model's figure for `m`'s metric and the step's binding stream."""
    arch = load_gpu_architecture(ROOT / "architectures" / f"{m.arch}.yaml")
    workload = load_config(Workload, ROOT / "workloads" / f"{m.workload}.yaml")
    r = simulate_gpu(arch, workload, n_tokens=m.decode_steps, attention="softmax",
                     context_tokens=0, batch=m.batch, prompt_tokens=m.prompt_tokens)
    steps = r.placement["time_per_token_s"]
    tpot = sum(r.latencies_s) / len(r.latencies_s)
    if m.metric == "end-to-end ms":
        value = 1e3 * (r.metrics["time_to_first_token_s"] - r.latencies_s[0]
                       + sum(r.latencies_s))
    elif m.metric == "decode tokens/s":
        value = 1.0 / tpot
    elif m.metric == "TPOT ms":
        value = 1e3 * tpot
    else:
        raise ValueError(f"unknown metric {m.metric!r}; known: {', '.join(METRICS)}")
    host = steps["per_token_overhead"] * m.batch
    gpu = steps["gpu_stream"] * m.batch
    return value, "host" if host > gpu else "GPU (HBM)" if r.bottleneck == "hbm" else (
        "GPU (" + r.bottleneck + ")")


def error(ours: float, measured: float, metric: str) -> float:
    """Signed relative error of the model, in the direction of time (+: we are slower)."""
    if metric == "decode tokens/s":
        return measured / ours - 1.0
    return ours / measured - 1.0


def table() -> str:
    """The Markdown validation table with a mean absolute error line."""
    rows = ["| # | GPU (preset) | model | runtime | batch | metric | measured | ours | "
            "error (time) | bound by |", "|---|---|---|---|---|---|---|---|---|---|"]
    errors = []
    for i, m in enumerate(MEASUREMENTS, 1):
        ours, bound = modelled(m)
        e = error(ours, m.measured, m.metric)
        errors.append(abs(e))
        rows.append(f"| {i} | {m.gpu} (`{m.arch}`) | {m.workload} | {m.runtime} | {m.batch} | "
                    f"{m.metric} | {m.measured:.4g} | {ours:.4g} | {100 * e:+.0f} % | {bound} |")
    rows += ["", f"Mean absolute error {100 * sum(errors) / len(errors):.0f} % over "
             f"{len(errors)} measurements; worst {100 * max(errors):.0f} %. "
             "Error is on time: + means the model is slower than measured."]
    return "\n".join(rows) + "\n"


MODE_RUNS = (("a800", "a800_graph"), ("h100", "h100_graph"))
MODE_WORKLOADS = ("nsllm-1.5b", "llama-2-7b")


def modes_table(batches: tuple[int, ...] = (1, 8)) -> str:
    """Decode tokens/s of eager and graph execution, with each step's host and GPU streams."""
    rows = ["| GPU preset | workload | batch | host stream ms | GPU stream ms | step ms | "
            "tokens/s (all sequences) | bound by |", "|---|---|---|---|---|---|---|---|"]
    for pair in MODE_RUNS:
        for name in pair:
            arch = load_gpu_architecture(ROOT / "architectures" / f"{name}.yaml")
            for wl_name in MODE_WORKLOADS:
                workload = load_config(Workload, ROOT / "workloads" / f"{wl_name}.yaml")
                for batch in batches:
                    r = simulate_gpu(arch, workload, n_tokens=4, batch=batch)
                    steps = r.placement["time_per_token_s"]
                    host, gpu = steps["per_token_overhead"] * batch, steps["gpu_stream"] * batch
                    step = r.latencies_s[0]
                    rows.append(f"| `{name}` ({arch.execution}) | {wl_name} | {batch} | "
                                f"{1e3 * host:.3g} | {1e3 * gpu:.3g} | {1e3 * step:.3g} | "
                                f"{r.metrics['tokens_per_s']:.4g} | "
                                f"{'host' if host > gpu else r.bottleneck} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", action="store_true",
                        help="eager against graph execution instead of the validation table")
    args = parser.parse_args(argv)
    sys.stdout.write(modes_table() if args.modes else table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
