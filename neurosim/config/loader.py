"""Load YAML config files into pydantic models, reporting every problem with file and line.

Three steps, combined by :func:`load_config`: read the YAML while remembering the line of
every key (:func:`load_yaml_with_lines`), merge a one-level ``extends`` preset while keeping
track of which file each value came from (:func:`resolve_extends`), and validate into a
model, turning pydantic's errors into one :class:`~neurosim.errors.ConfigError`
(:func:`validate`).
"""

from __future__ import annotations

import collections.abc
import re
import types
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, Discriminator, Tag, ValidationError
from pydantic.fields import FieldInfo

from neurosim.config.repeat import expand_repeats
from neurosim.errors import ConfigError, ConfigIssue

__all__ = [
    "KeyPath",
    "SourceMap",
    "format_key_path",
    "load_config",
    "load_yaml_with_lines",
    "resolve_extends",
    "validate",
]

KeyPath = tuple[Any, ...]
"""Path of a value inside a document: mapping keys and list indices, outermost first."""

ModelT = TypeVar("ModelT", bound=BaseModel)

_MISSING: Any = object()
_KEYED_MESSAGE = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[\d+\])+): (.+)$", re.S)
_BARE_KEY_MESSAGE = re.compile(r"^([A-Za-z_]\w*): (.+)$", re.S)
_KEY = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[\d+\])+"
_KEYS_MESSAGE = re.compile(rf"^((?:{_KEY})(?:, {_KEY})+): (.+)$", re.S)
_PATH_PART = re.compile(r"[A-Za-z_]\w*|\d+")
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class SourceMap:
    """Where each key of a (possibly merged) document was written: ``path -> (file, line)``.

    ``path`` is the file that was loaded; it is the answer for keys with no known place.
    """

    path: Path
    locations: Mapping[KeyPath, tuple[Path, int]] = field(default_factory=dict)

    @classmethod
    def from_lines(cls, path: str | Path, lines: Mapping[KeyPath, int]) -> SourceMap:
        """Source map of a single file, from :func:`load_yaml_with_lines`'s line map."""
        path = Path(path)
        return cls(path, {key: (path, line) for key, line in lines.items()})

    def locate(self, key_path: Iterable[Any]) -> tuple[Path, int | None]:
        """File and line of ``key_path``, or of its nearest written parent if it is absent."""
        key = tuple(key_path)
        for end in range(len(key), 0, -1):
            found = self.locations.get(key[:end])
            if found is not None:
                return found
        return self.path, None


# --------------------------------------------------------------------------- reading YAML


MAX_CONFIG_BYTES = 256 * 1024
"""Largest config file read (256 KiB; the shipped presets are about 10 kB)."""
MAX_NESTING = 32
"""Deepest nesting of mappings and lists (the shipped presets nest 4 deep)."""
MAX_EXPANDED_VALUES = 200_000
"""Most values a document may hold once every alias and merge key is expanded."""
MAX_REPORTED_ISSUES = 50
"""Most validation problems listed in one error (the rest are counted)."""


def _read_text(path: Path) -> str:
    if not path.exists():
        raise ConfigError.single(path, "", "file not found")
    if path.is_dir():
        raise ConfigError.single(path, "", "is a directory, not a YAML file")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)  # bounded even for /dev/zero or a pipe
    except OSError as exc:
        raise ConfigError.single(path, "", f"cannot read file: {exc.strerror or exc}") from exc
    if len(raw) > MAX_CONFIG_BYTES:
        message = (
            f"file is larger than {MAX_CONFIG_BYTES // 1024} KiB, the most a config may be "
            "(is this really a config file?)"
        )
        raise ConfigError.single(path, "", message)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError.single(path, "", f"not UTF-8 text ({exc.reason})") from exc


