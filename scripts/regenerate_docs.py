"""Regenerate, or check, every figure in README.md and docs/*.md that comes from a run.

A generated block sits between ``<!-- generated:ID -->`` and ``<!-- /generated:ID -->``;
each ID has a generator below that runs the real command(s) and renders the block.

    python scripts/regenerate_docs.py --write          # rewrite blocks and figures (PNG)
    python scripts/regenerate_docs.py --check          # re-run, list stale blocks, exit 1
    python scripts/regenerate_docs.py --check --all    # also the slow blocks
    python scripts/regenerate_docs.py --check --only compare capacity

`--check` compares every number of a block with the fresh run within REL_TOL and the
text around the numbers exactly. Timing blocks (machine-dependent) are rewritten by
`--write` but `--check` only verifies that they are present and well formed. Slow blocks
(big sweeps, the real model) run only with `--all`.
"""

from __future__ import annotations

import argparse
import atexit
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
REL_TOL = 0.005  # numbers of a fresh run may differ from the committed ones by 0.5 %
BLOCK = re.compile(
    r"<!-- generated:(?P<id>[\w.-]+) -->\n(?P<body>.*?)<!-- /generated:(?P=id) -->", re.S
)
NUMBER = re.compile(r"(?<![\w.])[-+]?\d(?:[\d,]*\d)?(?:\.\d+)?(?:[eE][-+]?\d+)?")
MACHINE_LINE = "Measured on"

VCK190 = "architectures/vck190_nsllm.yaml"
NSLLM = "workloads/nsllm-1.5b.yaml"
COMPARED = ["vck190_nsllm", "a800", "a800_pcie", "reram_cim", "pcm_cim", "sram_cim", "loihi",
            "loihi2", "truenorth", "spinnaker2", "brainscales2"]
SHIPPED_TRACE = "workloads/traces/smollm2-135m_kjv_64tok.nstrace"


class GenerationError(RuntimeError):
    """A generator's command failed or printed something it cannot render."""


# ---------------------------------------------------------------- running commands


def child_env() -> dict[str, str]:
    """The environment of a child `python`: this checkout first on its path."""
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def run(*args: str) -> str:
    """stdout of `python ARGS` run from the repository root with this checkout importable."""
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=child_env(),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise GenerationError(f"`python {' '.join(args)}` exited {proc.returncode}:\n"
                              f"{proc.stderr.strip()[-2000:]}")
    return proc.stdout


def neurosim(*args: str) -> str:
    return run("-m", "neurosim.cli.app", *args)


