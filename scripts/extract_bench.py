"""Measure the time and peak memory of extracting a SmolLM2-135M spike trace (prints figures).

Each measurement runs in a fresh subprocess: load the model, calibrate on 2048 KJV
tokens, trace N tokens (default 250 and 1000, to show that memory does not grow with
N), and evaluate on 256 held-out tokens. "peak RSS" is the whole process (model weights
included); "traced peak" is the largest numpy/Python allocation during the traced
extraction stage alone (tracemalloc), i.e. what the streaming writer and one context
window need on top of the loaded model.

    python scripts/extract_bench.py [--tokens 250 1000] [--context 256]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path


def measure(tokens: int, context: int, out: Path) -> dict:
    """One extraction, timed stage by stage (runs inside the child process)."""
    from neurosim.trace.corpus import bible_source, take_tokens
    from neurosim.trace.extract import (
        ExtractConfig,
        calibrate,
        evaluate,
        extract,
        make_codings,
        resolve_levels,
    )
    from neurosim.trace.gguf_llama import load_smollm2

    t0 = time.perf_counter()
    model = load_smollm2()
    t_load = time.perf_counter() - t0
    cfg = ExtractConfig(tokens=tokens, levels={"mlp_act": 32}, context=context, eval_tokens=0)
    ids = take_tokens(bible_source(), model.encode, cfg.calib_tokens + tokens + 256)
    calib, traced = ids[: cfg.calib_tokens], ids[cfg.calib_tokens : cfg.calib_tokens + tokens]
    held_out = ids[cfg.calib_tokens + tokens :]
    t0 = time.perf_counter()
    cal = calibrate(model, calib, cfg)
    t_cal = time.perf_counter() - t0
    codings = make_codings(model.sites, resolve_levels(model.sites, cfg.levels), cfg, cal)
    t0 = time.perf_counter()
    accuracy = evaluate(model, codings, held_out, context)
    t_eval = time.perf_counter() - t0
    tracemalloc.start()
    t0 = time.perf_counter()
    res = extract(model, out, traced, cfg, calibration=cal)
    t_ext = time.perf_counter() - t0
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "tokens": tokens,
        "load_s": t_load,
        "calibrate_s": t_cal,
        "calibrate_tokens": cfg.calib_tokens,
        "extract_s": t_ext,
        "extract_only_s": res.footer["seconds"]["extract"],
        "evaluate_s": t_eval,
        "evaluate_tokens": 256,
        "trace_bytes": out.stat().st_size,
        "traced_peak_mb": traced_peak / 1e6,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "agreement": accuracy["next_token_agreement"],
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tokens", type=int, nargs="+", default=[250, 1000])
    p.add_argument("--context", type=int, default=256)
    p.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child is not None:
        with tempfile.TemporaryDirectory() as d:
            print(json.dumps(measure(args.child, args.context, Path(d) / "bench.nstrace")))
        return 0
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(
        "| tokens | load s | calibrate s (2048 tok) | extract s | tokens/s | "
        "held-out eval s (256 tok) | trace MB | KB/token | traced peak MB | peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in args.tokens:
        cmd = [sys.executable, __file__, "--child", str(n), "--context", str(args.context)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"| {n} | {r['load_s']:.1f} | {r['calibrate_s']:.1f} | {r['extract_s']:.1f} | "
            f"{n / r['extract_s']:.0f} | {r['evaluate_s']:.1f} | {r['trace_bytes'] / 1e6:.1f} | "
            f"{r['trace_bytes'] / n / 1e3:.0f} | {r['traced_peak_mb']:.0f} | "
            f"{r['peak_rss_mb']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