class _DocumentTooLarge(yaml.MarkedYAMLError):
    """A document nested too deeply or expanding (through aliases) to too many values."""


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    """YAML int, with Python's limit on very long integers reported as a YAML problem."""
    try:
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    except ValueError as exc:
        message = f"an integer of {len(node.value)} characters is too long"
        raise yaml.constructor.ConstructorError(None, None, message, node.start_mark) from exc


class _SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing over-long integers with a line number."""


class _FastSafeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's safe loader when installed (same constructors as `_SafeLoader`)."""


for _loader in (_SafeLoader, _FastSafeLoader):
    _loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_FAST_LOADER = _FastSafeLoader if hasattr(yaml, "CSafeLoader") else _SafeLoader


def _parse_events(text: str, clean: list[bool]) -> Iterator[yaml.Event]:
    """The parser's events, up to the end or to the first syntax error (which the loader
    then reports). libyaml is fast but reads ahead, so after a syntax error the events are
    replayed by PyYAML's own parser, which stops exactly where its loader will.
    ``clean[0]`` tells whether libyaml read the whole text without error."""
    try:
        yield from yaml.parse(text, Loader=_FAST_LOADER)
        clean[0] = _FAST_LOADER is not _SafeLoader
        return
    except yaml.MarkedYAMLError:
        if _FAST_LOADER is _SafeLoader:
            return
    try:
        yield from yaml.parse(text, Loader=_SafeLoader)
    except yaml.MarkedYAMLError:
        return


def _check_shape(text: str) -> type[yaml.SafeLoader]:
    """Refuse deep nesting, self-containing aliases and alias / merge-key expansion bombs.

    One pass over the parser's events, before any node is built: every collection's size
    is counted with its aliases expanded (an alias costs what its anchor's value costs),
    so a "billion laughs" document is refused after a few thousand events instead of being
    walked exponentially by the steps that follow. Returns the loader to compose with:
    libyaml's when it parsed the text cleanly, else PyYAML's (same syntax error wording
    whether or not libyaml is installed).
    """
    sizes: dict[str, int] = {}  # anchor -> expanded size of its finished value
    open_anchors: set[str] = set()
    stack: list[list[Any]] = []  # [expanded size so far, anchor] per open collection

    def add(size: int, mark: Any) -> None:
        if stack:
            stack[-1][0] += size
            if stack[-1][0] > MAX_EXPANDED_VALUES:
                raise _DocumentTooLarge(
                    None,
                    None,
                    f"the document expands to more than {MAX_EXPANDED_VALUES} values once "
                    "its aliases (*name) and merge keys (<<) are expanded",
                    mark,
                )

    clean = [False]
    for event in _parse_events(text, clean):
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in open_anchors:
                raise _DocumentTooLarge(
                    None,
                    None,
                    f"alias *{event.anchor} refers to a value that contains it",
                    event.start_mark,
                )
            add(sizes.get(event.anchor, 1), event.start_mark)  # unknown: the composer says
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                sizes[event.anchor] = 1
            add(1, event.start_mark)
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= MAX_NESTING:
                raise _DocumentTooLarge(
                    None,
                    None,
                    f"values nested more than {MAX_NESTING} levels deep",
                    event.start_mark,
                )
            if event.anchor is not None:
                open_anchors.add(event.anchor)
            stack.append([1, event.anchor])
        elif isinstance(event, yaml.CollectionEndEvent):
            size, anchor = stack.pop()
            if anchor is not None:
                open_anchors.discard(anchor)
                sizes[anchor] = size
            add(size, event.start_mark)
    return _FAST_LOADER if clean[0] else _SafeLoader


def _yaml_error(path: Path, exc: yaml.YAMLError) -> ConfigError:
    if not isinstance(exc, yaml.MarkedYAMLError):
        return ConfigError.single(path, "", f"invalid YAML: {exc}")
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    constructing = isinstance(exc, yaml.constructor.ConstructorError | _DocumentTooLarge)
    kind = "cannot load YAML" if constructing else "YAML syntax error"
    message = f"{kind}: {exc.problem or exc.context or 'invalid document'}"
    if exc.problem and exc.context:
        context = exc.context
        if exc.context_mark is not None and exc.context_mark is not mark:
            context += f" on line {exc.context_mark.line + 1}"
        message += f" ({context})"
    return ConfigError.single(path, "", message, line)