def section(text: str, title: str) -> list[str]:
    """The lines of a `title` / dashes section of CLI output, up to the next blank line."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(title) and i + 1 < len(lines) and set(lines[i + 1]) == {"-"}:
            out = []
            for body in lines[i + 2:]:
                if not body.strip():
                    break
                out.append(body)
            return out
    raise GenerationError(f"no section {title!r} in the output:\n{text[:1500]}")


def tables(text: str) -> list[list[str]]:
    """Every markdown table (consecutive lines starting with '|') in `text`."""
    found: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            found.append(current)
            current = []
    return found


def table_after(text: str, caption: str) -> list[str]:
    """The markdown table that follows the line starting with `caption`."""
    start = next((i for i, line in enumerate(text.splitlines()) if line.startswith(caption)),
                 None)
    if start is None:
        raise GenerationError(f"no line starting {caption!r} in the output:\n{text[:1500]}")
    rest = "\n".join(text.splitlines()[start + 1:])
    found = tables(rest)
    if not found:
        raise GenerationError(f"no table after {caption!r}")
    return found[0]


def fenced(lines: list[str]) -> str:
    return "```\n" + "\n".join(lines) + "\n```\n"


def lines_of(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def machine_note() -> str:
    cpus = os.cpu_count() or 0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{MACHINE_LINE} {platform.system()} {platform.machine()}, {cpus} CPUs, "
            f"Python {platform.python_version()}, {date.today().isoformat()} "
            f"(load average {load:.1f} at the start; machine-dependent, `--check` verifies "
            f"only the structure).\n")


# ---------------------------------------------------------------- shared runs (cached)


@cache
def default_run() -> str:
    with tempfile.TemporaryDirectory() as out:
        return neurosim("run", VCK190, NSLLM, "--out", out)


@cache
def compare_run() -> tuple[str, dict[str, bytes]]:
    with tempfile.TemporaryDirectory() as out:
        text = neurosim("compare", *(f"architectures/{a}.yaml" for a in COMPARED),
                        "--workload", NSLLM, "--tokens", "2", "--out", out)
        files = {p.name: p.read_bytes() for p in Path(out).iterdir()}
    return text, files


@cache
def codings_run() -> str:
    return run("scripts/trace_report.py", "--codings")


@cache
def study(spec: str) -> Path:
    """Database of a sweep spec, run from scratch in a temporary directory (kept until exit)."""
    tmp = tempfile.mkdtemp(prefix="regenerate_docs_")
    atexit.register(shutil.rmtree, tmp, True)
    db = Path(tmp) / f"{spec}.db"
    neurosim("sweep", f"architectures/sweeps/{spec}.yaml", "--db", str(db), "--quiet")
    return db


def study_csv(spec: str) -> str:
    csv = study(spec).with_suffix(".csv")
    if not csv.exists():
        neurosim("sweep-export", str(study(spec)), "--csv", str(csv))
    return csv.read_text()


def pareto_figure(spec: str, *options: str) -> Callable[[], None]:
    """Redraws docs/img/sweep_SPEC.png with `neurosim pareto` (the command docs/sweeps.md
    shows)."""
    def draw() -> None:
        prefix = study(spec).parent / f"sweep_{spec}"
        neurosim("pareto", str(study(spec)), *options, "--out", str(prefix), "--formats", "png")
        shutil.copyfile(prefix.with_suffix(".png"), ROOT / "docs" / "img" / f"sweep_{spec}.png")
    return draw


MESH_NOC = "architecture.interconnect.topology={kind: mesh, width: 4, height: 4}"
TIMELINE_VARIANTS = {  # docs/timeline.md: the VCK190 as shipped and with a 4x4-mesh NoC
    "vck190": ("crossbar (as shipped)", []),
    "vck190_mesh": ("4x4 mesh", ["--set", MESH_NOC]),
}


@cache
def timeline_run(variant: str) -> tuple[str, dict, dict[str, bytes]]:
    """`neurosim run --plots` of one VCK190 variant (2 tokens, DES): stdout, the
    result.json and the pictures."""
    _, changes = TIMELINE_VARIANTS[variant]
    with tempfile.TemporaryDirectory() as out:
        text = neurosim("run", VCK190, NSLLM, "--tokens", "2", "--quiet", "--out", out,
                        "--plots", f"{out}/plots", *changes)
        result = json.loads((Path(out) / "result.json").read_text())
        files = {p.name: p.read_bytes() for p in (Path(out) / "plots").iterdir()}
    return text, result, files


def gen_timeline_noc() -> str:
    rows = ["| NoC | tokens/s | bottleneck | busiest DRAM channel | hottest link | "
            "token 0's critical path (share of its busy time) |", "|---|---|---|---|---|---|"]
    for variant, (noc, _) in TIMELINE_VARIANTS.items():
        text, result, _ = timeline_run(variant)
        util = result["utilization"]
        dram = max((k for k in util if k.startswith("dram.")), key=util.get)
        link = max((k for k in util if k.startswith("link ")), key=util.get)
        line = next(x for x in text.splitlines() if x.startswith("critical path of token 0"))
        first = line.split("busy time on ", 1)[1].split(",")[0]
        rows.append(f"| {noc} | {result['metrics']['tokens_per_s']:.1f} | "
                    f"{result['bottleneck']} | {dram} {100 * util[dram]:.0f} % | "
                    f"{link} {100 * util[link]:.0f} % | {first} |")
    return lines_of(rows)


def write_timeline_figures() -> None:
    for variant in TIMELINE_VARIANTS:
        _, _, files = timeline_run(variant)
        for name in ("linkmap.png", "timeline.png"):
            if name not in files:
                raise GenerationError(f"`neurosim run --plots` wrote no {name}")
            stem = name.removesuffix(".png")
            (ROOT / "docs" / "img" / f"{stem}_{variant}.png").write_bytes(files[name])


SNN_TIMELINE = [  # docs/timeline.md: the example network spread over four Loihi cores
    "run", "loihi", "workloads/snn/edge-cnn.nir", "--input-rate", "200", "--timesteps", "100",
    "--set", "architecture.neuron_cores.neurons_per_core=64",
    "--set", "architecture.neuron_cores.cores_per_unit=1",
]


@cache
def snn_timeline_run() -> tuple[str, dict, dict, dict[str, bytes]]:
    """`neurosim run NET.nir --timeline --plots`: stdout, result.json, the trace and the
    pictures."""
    with tempfile.TemporaryDirectory() as out:
        text = neurosim(*SNN_TIMELINE, "--out", out, "--timeline", f"{out}/t.json",
                        "--plots", f"{out}/plots")
        result = json.loads((Path(out) / "result.json").read_text())
        trace = json.loads((Path(out) / "t.json").read_text())
        files = {p.name: p.read_bytes() for p in (Path(out) / "plots").iterdir()}
    return text, result, trace, files


def gen_timeline_snn() -> str:
    """Per core of the spread example: busy share, and in how many timesteps its work ends
    the compute phase (read from the trace file)."""
    _, result, trace, _ = snn_timeline_run()
    events = trace["traceEvents"]
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e["name"] == "thread_name"}
    core_end: dict[tuple[str, str], float] = {}
    phase_end: dict[str, float] = {}
    for e in events:
        if e["ph"] != "X":
            continue
        track, step = names[(e["pid"], e["tid"])], e["name"].rsplit(" ", 1)[-1]
        if track.startswith("core "):
            core_end[(track, step)] = max(core_end.get((track, step), 0.0), e["ts"] + e["dur"])
        elif e["cat"] == "compute phase":
            phase_end[step] = e["ts"] + e["dur"]
    rows = ["| core | busy (% of the run) | its work ends the compute phase in |", "|---|---|---|"]
    for core, busy in enumerate(result["core_busy_fraction"]):
        track = f"core {core}"
        ends = sum(abs(core_end.get((track, t), -1.0) - end) < 1e-6 for t, end in phase_end.items())
        rows.append(f"| {track} | {100 * busy:.1f} | {ends} of {len(phase_end)} timesteps |")
    meta = trace["otherData"]
    link_busy = {}
    for e in events:
        if e["ph"] == "X" and e["cat"] == "spikes" and names[(e["pid"], e["tid"])] != "phases":
            track = names[(e["pid"], e["tid"])]
            link_busy[track] = link_busy.get(track, 0.0) + e["dur"]
    hottest = max(link_busy, key=link_busy.get)
    elapsed_us = sum(result["latency_per_timestep_s"]) * 1e6
    rows += ["", f"Hottest link: {hottest}, {100 * link_busy[hottest] / elapsed_us:.2f} % busy; "
             f"the file holds {meta['events']:,} spans for {meta['recorded_steps']} timesteps."]
    return lines_of(rows)


def write_snn_timeline_figures() -> None:
    _, _, _, files = snn_timeline_run()
    for name in ("timesteps.png", "timeline.png"):
        if name not in files:
            raise GenerationError(f"`neurosim run NET.nir --plots` wrote no {name}")
        (ROOT / "docs" / "img" / f"snn_{name.removesuffix('.png')}_loihi.png").write_bytes(
            files[name]
        )


def gen_timeline_bench() -> str:
    rows: list[str] = []
    for args in (
        ("--mesh", "--presets", "vck190_nsllm"),  # the figure the target is about: 5 runs
        ("--presets", "reram_cim", "loihi", "--repeat", "2"),  # slow runs, small shares
        ("--presets", "vck190_nsllm", "--tokens", "32", "--repeat", "2"),
    ):
        text = run("scripts/timeline_bench.py", *args)
        found = [line for line in text.splitlines() if line.startswith("|")]
        if len(found) < 3:
            raise GenerationError(f"no rows in the timeline benchmark output:\n{text}")
        rows += found if not rows else found[2:]
    return lines_of(rows) + "\n" + machine_note()


# ---------------------------------------------------------------- generators


def gen_default_run() -> str:
    text = default_run()
    result = section(text, "Result")
    keep = [line for line in result if not line.strip().startswith(
        ("architecture ", "workload ", "fidelity ", "tokens / seed"))]
    published = [line for line in text.splitlines() if line.startswith("Published comparison")]
    return fenced(keep + [""] + published[:1] + section(text, "Published comparison"))


def gen_default_run_facts() -> str:
    text = default_run()
    energy = section(text, "Energy per token by component and event")
    dram_read = sum(float(line.split()[-2]) for line in energy
                    if line.split()[0].startswith("dram.") and line.split()[0].endswith("read_bit"))
    placement = {line[:32].strip(): line[32:].strip() for line in section(text, "Placement")}
    util = {line.split()[0]: line.split()[-2] for line in
            section(text, "Utilization (busiest unit of each resource)")}
    result = {line[:34].strip(): line[34:].strip() for line in section(text, "Result")}
    return (f"- weights streamed from DRAM per token: {placement['weights streamed per token']}\n"
            f"- busiest compute unit: {util['compute']} % busy\n"
            f"- DRAM reads: {dram_read:.0f} % of the energy per token\n"
            f"- dynamic power on chip (no DRAM): "
            f"{result['dynamic power on chip (no DRAM)']}\n")


@cache
def fpga_run() -> str:
    return neurosim("fpga", VCK190, NSLLM, "--tokens", "8")


def gen_fpga_resources() -> str:
    text = fpga_run()
    warnings = [line for line in text.splitlines() if line.startswith("warning:")]
    return lines_of(tables(text)[0] + [""] + warnings)


def gen_fpga_power() -> str:
    text = fpga_run()
    caption = next(line for line in text.splitlines() if line.startswith("Power on "))
    published = [line for line in text.splitlines() if line.startswith("Published comparison")]
    return (caption + "\n\n" + lines_of(tables(text)[1]) + "\n"
            + fenced(published[:1] + section(text, "Published comparison")))


def gen_fpga_devices() -> str:
    return run("-c", "from neurosim.analysis.fpga import device_table; print(device_table())")


def gen_sensitivity() -> str:
    return lines_of(tables(run("scripts/sensitivity.py", "--fidelity", "des"))[0])


def gen_precision_study() -> str:
    return lines_of(tables(run("scripts/precision_study.py"))[0])


def gen_compare() -> str:
    text, _ = compare_run()
    return lines_of(table_after(text, "nsllm-1.5b:"))


def gen_ratios() -> str:
    text, _ = compare_run()
    caption = next(line for line in text.splitlines() if line.startswith("NSLLM ratios"))
    return caption + "\n\n" + lines_of(table_after(text, "NSLLM ratios"))


def gen_capacity() -> str:
    text = neurosim("capacity", "architectures/loihi2.yaml", "architectures/truenorth.yaml",
                    "architectures/reram_cim.yaml", "--parameters", "20e9")
    return lines_of(tables(text)[0])


def gen_benchmark() -> str:
    text = run("scripts/benchmark.py", "--tokens", "8", "64")
    rows = ["| fidelity | tokens | wall s | s/token | engine events/s | traced peak MB |",
            "|---|---|---|---|---|---|"]
    for line in text.splitlines():
        cells = line.split()[1:]  # the first column names the source tree
        if cells and cells[0] in ("analytic", "des") and len(cells) >= 8:
            fidelity, tokens, wall, per_token, _cpu, eps, peak = cells[:7]
            shown = [fidelity, tokens, wall, per_token, eps, peak]
            rows.append("| " + " | ".join("-" if c == "nan" else c for c in shown) + " |")
    if len(rows) < 3:
        raise GenerationError(f"no rows in the benchmark output:\n{text}")
    return lines_of(rows) + "\n" + machine_note()


_CURVE_PNG = Path(tempfile.mkdtemp(prefix="neurosim-curves-"))
atexit.register(shutil.rmtree, _CURVE_PNG, ignore_errors=True)


def gen_attention_curve(curve: str) -> Callable[[], str]:
    """One table of scripts/attention_curves.py (context, batch or prefill); its chart
    waits in a temporary file for `attention_figure`."""
    def render() -> str:
        png = _CURVE_PNG / f"attention_{curve}.png"
        return lines_of(tables(run("scripts/attention_curves.py", curve, "--png", str(png)))[0])
    return render


def gen_mixer_presets() -> str:
    """scripts/mixer_table.py: the token-mixer presets on the VCK190 and the A800."""
    return lines_of(tables(run("scripts/mixer_table.py"))[0])


def attention_figure(curve: str) -> Callable[[], None]:
    """Copies the chart the curve's table was rendered with to docs/img/."""
    def draw() -> None:
        shutil.copyfile(_CURVE_PNG / f"attention_{curve}.png",
                        ROOT / "docs" / "img" / f"attention_{curve}.png")
    return draw


