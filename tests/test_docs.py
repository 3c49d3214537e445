"""The docs stay true: sources inside the repository, one install, generated figures."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
SOURCES = REPO / "docs" / "sources.md"
# Paths of the reference notes the presets were first written from: users do not have them.
PRIVATE = ["../" + "shared", "shared/" + "reference", "nsllm_" + "facts", "hw_" + "params.md",
           "model_and_corpus_" + "sources"]
LINK = re.compile(r"docs/sources\.md#([\w-]+)")
PRESETS = sorted((REPO / "architectures").glob("*.yaml")) + sorted(
    (REPO / "workloads").glob("*.yaml"))


def _tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                           cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    files = []
    for name in names:
        path = REPO / name
        if path.is_file() and path.suffix not in (".png", ".nstrace", ".db", ".parquet"):
            files.append(path)
    return files


def _anchors() -> set[str]:
    return set(re.findall(r'<a id="([\w-]+)"></a>', SOURCES.read_text()))


def test_no_file_points_at_notes_users_do_not_have():
    offenders = []
    for path in _tracked_text_files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            offenders += [f"{path.relative_to(REPO)}:{lineno}: {word}"
                          for word in PRIVATE if word in line]
    assert not offenders, "\n".join(offenders)


def test_every_sources_link_names_an_anchor_of_docs_sources():
    anchors = _anchors()
    assert len(anchors) >= 15
    broken = []
    for path in [*PRESETS, REPO / "README.md", *(REPO / "docs").glob("*.md")]:
        for anchor in LINK.findall(path.read_text()):
            if anchor not in anchors:
                broken.append(f"{path.relative_to(REPO)}: #{anchor}")
    assert not broken, f"anchors missing from docs/sources.md: {broken}"


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_every_preset_points_at_its_sources(preset):
    assert LINK.search(preset.read_text()), f"{preset.name} links no docs/sources.md anchor"


def test_every_anchor_of_docs_sources_is_used_by_a_preset():
    used = {a for p in PRESETS for a in LINK.findall(p.read_text())}
    assert _anchors() - used == set()