def _collect_lines(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    key_path: KeyPath,
    lines: dict[KeyPath, int],
    duplicates: list[ConfigIssue],
    active: set[int],
) -> None:
    """Record the 1-based line of every key and list item below ``node``."""
    if id(node) in active:  # a recursive alias; its contents are already being walked
        return
    active.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first_seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = loader.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in first_seen:
                duplicates.append(
                    ConfigIssue(
                        format_key_path((*key_path, key)),
                        f"duplicate key (first written on line {first_seen[key]})",
                        line,
                    )
                )
            else:
                first_seen[key] = line
        loader.flatten_mapping(node)  # resolve "<<" merge keys as the constructor will
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = loader.construct_object(key_node)
            child = (*key_path, key)
            lines[child] = key_node.start_mark.line + 1
            _collect_lines(loader, value_node, child, lines, duplicates, active)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*key_path, index)
            lines[child] = item.start_mark.line + 1
            _collect_lines(loader, item, child, lines, duplicates, active)
    active.discard(id(node))


def _kind_of(value: Any) -> str:
    if value is None:
        return "an empty document"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f'a string ("{value[:40]}")'
    return f"a {type(value).__name__} ({value!r})"


def load_yaml_with_lines(path: str | Path) -> tuple[object, dict[KeyPath, int]]:
    """Safe-load the mapping in ``path`` and map each key path to its 1-based line.

    A missing file, a directory, invalid YAML, duplicate keys and a top level that is not
    a mapping raise :class:`ConfigError`.
    """
    path = Path(path)
    text = _read_text(path)
    try:
        loader = _check_shape(text)(text)
    except yaml.reader.ReaderError as exc:  # a control character: binary data, not YAML
        line = text.count("\n", 0, exc.position) + 1 if exc.position is not None else None
        message = f"not YAML text: character #x{exc.character:04x} is not allowed"
        raise ConfigError.single(path, "", message, line) from exc
    except yaml.YAMLError as exc:
        raise _yaml_error(path, exc) from exc
    lines: dict[KeyPath, int] = {}
    duplicates: list[ConfigIssue] = []
    try:
        node = loader.get_single_node()
        data: Any = None
        if node is not None:
            _collect_lines(loader, node, (), lines, duplicates, set())
            data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _yaml_error(path, exc) from exc
    finally:
        loader.dispose()
    if duplicates:
        raise ConfigError(path, duplicates)
    if not isinstance(data, dict):
        line = node.start_mark.line + 1 if node is not None else None
        message = f"the top level must be a mapping of keys to values; got {_kind_of(data)}"
        raise ConfigError.single(path, "", message, line)
    return data, lines


# --------------------------------------------------------------------------- extends


def _find_preset(
    path: Path, ref: str, search_dirs: Sequence[str | Path]
) -> tuple[Path | None, list[Path]]:
    """Resolve an ``extends`` value to a file; also return every place looked at."""
    if "/" in ref or "\\" in ref or ref.endswith((".yaml", ".yml")):
        candidate = Path(ref)
        if not candidate.is_absolute():
            candidate = path.parent / candidate
        candidates = [candidate]
    else:
        candidates = []
        for directory in [*search_dirs, path.parent]:
            candidate = Path(directory) / f"{ref}.yaml"
            if candidate not in candidates:
                candidates.append(candidate)
    for candidate in candidates:
        if candidate.is_file():
            return candidate, candidates
    return None, candidates


def _copy_locations(
    source: Mapping[KeyPath, int], prefix: KeyPath, file: Path, out: dict[KeyPath, tuple]
) -> None:
    size = len(prefix)
    for key, line in source.items():
        if key[:size] == prefix:
            out[key] = (file, line)


