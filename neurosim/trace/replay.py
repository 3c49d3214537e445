"""Replay a spike trace in the simulator: a checked `SpikeSource`, and a matching workload.

`TraceSpikeSource(reader, graph)` first checks that the trace and the model graph
describe the same model (same site instances in the same order, same widths, same
levels L and coding scheme) and then yields one `TokenSpikes` per traced token,
decoding one chunk at a time. `workload_for_trace` returns a workload whose per-site
levels and coding scheme are taken from the trace, so a trace extracted at other
levels can be replayed on an otherwise identical model description.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from neurosim.config.workload import Workload
from neurosim.errors import TraceError
from neurosim.workload.model import ModelGraph
from neurosim.workload.spikes import TokenSpikes

_MAX_LISTED = 5


def _mismatches(reader, graph: ModelGraph) -> list[str]:
    wl = graph.workload.name
    groups = graph.groups
    problems: list[str] = []
    if len(groups) != len(reader.sites):
        problems.append(
            f"the trace has {len(reader.sites)} site instances, workload '{wl}' has "
            f"{len(groups)} ({graph.workload.blocks.count} blocks x "
            f"{len(graph.workload.blocks.sites)} sites + head)"
        )
    for group, site in zip(groups, reader.sites, strict=False):
        name = site["name"]
        if name != group.name:
            problems.append(
                f"site #{group.index} is '{name}' in the trace, '{group.name}' in '{wl}'"
            )
            continue
        if int(site["width"]) != group.width:
            problems.append(
                f"site '{name}' has width {site['width']} in the trace, {group.width} in '{wl}'"
            )
        if int(site["levels"]) != group.levels:
            problems.append(
                f"site '{name}' has L = {site['levels']} in the trace, {group.levels} in '{wl}'"
            )
    scheme = graph.workload.coding.scheme
    if reader.scheme != scheme:
        problems.append(f"the trace uses {reader.scheme} coding, workload '{wl}' uses {scheme}")
    return problems


def check_trace_matches(reader, graph: ModelGraph) -> None:
    """Raise TraceError listing how the trace and the model graph disagree (if they do)."""
    problems = _mismatches(reader, graph)
    if problems:
        shown = problems[:_MAX_LISTED]
        more = len(problems) - len(shown)
        tail = f"\n  ... and {more} more" if more else ""
        raise TraceError(
            f"trace {reader.path} ({reader.model_name}) does not match workload "
            f"'{graph.workload.name}':\n  " + "\n  ".join(shown) + tail
        )


class TraceSpikeSource:
    """Spike counts of a recorded trace, token by token, for `simulate(..., source=...)`."""

    def __init__(self, reader, graph: ModelGraph) -> None:
        check_trace_matches(reader, graph)
        self.reader = reader
        self.graph = graph
        self._limit = np.repeat(np.array(reader.levels, dtype=np.int64), reader.widths)

    @property
    def label(self) -> str:
        """What the spikes are, for the result's config hash: the trace file and size."""
        path = Path(self.reader.path)
        return f"trace:{path.name}:{path.stat().st_size}B"

    @property
    def n_tokens(self) -> int:
        """Tokens the trace holds."""
        return self.reader.n_tokens

    def tokens(self, n_tokens: int) -> Iterator[TokenSpikes]:
        """Yield the first `n_tokens` traced tokens (TraceError if the trace is shorter)."""
        if n_tokens > self.reader.n_tokens:
            raise TraceError(
                f"trace {self.reader.path} holds {self.reader.n_tokens} tokens; "
                f"{n_tokens} were requested"
            )
        produced = 0
        for chunk in self.reader.chunks():
            bad = chunk.counts.max(axis=0) >= self._limit
            if np.any(bad):
                neuron = int(np.flatnonzero(bad)[0])
                site = int(np.searchsorted(self.reader.bounds, neuron, side="right") - 1)
                raise TraceError(
                    f"trace {self.reader.path}, chunk {chunk.index}: site "
                    f"'{self.reader.site_names[site]}' has a count >= "
                    f"L = {self.reader.levels[site]}"
                )
            for row in range(chunk.counts.shape[0]):
                if produced >= n_tokens:
                    return
                yield TokenSpikes(
                    position=chunk.first + row,
                    token_id=int(chunk.token_ids[row]),
                    counts=self.reader.split(chunk.counts[row]),
                )
                produced += 1