def gen_benchmark_steps() -> str:
    """The two run shapes the issue times: a long prefill (analytic) and a batch (DES)."""
    rows = ["| run | fidelity | decode steps | wall s | CPU s | s per decode step | "
            "s per decoded token |", "|---|---|---|---|---|---|---|"]
    for label, fidelity, steps, batch, prompt in (
        ("prefill 1,024 + decode 64", "analytic", 64, 1, 1024),
        ("batch 8", "des", 4, 8, 0),
    ):
        text = run("scripts/benchmark.py", "--fidelity", fidelity, "--tokens", str(steps),
                   "--batch", str(batch), "--prompt-tokens", str(prompt), "--no-trace")
        cells = next((line.split()[1:] for line in text.splitlines()
                      if line.split()[1:2] == [fidelity]), None)
        if cells is None:
            raise GenerationError(f"no row in the benchmark output:\n{text}")
        wall, cpu = float(cells[2]), float(cells[4]) * steps
        rows.append(f"| {label} | {fidelity} | {steps} | {wall:.2f} | {cpu:.2f} | "
                    f"{wall / steps:.4f} | {wall / (steps * batch):.4f} |")
    return lines_of(rows) + "\n" + machine_note()


def gen_sweep_bench() -> str:
    text = run("scripts/sweep_bench.py")
    rows = ["| fidelity | workers | points/min end to end | points/min steady |",
            "|---|---|---|---|"]
    for line in text.splitlines():
        cells = line.split()[1:]  # the first column names the source tree
        if cells and cells[0] in ("analytic", "des") and len(cells) >= 7:
            fidelity, workers, _points, _wall, end_to_end, steady = cells[:6]
            rows.append(f"| {fidelity} | {workers} | {int(end_to_end):,} | {int(steady):,} |")
    if len(rows) < 3:
        raise GenerationError(f"no rows in the sweep benchmark output:\n{text}")
    return lines_of(rows) + "\n" + machine_note()