def _deep_merge(
    base: Mapping[Any, Any],
    child: Mapping[Any, Any],
    prefix: KeyPath,
    sources: tuple[Mapping[KeyPath, int], Path, Mapping[KeyPath, int], Path],
    out: dict[KeyPath, tuple[Path, int]],
) -> dict[Any, Any]:
    base_lines, base_file, child_lines, child_file = sources
    merged: dict[Any, Any] = {}
    for key in [*base, *(k for k in child if k not in base)]:
        here = (*prefix, key)
        if key not in child:
            merged[key] = base[key]
            _copy_locations(base_lines, here, base_file, out)
        elif (
            key in base
            and isinstance(base[key], dict)
            and isinstance(child[key], dict)
            and child[key].get("kind", base[key].get("kind")) == base[key].get("kind")
        ):
            # same kind (or none): merge key by key; a changed `kind` replaces the section
            merged[key] = _deep_merge(base[key], child[key], here, sources, out)
            if here in child_lines:
                out[here] = (child_file, child_lines[here])
        else:
            merged[key] = child[key]
            _copy_locations(child_lines, here, child_file, out)
    return merged


def resolve_extends(
    path: str | Path,
    data: object,
    lines: Mapping[KeyPath, int],
    search_dirs: Sequence[str | Path] = (),
) -> tuple[object, SourceMap]:
    """Merge the preset named by a top-level ``extends`` key under ``data``.

    ``extends`` is a path relative to ``path``'s directory, or a bare name looked up as
    ``<dir>/<name>.yaml`` in each of ``search_dirs`` and then in ``path``'s directory.
    Mappings merge recursively; any other value in ``data`` replaces the preset's. A preset
    may not itself extend another. Returns the merged data and where each key was written.
    """
    path = Path(path)
    if not isinstance(data, dict) or "extends" not in data:
        return data, SourceMap.from_lines(path, lines)
    ref = data["extends"]
    ref_line = lines.get(("extends",))
    if not isinstance(ref, str) or not ref.strip():
        message = f"expected the name or relative path of a preset; got {ref!r}"
        raise ConfigError.single(path, "extends", message, ref_line)
    base_path, searched = _find_preset(path, ref.strip(), search_dirs)
    if base_path is None:
        places = ", ".join(str(p) for p in searched)
        message = f"preset '{ref}' not found; looked for {places}"
        raise ConfigError.single(path, "extends", message, ref_line)
    base_data, base_lines = load_yaml_with_lines(base_path)
    assert isinstance(base_data, dict)  # guaranteed by load_yaml_with_lines
    if "extends" in base_data:
        where = f"{base_path}:{base_lines.get(('extends',), '?')}"
        message = (
            f"presets may extend at most one other preset, but '{ref}' ({where}) "
            f"itself extends {base_data['extends']!r}"
        )
        raise ConfigError.single(path, "extends", message, ref_line)
    child = {key: value for key, value in data.items() if key != "extends"}
    child_lines = {key: line for key, line in lines.items() if key[:1] != ("extends",)}
    child, child_lines = _renamed_keys_moved(child, child_lines)
    base_data, base_lines = _renamed_keys_moved(base_data, base_lines)
    locations: dict[KeyPath, tuple[Path, int]] = {}
    merged = _deep_merge(
        base_data, child, (), (base_lines, base_path, child_lines, path), locations
    )
    _drop_replaced_provenance(base_data, child, merged)
    return merged, SourceMap(path, locations)


RENAMED_KEYS: dict[KeyPath, KeyPath] = {
    ("neuron_cores", "multicast"): ("interconnect", "multicast"),
}
"""Older key path -> where the setting lives now (the validator still reads the old one)."""


