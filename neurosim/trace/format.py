"""The spike-trace file format: a versioned, self-describing, compressed, streamable container.

Layout (all integers little-endian)::

    b"NSTRACE\\0"                                       8-byte magic
    frame HEAD   JSON header (format, version, model, sites, coding, text source)
    frame SCAL   zlib float32: every site's per-neuron threshold factor g, in site order
    frame CHNK   one per chunk of up to `chunk_tokens` tokens, compressed with `codec`
    ...
    frame TAIL   JSON footer: token count, chunk index, spike totals, accuracy, notes
    uint64 offset of the TAIL frame, then b"NSTREND\\0"

A frame is a 4-byte tag, a uint64 payload length, the payload's CRC-32 (uint32) and the
payload. A chunk payload holds, for n tokens: a (first_token uint64, n uint32) prefix,
the token ids (int32), the per-token threshold factors a_t of every site (float32,
n x sites), the magnitude counts of all sites side by side in site order (n x total
width; 4-bit nibbles when every L <= 16, else uint8 or uint16) and, when the trace is
signed, one sign bit per non-zero count (numpy packbits). Activation i of site s at
token t decodes as sign * count * a_t * g_i.

Readers decompress one chunk at a time, so memory stays bounded for any token count.
A truncated file (no end record), a wrong magic or version, a bad checksum or a
malformed chunk raises `TraceError` naming the problem. The writer writes to
`<path>.partial` and renames on close, so an interrupted extraction never leaves a
file that looks complete.
"""

from __future__ import annotations

import json
import lzma
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurosim import __version__
from neurosim.errors import TraceError

FORMAT = "neurosim-spike-trace"
VERSION = 1
MAGIC = b"NSTRACE\x00"
END_MAGIC = b"NSTREND\x00"
CODECS = ("zlib", "lzma")
_FRAME = struct.Struct("<4sQI")
_END = struct.Struct("<Q8s")
_CHUNK = struct.Struct("<QI")
REQUIRED_HEADER_KEYS = ("format", "version", "model", "sites", "coding", "text", "codec")


def count_bits_for(levels: list[int]) -> int:
    """Bits per stored count: 4 when every L <= 16, 8 when <= 256, else 16."""
    top = max(levels)
    return 4 if top <= 16 else 8 if top <= 256 else 16


def _compress(codec: str, data: bytes) -> bytes:
    if codec == "zlib":
        return zlib.compress(data, 6)
    if codec == "lzma":
        return lzma.compress(data, preset=6)
    raise TraceError(f"unknown codec {codec!r}; known: {', '.join(CODECS)}")


def _decompress(codec: str, data: bytes) -> bytes:
    if codec == "zlib":
        return zlib.decompress(data)
    if codec == "lzma":
        return lzma.decompress(data)
    raise TraceError(f"unknown codec {codec!r}; known: {', '.join(CODECS)}")


def _pack_counts(mags: np.ndarray, bits: int) -> bytes:
    if bits == 4:
        flat = mags.astype(np.uint8).ravel()
        if flat.size % 2:
            flat = np.concatenate([flat, np.zeros(1, np.uint8)])
        return ((flat[0::2] << 4) | flat[1::2]).tobytes()
    return mags.astype(np.uint8 if bits == 8 else np.dtype("<u2")).tobytes()


def _unpack_counts(buf: bytes, n: int, width: int, bits: int) -> np.ndarray:
    total = n * width
    if bits == 4:
        packed = np.frombuffer(buf, dtype=np.uint8)
        if packed.size != (total + 1) // 2:
            raise ValueError("count block has the wrong size")
        flat = np.empty(packed.size * 2, dtype=np.uint16)
        flat[0::2] = packed >> 4
        flat[1::2] = packed & 0x0F
        return flat[:total].reshape(n, width)
    dtype = np.uint8 if bits == 8 else np.dtype("<u2")
    arr = np.frombuffer(buf, dtype=dtype)
    if arr.size != total:
        raise ValueError("count block has the wrong size")
    return arr.astype(np.uint16).reshape(n, width)


def _write_frame(f, tag: bytes, payload: bytes) -> int:
    offset = f.tell()
    f.write(_FRAME.pack(tag, len(payload), zlib.crc32(payload)))
    f.write(payload)
    return offset


@dataclass(frozen=True)
class Chunk:
    """Decoded chunk: tokens first..first+n-1 of the trace."""

    index: int
    first: int
    token_ids: np.ndarray  # (n,) int32
    token_scale: np.ndarray  # (n, sites) float32
    counts: np.ndarray  # (n, total width) uint16
    negative: np.ndarray | None  # (n, total width) bool, None for unsigned traces