def gen_extract_bench() -> str:
    text = run("scripts/extract_bench.py", "--tokens", "250", "1000", "3000")
    return lines_of(tables(text)[0]) + "\n" + machine_note()


def gen_accuracy_bench() -> str:
    """`neurosim accuracy reram_cim --tokens 64` in a fresh process: wall time and that
    process's own peak RSS (os.wait4's rusage: RUSAGE_CHILDREN would report the largest of
    every child this generator ran before, e.g. a sweep's, under --all)."""
    import tempfile
    import time

    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryFile("w+") as err:
        args = [sys.executable, "-m", "neurosim.cli.app", "accuracy",
                "architectures/reram_cim.yaml", "--tokens", "64", "--out", out]
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, cwd=ROOT, env=child_env(), stdout=subprocess.DEVNULL,
                                stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise GenerationError(f"`neurosim accuracy` exited {proc.returncode}:\n"
                                  f"{err.read()[-2000:]}")
        report = json.loads((Path(out) / "result.json").read_text())
    peak_gb = usage.ru_maxrss / 2**20
    metrics = report["metrics"]
    rows = ["| command | wall s | peak RSS GB | agreement | perplexity |", "|---|---|---|---|---|",
            "| `.venv/bin/neurosim accuracy architectures/reram_cim.yaml --tokens 64` | "
            f"{wall:.1f} | {peak_gb:.2f} | {metrics['agreement']:.3f} | "
            f"{metrics['perplexity']:.4g} |"]
    return lines_of(rows) + "\n" + machine_note()


def gen_codings() -> str:
    return lines_of(tables(codings_run())[0])


def gen_site_sensitivity() -> str:
    return lines_of(table_after(codings_run(), "sensitivity: KL"))


def gen_level_choice() -> str:
    return lines_of(table_after(codings_run(), "best assignments by summed KL"))


def paragraphs(text: str, *captions: str) -> list[str]:
    """The blank-line-separated paragraphs of `text` whose first line starts with a caption."""
    chosen = []
    for para in re.split(r"\n\s*\n", text.strip("\n")):
        if para.lstrip().startswith(captions):
            chosen.append("\n".join(line.rstrip() for line in para.splitlines()))
    missing = [c for c in captions if not any(p.lstrip().startswith(c) for p in chosen)]
    if missing:
        raise GenerationError(f"no paragraph starting {missing} in the output:\n{text[:1500]}")
    return chosen


def gen_trace_stats() -> str:
    text = neurosim("trace", "stats", SHIPPED_TRACE)
    chosen = paragraphs(text, "per site type", "variability", "mutual information")
    return fenced("\n\n".join(chosen).splitlines())


def gen_trace_report() -> str:
    text = run("scripts/trace_report.py")
    chosen = paragraphs(text, "measured per site type", "fitted generator parameters",
                        "check:", "carried over to", "nsllm-1.5b on")
    return fenced("\n\n".join(chosen).splitlines())


def _front(spec: str, objectives: dict[str, str], columns: dict[str, Callable]) -> str:
    import io

    import pandas as pd

    from neurosim.analysis.pareto import pareto_front

    frame = pd.read_csv(io.StringIO(study_csv(spec)))
    front = pareto_front(frame, objectives)
    front = front[front.on_front].sort_values(list(objectives)[0])
    rows = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for _, point in front.iterrows():
        rows.append("| " + " | ".join(str(f(point)) for f in columns.values()) + " |")
    return lines_of(rows) + f"\n{len(frame)} points, {len(front)} on the front.\n"