def _renamed_keys_moved(
    data: dict, lines: Mapping[KeyPath, int]
) -> tuple[dict, dict[KeyPath, int]]:
    """`data` with each setting given under an older key moved to its new key (unless the
    file gives both), before a preset is merged: the file's own value then overrides the
    preset's, whichever key the preset uses."""
    moved, where = dict(data), dict(lines)
    for (old_sec, old_key), (new_sec, new_key) in RENAMED_KEYS.items():
        old, new = moved.get(old_sec), moved.get(new_sec, {})
        if not (isinstance(old, dict) and old_key in old and isinstance(new, dict)):
            continue
        if new_key in new:
            continue  # both given: the validator says whether they agree
        moved[old_sec] = {k: v for k, v in old.items() if k != old_key}
        moved[new_sec] = {**new, new_key: old[old_key]}
        line = where.pop((old_sec, old_key), None)
        if line is not None:
            where[(new_sec, new_key)] = line
            where.setdefault((new_sec,), line)
    return moved, where


def _drop_replaced_provenance(base: dict, child: dict, merged: dict) -> None:
    """A section the child replaced by changing its `kind` takes the preset's provenance
    entries for it along (the child gives its own)."""
    replaced = [
        key
        for key, value in child.items()
        if isinstance(value, dict)
        and isinstance(base.get(key), dict)
        and value.get("kind", base[key].get("kind")) != base[key].get("kind")
    ]
    provenance = merged.get("provenance")
    if not replaced or not isinstance(provenance, dict):
        return
    own = child.get("provenance") or {}
    merged["provenance"] = {
        k: v
        for k, v in provenance.items()
        if k in own or not any(str(k).startswith(f"{r}.") or k == r for r in replaced)
    }


# --------------------------------------------------------------------------- validation


def format_key_path(key_path: Iterable[Any]) -> str:
    """Render ``("dram", "channels", 0, "x")`` as ``dram.channels[0].x``."""
    out = ""
    for part in key_path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_\-]+", str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f'["{part}"]'
    return out


def _discriminator_of(meta: Any) -> Any:
    if isinstance(meta, FieldInfo) and meta.discriminator is not None:
        return meta.discriminator
    if isinstance(meta, Discriminator):
        return meta
    return None


def _field_discriminator(info: FieldInfo) -> Any:
    """A field's discriminator, given as `Field(discriminator=...)` or as metadata."""
    if info.discriminator is not None:
        return info.discriminator
    return next((m for m in info.metadata if isinstance(m, Discriminator)), None)


def _discriminator_name(disc: Any) -> str | None:
    if isinstance(disc, str):
        return disc
    if isinstance(disc, Discriminator) and isinstance(disc.discriminator, str):
        return disc.discriminator
    if isinstance(disc, Discriminator):
        return "kind"  # a callable discriminator: this project's sections all use `kind`
    return None