class TraceWriter:
    """Write a trace: header and thresholds first, then chunks as tokens arrive, footer last.

    As a context manager it closes (footer, rename into place) on normal exit and
    removes the partial file when an exception escapes.
    """

    def __init__(self, path: str | Path, header: dict, neuron_scales: list[np.ndarray]) -> None:
        self.path = Path(path)
        self.header = dict(header)
        self.header.setdefault("format", FORMAT)
        self.header.setdefault("version", VERSION)
        self.header.setdefault("created_by", f"neurosim {__version__}")
        for key in REQUIRED_HEADER_KEYS:
            if key not in self.header:
                raise TraceError(f"trace header lacks '{key}'")
        sites = self.header["sites"]
        self.widths = [int(s["width"]) for s in sites]
        self.levels = [int(s["levels"]) for s in sites]
        self.total_width = sum(self.widths)
        self.codec = self.header["codec"]
        self.signed = bool(self.header["coding"].get("signed", True))
        self.bits = count_bits_for(self.levels)
        self.header["count_bits"] = self.bits
        self.chunk_tokens = int(self.header.setdefault("chunk_tokens", 64))
        if len(neuron_scales) != len(sites) or any(
            g.size != w for g, w in zip(neuron_scales, self.widths, strict=True)
        ):
            raise TraceError("one threshold factor per neuron of every site is needed")
        self._level_limit = np.repeat(np.array(self.levels, dtype=np.int64), self.widths)
        self._tmp = self.path.with_name(self.path.name + ".partial")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(self._tmp, "wb")  # noqa: SIM115 - closed in close()/abort()
        self._f.write(MAGIC)
        _write_frame(self._f, b"HEAD", json.dumps(self.header, separators=(",", ":")).encode())
        scales = np.concatenate([np.asarray(g, dtype="<f4") for g in neuron_scales])
        _write_frame(self._f, b"SCAL", zlib.compress(scales.tobytes(), 6))
        self._chunks: list[list[int]] = []
        self._pending: list[tuple[np.ndarray, ...]] = []
        self._pending_n = 0
        self.n_tokens = 0
        self.count_sums = np.zeros(len(sites), dtype=np.int64)
        self._bounds = np.concatenate(([0], np.cumsum(self.widths)))

    def add(
        self,
        token_ids: np.ndarray,
        counts: np.ndarray,
        negative: np.ndarray | None,
        token_scale: np.ndarray,
    ) -> None:
        """Append n tokens: ids (n,), counts (n, total width), signs, factors (n, sites)."""
        counts = np.asarray(counts)
        n = counts.shape[0]
        if counts.shape != (n, self.total_width):
            raise TraceError(
                f"counts have shape {counts.shape}; expected (tokens, {self.total_width})"
            )
        if np.any(counts.max(axis=0) >= self._level_limit):
            raise TraceError("a count is not below its site's levels L")
        if self.signed and negative is None:
            raise TraceError("a signed trace needs the sign of every count")
        sums = np.add.reduceat(counts.sum(axis=0, dtype=np.int64), self._bounds[:-1])
        self.count_sums += sums
        neg = None if not self.signed else np.asarray(negative, dtype=bool)
        self._pending.append(
            (
                np.asarray(token_ids, dtype=np.int32).reshape(n),
                counts,
                neg,
                np.asarray(token_scale, dtype=np.float32).reshape(n, len(self.widths)),
            )
        )
        self._pending_n += n
        while self._pending_n >= self.chunk_tokens:
            self._flush(self.chunk_tokens)

    def _take(self, n: int) -> tuple[np.ndarray, ...]:
        ids = np.concatenate([p[0] for p in self._pending])
        counts = np.concatenate([p[1] for p in self._pending])
        neg = None if not self.signed else np.concatenate([p[2] for p in self._pending])
        scale = np.concatenate([p[3] for p in self._pending])
        rest = (ids[n:], counts[n:], None if neg is None else neg[n:], scale[n:])
        self._pending = [rest] if rest[0].size else []
        self._pending_n = int(rest[0].size)
        return ids[:n], counts[:n], None if neg is None else neg[:n], scale[:n]

    def _flush(self, n: int) -> None:
        ids, counts, neg, scale = self._take(n)
        parts = [
            _CHUNK.pack(self.n_tokens, n),
            ids.astype("<i4").tobytes(),
            scale.astype("<f4").tobytes(),
            _pack_counts(counts, self.bits),
        ]
        if neg is not None:
            parts.append(np.packbits(neg[counts > 0]).tobytes())
        offset = _write_frame(self._f, b"CHNK", _compress(self.codec, b"".join(parts)))
        self._chunks.append([offset, self.n_tokens, n])
        self.n_tokens += n

    def close(self, footer: dict | None = None) -> Path:
        """Flush the last chunk, write the footer and move the file into place."""
        if self._pending_n:
            self._flush(self._pending_n)
        tail = dict(footer or {})
        tail["tokens"] = self.n_tokens
        tail["chunks"] = self._chunks
        tail["count_sums"] = {
            s["name"]: int(c) for s, c in zip(self.header["sites"], self.count_sums, strict=True)
        }
        self.footer = tail
        offset = _write_frame(self._f, b"TAIL", json.dumps(tail, separators=(",", ":")).encode())
        self._f.write(_END.pack(offset, END_MAGIC))
        self._f.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the partial file (after an error or interruption)."""
        if not self._f.closed:
            self._f.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
        elif not self._f.closed:
            self.close()


class TraceReader:
    """A trace opened for streaming: `.header`, `.footer`, chunks and tokens one at a time."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.size = self.path.stat().st_size
        except OSError as err:
            raise TraceError(f"cannot read trace {self.path}: {err.strerror or err}") from err
        with open(self.path, "rb") as f:
            magic = f.read(len(MAGIC))
            if magic != MAGIC:
                raise TraceError(f"{self.path} is not a neurosim spike trace (bad magic bytes)")
            self.header = self._json_frame(f, b"HEAD", "header")
            self._check_header()
            tag, payload = self._frame(f, "per-neuron thresholds")
            if tag != b"SCAL":
                raise TraceError(f"{self.path}: expected the thresholds frame, found {tag!r}")
            self._scales_blob = payload
            self._data_start = f.tell()
            if self.size < self._data_start + _END.size:
                raise self._truncated()
            f.seek(self.size - _END.size)
            offset, end = _END.unpack(f.read(_END.size))
            if end != END_MAGIC or not self._data_start <= offset < self.size - _END.size:
                raise self._truncated()
            f.seek(offset)
            self.footer = self._json_frame(f, b"TAIL", "footer")
        self.sites: list[dict] = self.header["sites"]
        self.site_names = [s["name"] for s in self.sites]
        self.widths = [int(s["width"]) for s in self.sites]
        self.levels = [int(s["levels"]) for s in self.sites]
        self.timesteps = [int(s["timesteps"]) for s in self.sites]
        self.scheme = self.header["coding"]["scheme"]
        self.signed = bool(self.header["coding"].get("signed", True))
        self.bits = int(self.header.get("count_bits", count_bits_for(self.levels)))
        self.codec = self.header["codec"]
        self.bounds = np.concatenate(([0], np.cumsum(self.widths))).astype(np.int64)
        self.n_tokens = int(self.footer.get("tokens", 0))
        self.chunk_index = [tuple(int(v) for v in c) for c in self.footer.get("chunks", [])]
        if sum(c[2] for c in self.chunk_index) != self.n_tokens:
            raise TraceError(f"{self.path}: the chunk index does not add up to the token count")

    # ------------------------------------------------------------------ low level

    def _truncated(self) -> TraceError:
        return TraceError(
            f"{self.path} is truncated or incomplete ({self.size} bytes): its end record is "
            "missing, so the extraction that wrote it did not finish or the copy was cut short"
        )

    def _frame(self, f, what: str) -> tuple[bytes, bytes]:
        raw = f.read(_FRAME.size)
        if len(raw) < _FRAME.size:
            raise self._truncated()
        tag, length, crc = _FRAME.unpack(raw)
        if length > self.size:
            raise TraceError(f"{self.path}: the {what} frame is damaged (impossible length)")
        payload = f.read(length)
        if len(payload) < length:
            raise self._truncated()
        if zlib.crc32(payload) != crc:
            raise TraceError(f"{self.path}: the {what} is corrupted (checksum mismatch)")
        return tag, payload

    def _json_frame(self, f, tag: bytes, what: str) -> dict:
        got, payload = self._frame(f, what)
        if got != tag:
            raise TraceError(f"{self.path}: expected the {what} frame, found {got!r}")
        try:
            data = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise TraceError(f"{self.path}: the {what} is not valid JSON ({err})") from err
        if not isinstance(data, dict):
            raise TraceError(f"{self.path}: the {what} is not a JSON object")
        return data

    def _check_header(self) -> None:
        h = self.header
        if h.get("format") != FORMAT:
            raise TraceError(f"{self.path}: format {h.get('format')!r} is not {FORMAT!r}")
        if h.get("version") != VERSION:
            raise TraceError(
                f"{self.path}: trace format version {h.get('version')!r} is not supported "
                f"(this neurosim reads version {VERSION}); re-extract the trace"
            )
        missing = [k for k in REQUIRED_HEADER_KEYS if k not in h]
        if missing:
            raise TraceError(f"{self.path}: header lacks {', '.join(missing)}")
        for i, s in enumerate(h["sites"]):
            for key in ("name", "site", "width", "levels", "timesteps"):
                if key not in s:
                    raise TraceError(f"{self.path}: header site #{i} lacks '{key}'")
        if h["codec"] not in CODECS:
            raise TraceError(f"{self.path}: unknown codec {h['codec']!r}")

    # ------------------------------------------------------------------ data

    @property
    def model_name(self) -> str:
        """Name of the model the trace came from."""
        return str(self.header["model"].get("name", "?"))

    def neuron_scales(self) -> list[np.ndarray]:
        """Per-neuron threshold factors g of every site (float32 arrays, site order)."""
        try:
            flat = np.frombuffer(zlib.decompress(self._scales_blob), dtype="<f4")
        except zlib.error as err:
            raise TraceError(f"{self.path}: the thresholds frame is damaged ({err})") from err
        if flat.size != self.bounds[-1]:
            raise TraceError(f"{self.path}: the thresholds frame has the wrong size")
        edges = zip(self.bounds[:-1], self.bounds[1:], strict=True)
        return [flat[a:b].astype(np.float32) for a, b in edges]

    def _decode_chunk(self, index: int, payload: bytes) -> Chunk:
        _, first, expected = self.chunk_index[index]
        where = f"chunk {index} (tokens {first}..{first + expected - 1})"
        try:
            raw = _decompress(self.codec, payload)
        except (zlib.error, lzma.LZMAError) as err:
            raise TraceError(f"{self.path}: {where} cannot be decompressed ({err})") from err
        try:
            got_first, n = _CHUNK.unpack_from(raw, 0)
            if (got_first, n) != (first, expected):
                raise ValueError("its prefix disagrees with the chunk index")
            pos = _CHUNK.size
            ids = np.frombuffer(raw, dtype="<i4", count=n, offset=pos).astype(np.int32)
            pos += 4 * n
            n_sites = len(self.widths)
            scale = np.frombuffer(raw, dtype="<f4", count=n * n_sites, offset=pos)
            scale = scale.reshape(n, n_sites).astype(np.float32)
            pos += 4 * n * n_sites
            width = int(self.bounds[-1])
            nbytes = (n * width + 1) // 2 if self.bits == 4 else n * width * self.bits // 8
            counts = _unpack_counts(raw[pos : pos + nbytes], n, width, self.bits)
            pos += nbytes
            negative = None
            if self.signed:
                active = counts > 0
                n_active = int(active.sum())
                bits = np.unpackbits(np.frombuffer(raw[pos:], dtype=np.uint8), count=n_active)
                if bits.size != n_active or len(raw) - pos != (n_active + 7) // 8:
                    raise ValueError("the sign block has the wrong size")
                negative = np.zeros(counts.shape, dtype=bool)
                negative[active] = bits.astype(bool)
            elif pos != len(raw):
                raise ValueError("trailing bytes")
        except (ValueError, struct.error) as err:
            raise TraceError(f"{self.path}: {where} is malformed ({err})") from err
        return Chunk(index, first, ids, scale, counts, negative)

    def chunks(self) -> Iterator[Chunk]:
        """Decode the chunks in order, one at a time (checksums verified)."""
        with open(self.path, "rb") as f:
            for i, (offset, first, n) in enumerate(self.chunk_index):
                f.seek(offset)
                where = f"chunk {i} (tokens {first}..{first + n - 1})"
                tag, payload = self._frame(f, where)
                if tag != b"CHNK":
                    raise TraceError(f"{self.path}: the {where} frame is damaged (bad tag)")
                yield self._decode_chunk(i, payload)

    def verify(self) -> int:
        """Read every chunk (checksums, sizes, counts < L); return the token count."""
        limit = np.repeat(np.array(self.levels, dtype=np.int64), self.widths)
        seen = 0
        for chunk in self.chunks():
            if np.any(chunk.counts.max(axis=0) >= limit):
                raise TraceError(f"{self.path}: chunk {chunk.index} has counts >= L")
            seen += chunk.counts.shape[0]
        return seen

    def split(self, row: np.ndarray) -> tuple[np.ndarray, ...]:
        """One token's concatenated counts as one array per site (views)."""
        return tuple(row[a:b] for a, b in zip(self.bounds[:-1], self.bounds[1:], strict=True))

    def source_for(self, graph):
        """A `SpikeSource` replaying this trace on `graph` (checked against it first)."""
        from neurosim.trace.replay import TraceSpikeSource

        return TraceSpikeSource(self, graph)

    def workload_for(self, workload):
        """`workload` with its site levels and coding scheme taken from this trace."""
        from neurosim.trace.replay import workload_for_trace

        return workload_for_trace(self, workload)

    def __repr__(self) -> str:
        return (
            f"TraceReader({str(self.path)!r}: {self.model_name}, {self.n_tokens} tokens, "
            f"{len(self.sites)} sites, {self.scheme})"
        )


def open_trace(path: str | Path) -> TraceReader:
    """Open a spike trace for streaming; raises TraceError if it is not a complete trace."""
    return TraceReader(path)