def gen_reram_front() -> str:
    return _front(
        "reram_adc_crossbar",
        {"latency_mean_s": "min", "energy_per_token_j": "min", "area_m2": "min"},
        {"array": lambda p: f"{p['compute.rows']:.0f}x{p['compute.cols']:.0f}",
         "ADCs/array": lambda p: f"{p['adc.count']:.0f}",
         "ADC bits": lambda p: f"{p['adc.bits']:.0f}",
         "latency us": lambda p: f"{p['latency_mean_s'] * 1e6:.0f}",
         "mJ/token": lambda p: f"{p['energy_per_token_j'] * 1e3:.1f}",
         "area mm2": lambda p: f"{p['area_m2'] * 1e6:.0f}"})


def _accuracy_front(spec: str) -> str:
    return _front(
        spec,
        {"energy_per_token_j": "min", "perplexity": "min"},
        {"ADC bits": lambda p: f"{p['adc.bits']:.0f}",
         "columns per ADC": lambda p: f"{p['adc.columns_per_adc']:.0f}",
         "programming sigma": lambda p: f"{p['compute.cell.programming_sigma']:g}",
         "mJ/token": lambda p: f"{p['energy_per_token_j'] * 1e3:.2f}",
         "tokens/s": lambda p: f"{p['tokens_per_s']:.0f}",
         "perplexity": lambda p: f"{p['perplexity']:.4g}",
         "agreement": lambda p: f"{p['agreement']:.3f}"})


def gen_reram_accuracy_front() -> str:
    return _accuracy_front("reram_adc_noise_accuracy")


def gen_pcm_accuracy_front() -> str:
    return _accuracy_front("pcm_adc_noise_accuracy")


def gen_vck190_front() -> str:
    return _front(
        "vck190_dram_clock_bits",
        {"latency_mean_s": "min", "energy_per_token_j": "min"},
        {"DRAM interfaces": lambda p: str(p["dram_interfaces"]),
         "PL clock MHz": lambda p: f"{p['compute.clock_hz'] / 1e6:.0f}",
         "weight bits": lambda p: f"{p['workload.weights.bits']:.0f}",
         "latency ms": lambda p: f"{p['latency_mean_s'] * 1e3:.2f}",
         "tokens/s": lambda p: f"{p['tokens_per_s']:.1f}",
         "mJ/token": lambda p: f"{p['energy_per_token_j'] * 1e3:.1f}"})


def gen_run_options() -> str:
    """docs/sweeps.md: the run-shape options a spec sets with `run.` paths, from the one
    definition `neurosim run` checks its flags with."""
    from neurosim.config.run_shape import RUN_OPTIONS

    rows = ["| path | `neurosim run` option | default | accepted |", "|---|---|---|---|"]
    for name, option in RUN_OPTIONS.items():
        default = "the workload's (`null`)" if option.default is None else str(option.default)
        accepted = (", ".join(f"`{c}`" for c in option.choices) if option.choices
                    else f"whole numbers {option.range.describe()}")
        rows.append(f"| `run.{name}` | `{option.flag}` | {default} | {accepted} |")
    return lines_of(rows)


def gen_sweep_batch_prompt() -> str:
    """docs/sweeps.md: the run shape as sweep axes, VCK190 beside A800 (a study of 42
    analytic points, about 13 s on 2 cores)."""
    import io

    import pandas as pd

    frame = pd.read_csv(io.StringIO(study_csv("batch_prompt_vck190_vs_a800")))
    rows = ["| system | batch | decode tokens/s | TPOT ms | mJ/token | TTFT ms, 128-token prompt "
            "| TTFT ms, 1,024-token prompt |", "|---|---|---|---|---|---|---|"]
    for (arch, batch), points in frame.groupby(["architecture", "run.batch"], sort=False):
        by_prompt = points.set_index("run.prompt_tokens")
        plain = by_prompt.loc[0]
        rows.append(
            f"| {arch} | {batch} | {plain['decode_tokens_per_s']:.1f} "
            f"| {plain['time_per_output_token_s'] * 1e3:.2f} "
            f"| {plain['energy_per_token_j'] * 1e3:.1f} "
            f"| {by_prompt.loc[128, 'time_to_first_token_s'] * 1e3:.1f} "
            f"| {by_prompt.loc[1024, 'time_to_first_token_s'] * 1e3:.1f} |"
        )
    return lines_of(rows) + f"\n{len(frame)} points.\n"


def write_energy_figure() -> None:
    _, files = compare_run()
    for name in ("energy__nsllm-1.5b.png", "compare__nsllm-1.5b.csv"):
        if name not in files:
            raise GenerationError(f"`neurosim compare --out` wrote no {name}")
        (ROOT / "docs" / "img" / name).write_bytes(files[name])


def gen_sweep_point_key() -> str:
    """docs/sweeps.md's example commands, with the real key of one named point."""
    from neurosim.sweep import load_spec, plan_study

    spec = load_spec(ROOT / "architectures/sweeps/vck190_dram_clock_bits.yaml")
    want = {"dram_interfaces": "ddr4+lpddr4_0+lpddr4_1", "compute.clock_hz": 300e6,
            "workload.weights.bits": 2}
    keys = [t.key for t in plan_study(spec).tasks
            if all(t.params.get(k) == v for k, v in want.items())]
    if len(keys) != 1:
        raise GenerationError(f"expected one point {want}, found {len(keys)}")
    key = keys[0][:8]
    db = "results/sweeps/vck190_dram_clock_bits.db"
    return lines_of([
        "```bash",
        ".venv/bin/neurosim sweep architectures/sweeps/vck190_dram_clock_bits.yaml --dry-run"
        "   # list the points",
        ".venv/bin/neurosim sweep architectures/sweeps/vck190_dram_clock_bits.yaml"
        "             # run (resumes)",
        f".venv/bin/neurosim pareto {db} \\",
        "    --x latency_mean_s --y energy_per_token_j --color dram_interfaces",
        f".venv/bin/neurosim sweep-export {db} --csv t.csv --parquet t.parquet",
        f".venv/bin/neurosim sweep-point {db} {key} --out point/",
        "```",
        "",
        f"(`{key}` is the point with all three DRAM interfaces, a 300 MHz clock and 2-bit "
        "weights;",
        "keys are hashes of the resolved configs, so `--dry-run` lists the same keys on any "
        "machine.)",
    ])