def _unwrap(tp: Any, disc: Any) -> tuple[Any, Any]:
    """Strip ``Annotated`` (keeping any discriminator) and ``Optional`` from a type."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            for meta in tp.__metadata__:
                disc = _discriminator_of(meta) or disc
            tp = get_args(tp)[0]
            continue
        if origin is Union or origin is types.UnionType:
            members = [arg for arg in get_args(tp) if arg is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp, disc


def _union_members(tp: Any) -> list[Any]:
    if get_origin(tp) is Union or get_origin(tp) is types.UnionType:
        return [arg for arg in get_args(tp) if arg is not type(None)]
    return []


def _tags_of(member: Any, disc: Any) -> list[str]:
    """Discriminator values that select ``member`` of a discriminated union."""
    tags: list[str] = []
    while get_origin(member) is Annotated:
        tags += [str(m.tag) for m in member.__metadata__ if isinstance(m, Tag)]
        member = get_args(member)[0]
    name = _discriminator_name(disc)
    if not tags and name and isinstance(member, type) and issubclass(member, BaseModel):
        info = member.model_fields.get(name)
        if info is not None and get_origin(info.annotation) is Literal:
            tags = [str(value) for value in get_args(info.annotation)]
    return tags


def _member_name(member: Any) -> str:
    while get_origin(member) is Annotated:
        member = get_args(member)[0]
    return getattr(member, "__name__", str(member))


def _model_field(model: type[BaseModel], key: Any) -> FieldInfo | None:
    for name, info in model.model_fields.items():
        if key == (info.alias or name) or key == name:
            return info
    return None


def _accepted_keys(model: type[BaseModel]) -> list[str]:
    return sorted(info.alias or name for name, info in model.model_fields.items())


def _child(data: Any, key: Any) -> Any:
    if isinstance(data, dict):
        try:
            return data.get(key, _MISSING)
        except TypeError:
            return _MISSING
    if isinstance(data, list | tuple) and isinstance(key, int) and -len(data) <= key < len(data):
        return data[key]
    return _MISSING


_SEQUENCES = (list, tuple, set, frozenset, collections.abc.Sequence, collections.abc.Set)
_MAPPINGS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)


@dataclass
class _Located:
    """Where a pydantic error points, in the document and in the model's types."""

    key_path: list[Any]
    value: Any  # the document's value at key_path, or _MISSING
    container: type[BaseModel] | None  # model whose field is the last key of key_path
    tp: Any  # type expected at key_path (unwrapped), None if unknown
    disc: Any  # discriminator of tp when tp is a discriminated union


def _locate(model_cls: type[BaseModel], data: Any, loc: Sequence[Any]) -> _Located:
    """Follow a pydantic error ``loc`` through the model types and the document together.

    Union member labels and discriminator tags that pydantic inserts into ``loc`` are
    consumed without descending into the document.
    """
    key_path: list[Any] = []
    value, container, tp, disc = data, None, model_cls, None
    for part in loc:
        if tp is not None:
            tp, disc = _unwrap(tp, disc)
        members = _union_members(tp)
        if members:  # ``part`` labels the union member pydantic tried
            chosen = [m for m in members if str(part) in _tags_of(m, disc)]
            if not chosen:
                chosen = [m for m in members if _member_name(m) == str(part)]
            tp, disc = (chosen[0] if chosen else None), None
            continue
        origin, args = get_origin(tp), get_args(tp)
        container, disc = None, None
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            container = tp
            info = _model_field(tp, part)
            tp, disc = (info.annotation, _field_discriminator(info)) if info else (None, None)
        elif origin in _SEQUENCES:
            if origin is tuple and args and args[-1] is not Ellipsis:
                tp = args[part] if isinstance(part, int) and part < len(args) else None
            else:
                tp = args[0] if args else None
        elif origin in _MAPPINGS:
            if part == "[key]":
                tp = args[0] if args else None
                continue
            tp = args[1] if len(args) == 2 else None
        else:
            if part == "[key]":
                continue
            tp = None
        key_path.append(part)
        value = _child(value, part)
    if tp is not None:
        tp, disc = _unwrap(tp, disc)
    return _Located(key_path, value, container, tp, disc)