def block_levels(reader) -> tuple[dict[str, int], list[dict]]:
    """The trace's levels as a workload states them: one L per site type (the one most
    blocks use; the head's for 'head') and `blocks.overrides` entries for runs of
    consecutive blocks that differ ({blocks: '0-3', sites: {attn_in: {levels: 32}}})."""
    per_block: dict[str, dict[int, int]] = {}
    levels: dict[str, int] = {}
    for site in reader.sites:
        kind, lv, block = site["site"], int(site["levels"]), site.get("block")
        if block is None:
            levels[kind] = lv
        else:
            per_block.setdefault(kind, {})[int(block)] = lv
    ranges: dict[tuple[int, int], dict[str, dict]] = {}
    for kind, by_block in per_block.items():
        values = list(by_block.values())
        common = max(values, key=lambda v: (values.count(v), -values.index(v)))
        levels[kind] = common
        run: list[int] = []
        for block in [*sorted(by_block), None]:
            lv = by_block.get(block) if block is not None else None
            if run and (lv != by_block[run[0]] or block != run[-1] + 1):
                if by_block[run[0]] != common:
                    ranges.setdefault((run[0], run[-1]), {})[kind] = {"levels": by_block[run[0]]}
                run = []
            if block is not None:
                run.append(block)
    overrides = [
        {"blocks": f"{first}-{last}" if last > first else str(first), "sites": sites}
        for (first, last), sites in sorted(ranges.items())
    ]
    return levels, overrides


def workload_for_trace(reader, workload: Workload) -> Workload:
    """A copy of `workload` with each site's levels and the coding scheme from the trace;
    levels that differ between blocks become `blocks.overrides`."""
    levels, overrides = block_levels(reader)
    data = workload.model_dump(mode="python")
    for kind, lv in levels.items():
        if kind == "head":
            data["head"]["site"]["levels"] = lv
        elif kind in data["blocks"]["sites"]:
            data["blocks"]["sites"][kind]["levels"] = lv
        else:
            raise TraceError(
                f"trace {reader.path} has site type '{kind}', which workload "
                f"'{workload.name}' does not have"
            )
    data["blocks"]["overrides"] = overrides
    data["coding"]["scheme"] = reader.scheme
    return Workload.model_validate(data)


def levels_workload_text(reader, base: Workload, base_path: Path, out_path: Path) -> str:
    """A workload file that extends `base_path` with the trace's levels (per site type and
    per block range) and coding scheme; `base` (that file, loaded) must match the trace's
    sites. Returns the YAML text."""
    import os

    import yaml

    workload_for_trace(reader, base)  # the trace's sites fit the base workload
    levels, overrides = block_levels(reader)
    source = Path(reader.path).name
    choice = reader.header.get("levels_choice", {})
    how = (
        f"chosen by trace extract --levels auto for a budget of {choice['budget_bits']} bits"
        if choice.get("mode") == "auto"
        else "given to trace extract"
    )
    doc: dict = {
        "extends": os.path.relpath(Path(base_path).resolve(), Path(out_path).resolve().parent),
        "name": f"{base.name}-{Path(reader.path).stem}",
        "description": f"{base.name} at the spike levels of trace {source}",
        "blocks": {"sites": {k: {"levels": v} for k, v in levels.items() if k != "head"}},
        "coding": {"scheme": reader.scheme},
        "provenance": {
            "blocks.sites": f"levels {how} (trace {source})",
            "coding.scheme": f"the coding of trace {source}",
        },
    }
    if overrides:
        doc["blocks"]["overrides"] = overrides
        doc["provenance"]["blocks.overrides"] = f"per-block-range levels {how} (trace {source})"
    if "head" in levels:
        doc["head"] = {"site": {"levels": levels["head"]}}
        doc["provenance"]["head.site.levels"] = f"levels {how} (trace {source})"
    header = f"# Written by `neurosim trace extract --workload-out` from {source}.\n"
    return header + yaml.safe_dump(doc, sort_keys=False, width=100)


