"""Hostile YAML: every file a user (or an attacker) could hand the loader gets a clear
ConfigError quickly and in bounded memory, never a hang, a RecursionError or a traceback."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from neurosim.cli.app import main
from neurosim.config import loader
from neurosim.config.loader import load_yaml_with_lines, validate
from neurosim.config.workload import Workload
from neurosim.errors import ConfigError


def _laughs(levels: int = 10) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _merge_bomb(levels: int = 30) -> str:
    lines = ["m0: &m0 {k0: 1, k1: 2}"]
    for i in range(1, levels):
        prev = f"*m{i - 1}"
        lines.append(f"m{i}: &m{i} {{<<: [{prev}], x{i}: {prev}, y{i}: {prev}}}")
    return "\n".join(lines) + "\n"


def _block_indent(levels: int) -> str:
    return "".join(" " * i + f"k{i}:\n" for i in range(levels)) + " " * levels + "v: 1\n"


# name -> (file content, text the error must hold, line of the issue or None)
HOSTILE: dict[str, tuple[str | bytes, str, int | None]] = {
    "billion_laughs": (_laughs(), "expands to more than 200000 values", 6),
    "merge_key_bomb": (_merge_bomb(), "merge keys (<<) are expanded", None),
    "self_alias": ("a: &a [1, *a]\n", "alias *a refers to a value that contains it", 1),
    "self_merge": ("a: &a {b: 1, <<: *a}\n", "alias *a refers to a value that contains it", 1),
    "deep_flow_lists": ("a: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested more than", 1),
    "deep_flow_maps": ("a: " + "{b: " * 5000 + "1" + "}" * 5000 + "\n", "nested more than", 1),
    "deep_block_maps": (_block_indent(200), "nested more than 32 levels deep", 33),
    "too_large": ("name: x\n" + "k: 1\n" * 60_000, "larger than 256 KiB", None),
    "binary_junk": (bytes(range(256)) * 40, "not UTF-8 text", None),
    "utf16": ("name: x\n".encode("utf-16"), "not UTF-8 text", None),
    "latin1": ("name: caf\u00e9\n".encode("latin-1"), "not UTF-8 text", None),
    "nul_byte": (b"name: x\n\x00\n", "character #x0000 is not allowed", 2),
    "escape_code": (b"name: x\n\x1b[31m: 1\n", "character #x001b is not allowed", 2),
    "top_list": ("- 1\n- 2\n", "the top level must be a mapping", 1),
    "top_scalar": ("42\n", "the top level must be a mapping", 1),
    "top_string": ("just some words\n", "the top level must be a mapping", 1),
    "empty": ("", "got an empty document", None),
    "two_documents": ("a: 1\n---\nb: 2\n", "expected a single document", 2),
    "python_tag": ("name: !!python/object/apply:os.system [ls]\n", "cannot load YAML", 1),
    "unhashable_key": ("? [1, 2]\n: 3\n", "found unhashable key", 1),
    "undefined_alias": ("a: *nowhere\n", "found undefined alias", 1),
    "tabs": ("a:\n\tb: 1\n", "YAML syntax error", 2),
    "long_integer": ("name: x\ncount: " + "9" * 5000 + "\n", "5000 characters is too long", 2),
    "long_integer_key": ("? " + "9" * 5000 + "\n: 1\n", "5000 characters is too long", 1),
}


def _write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "hostile.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_yaml_is_a_quick_bounded_config_error(name: str, tmp_path: Path) -> None:
    content, text, line = HOSTILE[name]
    path = _write(tmp_path, content)
    tracemalloc.start()
    started = time.process_time()
    try:
        with pytest.raises(ConfigError) as info:
            load_yaml_with_lines(path)
        cpu = time.process_time() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert text in message
    assert message.startswith(f"invalid config {path} (1 problem):")
    if line is not None:
        assert info.value.issues[0].line == line, message
    assert cpu < 1.0, f"{name}: {cpu:.2f} s of CPU"
    assert peak < 64 * 2**20, f"{name}: {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("name", ["billion_laughs", "deep_flow_lists", "binary_junk", "top_list"])
def test_hostile_yaml_through_the_cli_exits_2(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, HOSTILE[name][0])
    for argv in (["validate", str(path)], ["run", str(path), str(path), "--quiet"]):
        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert err.startswith(f"error: invalid config {path} (")
        assert "Traceback" not in out + err


def test_file_that_never_ends_is_read_only_up_to_the_cap(tmp_path: Path) -> None:
    """A device or pipe with no end (``/dev/zero``) is refused after reading the cap."""
    zero = Path("/dev/zero")
    if not zero.exists():
        pytest.skip("no /dev/zero")
    with pytest.raises(ConfigError, match="larger than 256 KiB"):
        load_yaml_with_lines(zero)


def test_aliases_within_the_budget_still_load(tmp_path: Path) -> None:
    """Anchors, aliases and merge keys are legitimate YAML: small uses keep working."""
    text = "base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\nlist: [*b, *b]\n"
    data, lines = load_yaml_with_lines(_write(tmp_path, text))
    assert data["other"] == {"x": 1, "y": 3}
    assert data["list"] == [{"x": 1, "y": 2}] * 2
    assert lines[("other", "y")] == 4
    budget = loader.MAX_EXPANDED_VALUES
    wide = "a: &a [" + ", ".join(["1"] * 1000) + "]\nb: [" + ", ".join(["*a"] * 150) + "]\n"
    assert 150 * 1001 < budget
    data, _ = load_yaml_with_lines(_write(tmp_path, wide))
    assert len(data["b"]) == 150


def test_many_problems_are_listed_up_to_a_limit_quickly(tmp_path: Path) -> None:
    """20,000 unknown keys: the first 50 are listed, the rest counted, in well under a second."""
    text = "name: x\n" + "".join(f"k{i}: {i}\n" for i in range(20_000))
    path = _write(tmp_path, text)
    data, _ = load_yaml_with_lines(path)
    started = time.process_time()
    with pytest.raises(ConfigError) as info:
        validate(Workload, data, path)
    assert time.process_time() - started < 1.0
    issues = info.value.issues
    assert len(issues) == loader.MAX_REPORTED_ISSUES + 1
    assert issues[-1].message.endswith("more problems not listed")
