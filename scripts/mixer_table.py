"""The token-mixer presets on the VCK190 and the A800: throughput, energy, state and KV size.

One row per (workload, architecture): tokens/s and mJ/token at batch 1 with the workload's
context, the recurrent state the model keeps per sequence, the KV cache each token adds,
and the bottleneck. Prints a Markdown table.

    python scripts/mixer_table.py [--tokens 4] [--fidelity analytic] [--context 1024]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neurosim.simulate.systems import load_architecture, load_workload, run_system
from neurosim.workload.attention import kv_shape
from neurosim.workload.model import build_model_graph

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ("matmulfree-lm-370m", "matmulfree-lm-1.3b", "matmulfree-lm-2.7b",
             "bitnet-b1.58-large", "qwen2.5-0.5b-nsllm", "qwen2.5-7b-nsllm",
             "spikingbrain-7b-hybrid", "nsllm-1.5b")
ARCHITECTURES = ("vck190_nsllm", "a800")


def _mixer(workload) -> str:
    blocks = workload.blocks
    if blocks.mixer_pattern:
        return "hybrid " + "/".join(blocks.mixer_pattern)
    return blocks.attention_kind


def _mib(nbytes: float) -> str:
    return f"{nbytes / 2**20:.2f}"


def table(tokens: int, fidelity: str, context: int) -> str:
    lines = [
        "| workload | mixer | architecture | tokens/s | mJ/token | state MiB | KV KiB/token "
        "| bottleneck |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for name in WORKLOADS:
        workload = load_workload(ROOT / "workloads" / f"{name}.yaml")
        graph = build_model_graph(workload)
        shape = kv_shape(workload)
        kv = 0.0 if shape is None else shape.bytes_per_token / 1024
        for arch_name in ARCHITECTURES:
            arch = load_architecture(ROOT / "architectures" / f"{arch_name}.yaml")
            result = run_system(arch, workload, n_tokens=tokens, seed=0, fidelity=fidelity,
                                context_tokens=context)
            m = result.metrics
            lines.append(
                f"| {name} | {_mixer(workload)} | {arch_name} | {m['tokens_per_s']:.1f} "
                f"| {1e3 * m['energy_per_token_j']:.1f} | {_mib(graph.state_bytes)} | {kv:.1f} "
                f"| {result.bottleneck} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=4, help="tokens decoded per run")
    ap.add_argument("--fidelity", choices=("analytic", "des"), default="analytic")
    ap.add_argument("--context", type=int, default=1024, help="tokens already in context")
    args = ap.parse_args()
    print(table(args.tokens, args.fidelity, args.context), end="")


if __name__ == "__main__":
    main()