def gen_metrics() -> str:
    """The metric table, read from the registry every result is built from."""
    from neurosim.results.metrics import METRICS

    rows = ["| metric | unit | better | meaning |", "|---|---|---|---|"]
    for m in METRICS.values():
        rows.append(f"| `{m.name}` | {m.unit or '-'} | {m.better} | {m.description} |")
    return lines_of(rows)


def gen_adc_sharing() -> str:
    """ReRAM tiles whose arrays share ADC banks: DES queueing against the analytic bound."""
    from neurosim import load_architecture, load_workload, run_system, with_overrides
    from neurosim.results.pricing import adc_count

    base = load_architecture(ROOT / "architectures/reram_cim.yaml")
    workload = load_workload(ROOT / "workloads/smollm2-135m.yaml")
    rows = ["| arrays per ADC bank | ADCs per chip | DES tokens/s | analytic tokens/s | "
            "DES mJ/token | ADC area mm2 per chip |", "|---|---|---|---|---|---|"]
    for n in (1, 2, 4, 8):
        arch = with_overrides(base, {"adc.arrays_per_bank": n})
        des, ana = (run_system(arch, workload, n_tokens=2, fidelity=f) for f in ("des", "analytic"))
        chips = des.placement["chips"]
        adc_area = des.placement.get("area_m2", {}).get("adc", float("nan")) / chips * 1e6
        adcs = adc_count(arch)
        rows.append(f"| {n} | {adcs} | {des.metrics['tokens_per_s']:.4g} | "
                    f"{ana.metrics['tokens_per_s']:.4g} | "
                    f"{1e3 * des.metrics['energy_per_token_j']:.4g} | {adc_area:.3g} |")
    return lines_of(rows)


@cache
def niai_run() -> tuple[str, dict[str, bytes]]:
    """`neurosim niai` on its default chips, the A800 and SmolLM2-135M (docs/niai.md)."""
    with tempfile.TemporaryDirectory() as out:
        text = neurosim("niai", "--out", out, "--quiet")
        files = {p.name: p.read_bytes() for p in Path(out).iterdir()}
    return text, files


def gen_niai() -> str:
    text, _ = niai_run()
    body = text.split("\n\n", 1)[1].rsplit("\nwrote ", 1)[0]
    return body.strip() + "\n"


def write_niai_figures() -> None:
    _, files = niai_run()
    for name in ("niai_scales.png", "niai_ladder.png"):
        if name not in files:
            raise GenerationError(f"`neurosim niai --out` wrote no {name}")
        (ROOT / "docs" / "img" / name).write_bytes(files[name])


@cache
def learning_run() -> tuple[str, bytes]:
    """scripts/learning_table.py: static against adaptive chips (docs/niai.md)."""
    with tempfile.TemporaryDirectory() as out:
        figure = Path(out) / "learning.png"
        text = run("scripts/learning_table.py", "--figure", str(figure))
        return text, figure.read_bytes()


def gen_learning_table() -> str:
    return lines_of(tables(learning_run()[0])[0])


def write_learning_figure() -> None:
    (ROOT / "docs" / "img" / "learning_static_vs_adaptive.png").write_bytes(learning_run()[1])
def gen_snn_example() -> str:
    """The shipped example spiking network on every neuromorphic preset."""
    from neurosim import load_architecture
    from neurosim.mapping.snn_placement import place_network
    from neurosim.simulate.snn import cost_network
    from neurosim.workload.nir_import import load_nir
    from neurosim.workload.snn_dynamics import poisson_input, simulate

    net = load_nir(ROOT / "workloads/snn/edge-cnn.nir")
    raster = simulate(net, poisson_input(net, 200.0, 100, 1e-3, 0), 100, 1e-3)
    rows = ["| preset | cores | chips | multicast | energy/timestep nJ | latency/timestep us | "
            "bottleneck |", "|---|---|---|---|---|---|---|"]
    for name in ("loihi", "loihi2", "truenorth", "spinnaker2", "brainscales2"):
        arch = load_architecture(ROOT / f"architectures/{name}.yaml")
        placement = place_network(net, arch)
        r = cost_network(arch, net, raster, placement)
        rows.append(f"| {name} | {placement.cores} | {placement.chips} | "
                    f"{arch.interconnect.multicast} | "
                    f"{1e9 * r.metrics['energy_per_timestep_j']:.4g} | "
                    f"{1e6 * r.metrics['latency_per_timestep_s']:.4g} | {r.bottleneck} |")
    spikes = int(r.metrics["spikes_total"])
    events = int(r.metrics["synaptic_events_total"])
    rows += ["", f"Same raster on every chip: {spikes:,} spikes and {events:,} synaptic events "
             "over 100 timesteps (Poisson input at 200 Hz, seed 0)."]
    return lines_of(rows)


def gen_chip_partition_table() -> str:
    """scripts/chip_partition_table.py: multi-chip presets with columns against layers."""
    return run("scripts/chip_partition_table.py")


