"""The trace file format: round trips, streaming, and a clear TraceError for every bad file."""

from __future__ import annotations

import json
import struct
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest

from neurosim.cli.app import main as trace_main
from neurosim.cli.trace import run_trace_command
from neurosim.errors import TraceError
from neurosim.trace import open_trace
from neurosim.trace.format import FORMAT, MAGIC, TraceWriter
from neurosim.trace.replay import header_for_graph
from neurosim.workload.model import build_model_graph


def _counts(graph, n_tokens: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cols = [rng.integers(0, g.levels, size=(n_tokens, g.width)) for g in graph.groups]
    return np.concatenate(cols, axis=1).astype(np.uint16)


def write_hand_trace(path: Path, graph, counts: np.ndarray, **kw) -> Path:
    """A trace of given counts for `graph` (signs alternate; thresholds 1)."""
    header = header_for_graph(graph, model="hand-made", **kw)
    n, width = counts.shape
    scales = [np.ones(g.width, np.float32) for g in graph.groups]
    with TraceWriter(path, header, scales) as w:
        neg = (np.arange(width)[None, :] % 2 == 1) & (counts > 0)
        w.add(np.arange(n), counts, neg, np.ones((n, len(graph.groups)), np.float32))
        w.close({"note": "test"})
    return path


@pytest.fixture()
def tiny_graph(tiny_workload):
    return build_model_graph(tiny_workload)


@pytest.fixture()
def trace_file(tmp_path, tiny_graph) -> tuple[Path, np.ndarray]:
    counts = _counts(tiny_graph, 150)
    return write_hand_trace(tmp_path / "t.nstrace", tiny_graph, counts, chunk_tokens=64), counts


def test_round_trip_in_chunks(trace_file, tiny_graph) -> None:
    path, counts = trace_file
    r = open_trace(path)
    assert r.header["format"] == FORMAT and r.header["version"] == 1
    assert r.n_tokens == 150 and [c[2] for c in r.chunk_index] == [64, 64, 22]
    assert r.site_names == [g.name for g in tiny_graph.groups]
    assert r.footer["note"] == "test"
    got = np.concatenate([c.counts for c in r.chunks()])
    assert np.array_equal(got, counts)
    neg = np.concatenate([c.negative for c in r.chunks()])
    assert np.array_equal(neg, (np.arange(counts.shape[1])[None, :] % 2 == 1) & (counts > 0))
    sums = r.footer["count_sums"]
    for i, g in enumerate(tiny_graph.groups):
        assert sums[g.name] == int(counts[:, r.bounds[i] : r.bounds[i + 1]].sum())
    assert r.verify() == 150


def test_source_replays_tokens_in_group_order(trace_file, tiny_graph) -> None:
    path, counts = trace_file
    src = open_trace(path).source_for(tiny_graph)
    toks = list(src.tokens(70))
    assert [t.position for t in toks] == list(range(70))
    assert toks[5].token_id == 5
    assert len(toks[0].counts) == len(tiny_graph.groups)
    for g, c in zip(tiny_graph.groups, toks[69].counts, strict=True):
        assert c.size == g.width
    assert np.array_equal(np.concatenate(toks[69].counts), counts[69])


def test_lzma_codec_and_unsigned(tmp_path, tiny_graph) -> None:
    counts = _counts(tiny_graph, 10, seed=3)
    header = header_for_graph(tiny_graph, model="m", codec="lzma", signed=False)
    scales = [np.ones(g.width, np.float32) for g in tiny_graph.groups]
    with TraceWriter(tmp_path / "u.nstrace", header, scales) as w:
        w.add(np.arange(10), counts, None, np.ones((10, len(tiny_graph.groups))))
        w.close()
    r = open_trace(tmp_path / "u.nstrace")
    chunk = next(r.chunks())
    assert chunk.negative is None and np.array_equal(chunk.counts, counts)


def test_wide_levels_are_stored_exactly(tmp_path, tiny_workload, make_variant) -> None:
    wl = make_variant(tiny_workload, {"blocks.sites.mlp_act.levels": 1000})
    graph = build_model_graph(wl)
    counts = _counts(graph, 5)
    r = open_trace(write_hand_trace(tmp_path / "w.nstrace", graph, counts))
    assert r.header["count_bits"] == 16
    assert np.array_equal(next(r.chunks()).counts, counts)


# ----------------------------------------------------------------------------- bad files


def _stats_exit(path: Path, capsys) -> tuple[int, str]:
    code = trace_main(["trace", "stats", str(path)])
    return code, capsys.readouterr().err


def test_truncated_file(trace_file, tmp_path, capsys) -> None:
    path, _ = trace_file
    data = path.read_bytes()
    for cut in (len(data) - 3, len(data) // 2, 20, 4):
        bad = tmp_path / f"cut{cut}.nstrace"
        bad.write_bytes(data[:cut])
        with pytest.raises(TraceError, match="truncated|not a neurosim"):
            open_trace(bad)
    code, err = _stats_exit(tmp_path / f"cut{len(data) // 2}.nstrace", capsys)
    assert code == 3 and err.startswith("error: ") and "truncated" in err
    assert "Traceback" not in err


def test_partial_file_is_never_left_in_place(tmp_path, tiny_graph) -> None:
    header = header_for_graph(tiny_graph, model="m")
    scales = [np.ones(g.width, np.float32) for g in tiny_graph.groups]
    with pytest.raises(RuntimeError), TraceWriter(tmp_path / "p.nstrace", header, scales) as w:
        w.add(
            np.arange(3),
            _counts(tiny_graph, 3),
            np.zeros((3, w.total_width), bool),
            np.ones((3, 9)),
        )
        raise RuntimeError("interrupted")
    assert not (tmp_path / "p.nstrace").exists()
    assert not (tmp_path / "p.nstrace.partial").exists()


def _rewrite_header(path: Path, out: Path, change) -> Path:
    data = path.read_bytes()
    pos = len(MAGIC)
    tag, length, crc = struct.unpack_from("<4sQI", data, pos)
    header = json.loads(data[pos + 16 : pos + 16 + length])
    change(header)
    payload = json.dumps(header).encode()
    import zlib

    frame = struct.pack("<4sQI", tag, len(payload), zlib.crc32(payload)) + payload
    rest = data[pos + 16 + length :]
    shift = len(frame) - (16 + length)
    # the end record points at the footer: move it by the size change
    offset, end = struct.unpack("<Q8s", rest[-16:])
    rest = rest[:-16] + struct.pack("<Q8s", offset + shift, end)
    body = data[:pos] + frame + rest
    footer_at = offset + shift
    t, ln, c = struct.unpack_from("<4sQI", body, footer_at)
    footer = json.loads(body[footer_at + 16 : footer_at + 16 + ln])
    footer["chunks"] = [[o + shift, f, n] for o, f, n in footer["chunks"]]
    fp = json.dumps(footer).encode()
    body = body[:footer_at] + struct.pack("<4sQI", t, len(fp), zlib.crc32(fp)) + fp
    body += struct.pack("<Q8s", footer_at, end)
    out.write_bytes(body)
    return out


def test_wrong_version(trace_file, tmp_path, capsys) -> None:
    path, _ = trace_file
    bad = _rewrite_header(path, tmp_path / "v2.nstrace", lambda h: h.update(version=2))
    with pytest.raises(TraceError, match="version 2 is not supported"):
        open_trace(bad)
    code, err = _stats_exit(bad, capsys)
    assert code == 3 and "version" in err


def test_rewritten_header_still_reads(trace_file, tmp_path) -> None:
    path, counts = trace_file
    same = _rewrite_header(path, tmp_path / "same.nstrace", lambda h: h.update(note="x" * 50))
    r = open_trace(same)
    assert np.array_equal(np.concatenate([c.counts for c in r.chunks()]), counts)


def test_bad_magic_and_missing_file(tmp_path) -> None:
    junk = tmp_path / "junk.nstrace"
    junk.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(TraceError, match="not a neurosim spike trace"):
        open_trace(junk)
    with pytest.raises(TraceError, match="cannot read trace"):
        open_trace(tmp_path / "missing.nstrace")


def test_corrupted_chunk_names_the_chunk(trace_file, tmp_path, capsys) -> None:
    path, _ = trace_file
    r = open_trace(path)
    offset = r.chunk_index[1][0]
    data = bytearray(path.read_bytes())
    data[offset + 16 + 40] ^= 0xFF  # a byte inside chunk 1's compressed payload
    bad = tmp_path / "corrupt.nstrace"
    bad.write_bytes(bytes(data))
    reader = open_trace(bad)  # header and footer are intact
    with pytest.raises(TraceError, match=r"chunk 1 \(tokens 64\.\.127\) is corrupted"):
        reader.verify()
    chunks = reader.chunks()
    next(chunks)  # chunk 0 still reads
    with pytest.raises(TraceError, match="chunk 1"):
        next(chunks)
    code, err = _stats_exit(bad, capsys)
    assert code == 3 and "chunk 1" in err and "Traceback" not in err


def test_corrupted_footer(trace_file, tmp_path) -> None:
    path, _ = trace_file
    data = bytearray(path.read_bytes())
    data[-30] ^= 0x55
    bad = tmp_path / "foot.nstrace"
    bad.write_bytes(bytes(data))
    with pytest.raises(TraceError, match="footer"):
        open_trace(bad)


# ----------------------------------------------------------------------------- model mismatch


def test_mismatched_workload_is_named(trace_file, tiny_workload, make_variant) -> None:
    path, _ = trace_file
    r = open_trace(path)
    wider = make_variant(tiny_workload, {"blocks.sites.mlp_act.width": 80})
    with pytest.raises(TraceError, match=r"site 'b00.mlp_act' has width 64 in the trace, 80"):
        r.source_for(build_model_graph(wider))
    finer = make_variant(tiny_workload, {"blocks.sites.attn_ctx.levels": 16})
    with pytest.raises(TraceError, match=r"'b00.attn_ctx' has L = 4 in the trace, 16"):
        r.source_for(build_model_graph(finer))
    deeper = make_variant(tiny_workload, {"blocks.count": 3})
    with pytest.raises(TraceError, match="9 site instances, workload .* has 13"):
        r.source_for(build_model_graph(deeper))
    bitwise = make_variant(tiny_workload, {"coding.scheme": "bitwise"})
    with pytest.raises(TraceError, match="binary coding"):
        r.source_for(build_model_graph(bitwise))


def test_workload_for_trace_adopts_levels(trace_file, tiny_workload, make_variant) -> None:
    path, _ = trace_file
    finer = make_variant(tiny_workload, {"blocks.sites.attn_ctx.levels": 16})
    adopted = open_trace(path).workload_for(finer)
    assert adopted.blocks.sites["attn_ctx"].levels == 4
    open_trace(path).source_for(build_model_graph(adopted))  # no error


def test_too_many_tokens_and_counts_above_levels(trace_file, tiny_graph, tmp_path) -> None:
    path, _ = trace_file
    src = open_trace(path).source_for(tiny_graph)
    with pytest.raises(TraceError, match="holds 150 tokens; 151 were requested"):
        list(src.tokens(151))
    header = header_for_graph(tiny_graph, model="m")
    scales = [np.ones(g.width, np.float32) for g in tiny_graph.groups]
    counts = _counts(tiny_graph, 2)
    counts[0, 0] = 8  # b00.attn_in has L = 8
    with (
        pytest.raises(TraceError, match="not below"),
        TraceWriter(tmp_path / "x.nstrace", header, scales) as w,
    ):
        w.add(np.arange(2), counts, counts > 0, np.ones((2, 9)))


def test_stats_on_a_missing_file(tmp_path, capsys) -> None:
    args = Namespace(
        trace_command="stats",
        file=tmp_path / "nope.nstrace",
        plots=None,
        csv=None,
        sites=False,
        max_tokens=None,
        block=0,
    )
    with pytest.raises(TraceError):
        run_trace_command(args)
    code, err = _stats_exit(tmp_path / "nope.nstrace", capsys)  # checked while parsing
    assert code == 2 and err.startswith("error: ") and "nope.nstrace: file not found" in err