def workload_dict_from_trace(
    reader,
    *,
    name: str,
    weight_bits: int,
    zero_fraction: float,
    linear_attention: dict | None = None,
    norms: int = 2,
    tied_embeddings: bool = True,
    synthetic: dict[str, dict] | None = None,
    provenance: dict[str, str] | None = None,
    description: str = "",
) -> dict:
    """A workload description (plain data, ready for YAML) of the model a trace came from.

    Sites, widths, levels, linears and the head come from the trace header; the rest is
    what a trace cannot know. `synthetic` maps site types to fitted firing statistics
    (`fit_synthetic_stats`); the first block site type's values also fill `default`.
    """
    sites: dict[str, dict] = {}
    linears: list[dict] = []
    common, overrides = block_levels(reader)
    blocks = sorted({s["block"] for s in reader.sites if s.get("block") is not None})
    head = None
    for s in reader.sites:
        if s["site"] == "head":
            head = s
            continue
        if s.get("block") != blocks[0]:
            continue
        sites[s["site"]] = {"width": int(s["width"]), "levels": common[s["site"]]}
        linears += [{"name": n, "site": s["site"], "out": int(o)} for n, o in s["linears"]]
    if head is None:
        raise TraceError(f"trace {reader.path} has no 'head' site")
    vocab = int(head["linears"][0][1])
    stats = synthetic or {}
    first = next(
        iter(stats.values()),
        {"silent_fraction": 0.5, "mean_active_count": 2.0, "neuron_spread": 0.5},
    )
    data = {
        "name": name,
        "description": description
        or f"{reader.model_name}, described from trace {reader.path.name}",
        "embedding": {"vocab": vocab, "dim": int(head["width"]), "tied_to_head": tied_embeddings},
        "blocks": {
            "count": len(blocks),
            "sites": sites,
            "linears": linears,
            "linear_attention": linear_attention,
            "norms": norms,
        },
        "head": {
            "site": {"width": int(head["width"]), "levels": int(head["levels"])},
            "out": vocab,
        },
        "weights": {"bits": weight_bits, "zero_fraction": zero_fraction},
        "coding": {"scheme": reader.scheme, "signed": reader.signed},
        "spikes": {"kind": "synthetic", "synthetic": {"default": dict(first), "sites": stats}},
        "provenance": provenance or {"all": f"derived from trace {reader.path.name}"},
    }
    if linear_attention is None:
        del data["blocks"]["linear_attention"]
    if overrides:
        data["blocks"]["overrides"] = overrides
    return data


def header_for_graph(
    graph: ModelGraph,
    *,
    model: str,
    source: str = "hand-made",
    text: str = "none",
    signed: bool = True,
    codec: str = "zlib",
    chunk_tokens: int = 64,
) -> dict:
    """A trace header describing `graph`'s sites, for traces written without a model.

    With it, counts from any producer (another framework, a hand-made test case) can
    be written with `TraceWriter` and replayed on the workload the graph came from.
    """
    wl = graph.workload
    sites = []
    for g in graph.groups:
        block = None if g.site == "head" else int(g.name.split(".")[0][1:])
        sites.append(
            {
                "name": g.name,
                "site": g.site,
                "block": block,
                "width": g.width,
                "levels": g.levels,
                "timesteps": g.timesteps,
                "linears": [[lin.name.split(".")[-1], lin.out_features] for lin in g.linears],
            }
        )
    return {
        "model": {
            "name": model,
            "family": "workload",
            "source": source,
            "blocks": wl.blocks.count,
            "hidden": wl.embedding.dim,
            "vocab": wl.head.out,
        },
        "sites": sites,
        "coding": {"scheme": wl.coding.scheme, "signed": signed, "threshold": "given"},
        "text": {"source": text},
        "codec": codec,
        "chunk_tokens": chunk_tokens,
    }