def gen_multicast_table() -> str:
    """scripts/multicast_table.py: presets that multicast, unicast (before) against tree."""
    return run("scripts/multicast_table.py")


def gen_snn_bench() -> str:
    """scripts/bench_snn.py: the 100k-neuron, 10M-synapse network for 1,000 timesteps."""
    note = machine_note()  # the load before the run, not the run's own
    found = tables(run("scripts/bench_snn.py"))
    if not found:
        raise GenerationError("scripts/bench_snn.py printed no table")
    return lines_of(found[0]) + "\n" + note


def gen_sanafe_bench() -> str:
    """scripts/bench_sanafe.py: the head-to-head with SANA-FE, which must be importable
    (`pip install sanafe==2.2.9`, or its directory on PYTHONPATH)."""
    note = machine_note()
    text = run("scripts/bench_sanafe.py")
    found = tables(text)
    lines = text.splitlines()
    if len(found) < 2 or not lines:
        raise GenerationError(f"scripts/bench_sanafe.py printed no two tables:\n{text[:1500]}")
    notes = [line for line in lines if line.startswith("neurosim spikes per population")]
    return lines_of([lines[0], "", *found[0], "", *notes, "", *found[1]]) + "\n" + note


def gen_gpu_validation() -> str:
    return run("scripts/gpu_validation.py")


def gen_accelerator_validation() -> str:
    return run("scripts/accelerator_validation.py")


def gen_gpu_modes() -> str:
    return run("scripts/gpu_validation.py", "--modes")


def gen_fidelity_table() -> str:
    return lines_of(tables(run("scripts/fidelity_table.py", "--tokens", "2"))[0])


@dataclass(frozen=True)
class Generator:
    render: Callable[[], str]
    timing: bool = False  # machine-dependent: --check verifies presence and structure only
    slow: bool = False  # --check runs it only with --all
    figures: Callable[[], None] | None = None  # writes PNGs/CSVs on --write


GENERATORS: dict[str, Generator] = {
    "default-run": Generator(gen_default_run),
    "default-run-facts": Generator(gen_default_run_facts),
    "sensitivity": Generator(gen_sensitivity),
    "fpga-resources": Generator(gen_fpga_resources),
    "fpga-power": Generator(gen_fpga_power),
    "fpga-devices": Generator(gen_fpga_devices),
    "precision-study": Generator(gen_precision_study),
    "compare": Generator(gen_compare, figures=write_energy_figure),
    "nsllm-ratios": Generator(gen_ratios),
    "capacity": Generator(gen_capacity),
    "trace-stats": Generator(gen_trace_stats),
    "trace-report": Generator(gen_trace_report),
    "sweep-point-key": Generator(gen_sweep_point_key),
    "metrics": Generator(gen_metrics),
    "adc-sharing": Generator(gen_adc_sharing),
    "niai": Generator(gen_niai, figures=write_niai_figures),
    "learning-table": Generator(gen_learning_table, figures=write_learning_figure),
    "timeline-noc": Generator(gen_timeline_noc, figures=write_timeline_figures),
    "timeline-bench": Generator(gen_timeline_bench, timing=True, slow=True),
    "timeline-snn": Generator(gen_timeline_snn, figures=write_snn_timeline_figures),
    "fidelity-table": Generator(gen_fidelity_table, slow=True),
    "snn-example": Generator(gen_snn_example),
    "multicast-table": Generator(gen_multicast_table),
    "chip-partition-table": Generator(gen_chip_partition_table, slow=True),
    "gpu-validation": Generator(gen_gpu_validation),
    "gpu-modes": Generator(gen_gpu_modes),
    "accelerator-validation": Generator(gen_accelerator_validation),
    "benchmark": Generator(gen_benchmark, timing=True, slow=True),
    "snn-bench": Generator(gen_snn_bench, timing=True, slow=True),
    "sanafe-bench": Generator(gen_sanafe_bench, timing=True, slow=True),
    "mixer-presets": Generator(gen_mixer_presets),
    "context-curve": Generator(gen_attention_curve("context"), figures=attention_figure("context")),
    "batch-curve": Generator(gen_attention_curve("batch"), figures=attention_figure("batch")),
    "prefill-curve": Generator(gen_attention_curve("prefill"), figures=attention_figure("prefill")),
    "benchmark-steps": Generator(gen_benchmark_steps, timing=True, slow=True),
    "sweep-bench": Generator(gen_sweep_bench, timing=True, slow=True),
    "extract-bench": Generator(gen_extract_bench, timing=True, slow=True),
    "accuracy-bench": Generator(gen_accuracy_bench, timing=True, slow=True),
    "trace-codings": Generator(gen_codings, slow=True),
    "site-sensitivity": Generator(gen_site_sensitivity, slow=True),
    "level-choice": Generator(gen_level_choice, slow=True),
    "sweep-reram-front": Generator(gen_reram_front, slow=True, figures=pareto_figure(
        "reram_adc_crossbar", "--x", "latency_mean_s", "--y", "energy_per_token_j", "--z",
        "area_m2", "--label", "compute.cols", "adc.count", "adc.bits")),
    "sweep-reram-accuracy-front": Generator(gen_reram_accuracy_front, slow=True),
    "sweep-pcm-accuracy-front": Generator(gen_pcm_accuracy_front, slow=True),
    "sweep-run-options": Generator(gen_run_options),
    "sweep-batch-prompt": Generator(gen_sweep_batch_prompt, figures=pareto_figure(
        "batch_prompt_vck190_vs_a800", "--x", "time_per_output_token_s", "--y",
        "decode_tokens_per_s", "--color", "run.batch", "--label", "run.batch")),
    "sweep-vck190-front": Generator(gen_vck190_front, slow=True, figures=pareto_figure(
        "vck190_dram_clock_bits", "--x", "latency_mean_s", "--y", "energy_per_token_j",
        "--color", "dram_interfaces", "--label", "compute.clock_hz", "workload.weights.bits")),
}