def _show(value: Any) -> str | None:
    """Short YAML-like rendering of a scalar, or None if it is not a short scalar."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 40 and "\n" not in value else None
    if isinstance(value, int | float):
        text = repr(value)
        return text if len(text) <= 40 else None
    return None


@dataclass(frozen=True)
class _Issue:
    key_path: KeyPath
    message: str


def _issue_for(model_cls: type[BaseModel], data: Any, error: Mapping[str, Any]) -> _Issue:
    where = _locate(model_cls, data, error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    key_path = list(where.key_path)
    if kind == "extra_forbidden":
        message = "unknown key"
        if where.container is not None:
            message += "; accepted keys: " + ", ".join(_accepted_keys(where.container))
    elif kind == "missing":
        message = "missing required key"
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        name = _discriminator_name(where.disc) or str(ctx.get("discriminator", "kind")).strip("'")
        tags: list[str] = []
        for member in _union_members(where.tp):
            tags += _tags_of(member, where.disc)
        if not tags and "expected_tags" in ctx:
            tags = [t.strip().strip("'") for t in str(ctx["expected_tags"]).split(",")]
        known = f"known {name}s: {', '.join(sorted(tags))}"
        key_path.append(name)
        if kind == "union_tag_invalid":
            message = f"unknown {name} '{ctx.get('tag', '?')}'; {known}"
        else:
            message = f"missing required key; {known}"
    elif kind in ("value_error", "assertion_error") and "error" in ctx:
        message = str(ctx["error"])
        named = _KEYED_MESSAGE.match(message) or _field_message(where.tp, message)
        if named:
            # a cross-field check names the key it is about: "compute.count: ..."
            key_path += [int(p) if p.isdigit() else p for p in _PATH_PART.findall(named[1])]
            message = named[2]
    else:
        message = error["msg"]
        for prefix in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(prefix)
        value = where.value if where.value is not _MISSING else error.get("input")
        shown = _show(value)
        if shown is None and isinstance(value, list | dict):
            shown = "a list" if isinstance(value, list) else "a mapping"
        if shown is not None:
            message += f" (got {shown})"
    return _Issue(tuple(key_path), message)


def _field_message(model: Any, message: str) -> re.Match[str] | None:
    """Match "field: ..." when `field` is a field of `model` (a check about one section)."""
    named = _BARE_KEY_MESSAGE.match(message)
    is_model = isinstance(model, type) and issubclass(model, BaseModel)
    return named if named and is_model and named[1] in model.model_fields else None


def _split_keys(issue: _Issue) -> list[_Issue]:
    """An issue about two keys at once ("a.b, c.d: ...") becomes one issue per key."""
    named = _KEYS_MESSAGE.match(issue.message)
    if not named:
        return [issue]
    out = []
    for path in named[1].split(", "):
        parts = [int(p) if p.isdigit() else p for p in _PATH_PART.findall(path)]
        out.append(_Issue((*issue.key_path, *parts), named[2]))
    return out


def validate(
    model_cls: type[ModelT],
    data: object,
    path: str | Path,
    source_map: SourceMap | None = None,
) -> ModelT:
    """Validate ``data`` into ``model_cls``; every pydantic error becomes one ConfigError.

    Each issue carries the dotted key path, the file and line where that key (or its
    nearest written parent) is, and a message meant for the person editing the YAML.
    """
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        source_map = source_map or SourceMap(Path(path))
        issues: dict[ConfigIssue, None] = {}  # ordered, without repeats
        errors = exc.errors(include_url=False)
        for error in errors[:MAX_REPORTED_ISSUES]:
            for found in _split_keys(_issue_for(model_cls, data, error)):
                file, line = source_map.locate(found.key_path)
                issue = ConfigIssue(
                    format_key_path(found.key_path),
                    found.message,
                    line,
                    None if file == source_map.path else file,
                )
                issues[issue] = None
        if len(errors) > MAX_REPORTED_ISSUES:
            more = len(errors) - MAX_REPORTED_ISSUES
            issues[ConfigIssue("", f"... and {more} more problems not listed")] = None
        raise ConfigError(path, list(issues)) from exc


def load_config(
    model_cls: type[ModelT], path: str | Path, search_dirs: Sequence[str | Path] = ()
) -> ModelT:
    """Read ``path``, merge its ``extends`` preset, expand repeated list items
    (:mod:`neurosim.config.repeat`) and validate it into ``model_cls``."""
    data, lines = load_yaml_with_lines(path)
    merged, source_map = resolve_extends(path, data, lines, search_dirs)
    expanded, locations = expand_repeats(merged, source_map.locations, source_map.path)
    return validate(model_cls, expanded, path, SourceMap(source_map.path, locations))