# ---------------------------------------------------------------- comparing and rewriting


def numbers(text: str) -> list[float]:
    return [float(m.group().replace(",", "")) for m in NUMBER.finditer(text)]


def skeleton(text: str) -> str:
    """`text` with every number replaced by '#' and runs of spaces by one: what must match
    exactly (column padding follows the numbers' widths)."""
    return "\n".join(" ".join(line.split()) for line in NUMBER.sub("#", text).splitlines())


def differences(committed: str, fresh: str, rel_tol: float = REL_TOL) -> list[str]:
    """Why `committed` is stale against `fresh` (empty if it is not)."""
    if skeleton(committed) != skeleton(fresh):
        old = skeleton(committed).splitlines()
        new = skeleton(fresh).splitlines()
        where = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b),
                     min(len(old), len(new)))
        return [f"text differs at line {where + 1}: "
                f"{(committed.splitlines() + [''])[where]!r} -> "
                f"{(fresh.splitlines() + [''])[where]!r}"]
    out = []
    for a, b in zip(numbers(committed), numbers(fresh), strict=True):
        if not math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-12):
            out.append(f"{a:g} -> {b:g}")
    return out


def well_formed_timing(body: str) -> list[str]:
    problems = []
    if not tables(body):
        problems.append("no table")
    if MACHINE_LINE not in body:
        problems.append(f"no '{MACHINE_LINE} ...' line naming the machine")
    return problems


def find_blocks(docs: list[Path]) -> dict[str, list[tuple[Path, str]]]:
    """Block ID -> every (file, committed body) where it appears."""
    found: dict[str, list[tuple[Path, str]]] = {}
    for doc in docs:
        for m in BLOCK.finditer(doc.read_text()):
            found.setdefault(m["id"], []).append((doc, m["body"]))
    return found


def rewrite(doc: Path, fresh: dict[str, str]) -> bool:
    text = doc.read_text()
    new = BLOCK.sub(lambda m: (f"<!-- generated:{m['id']} -->\n{fresh[m['id']]}"
                               f"<!-- /generated:{m['id']} -->") if m["id"] in fresh
                    else m.group(), text)
    if new != text:
        doc.write_text(new)
    return new != text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite blocks and figures")
    mode.add_argument("--check", action="store_true", help="list stale blocks, exit 1")
    mode.add_argument("--list", action="store_true", help="list block IDs and where they are")
    ap.add_argument("--all", action="store_true", help="include the slow blocks")
    ap.add_argument("--only", nargs="+", metavar="ID", help="only these block IDs")
    args = ap.parse_args(argv)

    found = find_blocks(DOCS)
    problems: list[str] = []
    for block_id in sorted(set(found) - set(GENERATORS)):
        where = ", ".join(str(p.relative_to(ROOT)) for p, _ in found[block_id])
        problems.append(f"{where}: block {block_id!r} has no generator "
                        f"(known: {', '.join(GENERATORS)})")
    for block_id in sorted(set(GENERATORS) - set(found)):
        problems.append(f"block {block_id!r} appears in no document (README.md, docs/*.md)")
    if args.only:
        unknown = sorted(set(args.only) - set(GENERATORS))
        if unknown:
            print(f"--only: unknown block IDs {unknown}; known: {', '.join(GENERATORS)}",
                  file=sys.stderr)
            return 2
    if args.list:
        for block_id, gen in GENERATORS.items():
            where = ", ".join(str(p.relative_to(ROOT)) for p, _ in found.get(block_id, []))
            flags = " ".join(f for f, on in (("timing", gen.timing), ("slow", gen.slow)) if on)
            print(f"{block_id:<20} {flags:<12} {where or '(missing)'}")
        return 1 if problems else 0

    selected = [b for b in GENERATORS if (not args.only or b in args.only) and b in found]
    fresh: dict[str, str] = {}
    skipped: list[str] = []
    for block_id in selected:
        gen = GENERATORS[block_id]
        if args.check and gen.timing:
            for doc, body in found[block_id]:
                for p in well_formed_timing(body):
                    problems.append(f"{doc.relative_to(ROOT)}: timing block {block_id!r}: {p}")
            continue
        if gen.slow and not args.all:
            skipped.append(block_id)
            continue
        print(f"running {block_id} ...", file=sys.stderr, flush=True)
        try:
            fresh[block_id] = gen.render()
            if args.write and gen.figures:
                gen.figures()
        except GenerationError as err:
            problems.append(f"block {block_id!r}: {err}")
            continue
        if args.check:
            for doc, body in found[block_id]:
                diff = differences(body, fresh[block_id])
                if diff:
                    shown = "; ".join(diff[:6]) + (f"; ... {len(diff) - 6} more"
                                                   if len(diff) > 6 else "")
                    problems.append(f"{doc.relative_to(ROOT)}: block {block_id!r} is stale: "
                                    f"{shown}")
    if args.write:
        for doc in DOCS:
            if rewrite(doc, fresh):
                print(f"rewrote {doc.relative_to(ROOT)}", file=sys.stderr)
    if skipped:
        print(f"slow blocks not run (use --all): {', '.join(skipped)}", file=sys.stderr)
    for p in problems:
        print(p, file=sys.stderr)
    if args.check and not problems:
        print(f"{len(fresh)} blocks up to date (relative tolerance {REL_TOL:g})",
              file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
