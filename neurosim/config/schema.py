"""JSON Schema of config models, and a markdown reference of every field.

`json_schema` is what `neurosim schema KIND` prints (for editors); `reference_markdown`
is `docs/config-reference.md` (written by `scripts/config_reference.py`, checked by a
test). Both read the pydantic models, so they cannot drift from what the loader accepts;
which models each file kind holds is `neurosim.analysis.config_docs.config_models`.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any, Literal, Union

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from neurosim.units import DIMENSIONS

_SI = {
    "time": "s",
    "frequency": "Hz",
    "energy": "J",
    "power": "W",
    "bytes": "B",
    "bandwidth": "B/s",
    "energy_per_bit": "J/bit",
    "area": "m^2",
    "dimensionless": "",
}
_BOUNDS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_JSON_BOUNDS = {
    "gt": "exclusiveMinimum",
    "ge": "minimum",
    "lt": "exclusiveMaximum",
    "le": "maximum",
}


def _parser_dimension(meta: Any) -> str | None:
    name = getattr(getattr(meta, "func", None), "__name__", "")
    if name.startswith("parse_") and name[6:] in DIMENSIONS:
        return name[6:]
    return None


def dimension_of(info: FieldInfo) -> str | None:
    """The physical dimension of a quantity field ('time', 'energy', ...), else None."""
    for meta in info.metadata:
        if (dim := _parser_dimension(meta)) is not None:
            return dim
    return None


# --------------------------------------------------------------------------- JSON Schema


def _text_form(meta: Any) -> str | None:
    """How a before-validator reads text: a unit dimension, or its docstring's first line."""
    dim = _parser_dimension(meta)
    if dim is not None:
        d = DIMENSIONS[dim]
        return f"{d.noun} with a unit, e.g. {d.example!r}; units: {', '.join(d.units)}"
    func = getattr(meta, "func", None)
    if type(meta).__name__ == "BeforeValidator" and func is not None and func.__doc__:
        return func.__doc__.strip().splitlines()[0]
    return None


def _text_forms(tp: Any, extra_meta: Sequence[Any] = ()) -> set[str]:
    """Text forms a type accepts besides numbers (quantities with units, "312 TFLOPS")."""
    tp, meta = _strip(tp)
    found = {t for m in [*extra_meta, *meta] if (t := _text_form(m)) is not None}
    if not (isinstance(tp, type) and issubclass(tp, BaseModel)):
        for arg in typing.get_args(tp):
            found |= _text_forms(arg)
    return found


def _with_text(node: Any, text: str) -> Any:
    """Every plain number schema inside `node` (not behind a $ref) also accepts `text`."""
    if isinstance(node, list):
        return [_with_text(n, text) for n in node]
    if not isinstance(node, dict):
        return node
    if node.get("type") == "number":
        number = {k: v for k, v in node.items() if k not in ("title", "description", "default")}
        for short, long in _JSON_BOUNDS.items():
            if short in number:
                number[long] = number.pop(short)
        out = {k: node[k] for k in ("title", "description", "default") if k in node}
        out["anyOf"] = [number, {"type": "string", "description": text}]
        return out
    return {k: _with_text(v, text) for k, v in node.items()}


def _loosen(schema: dict, model: type[BaseModel], defs: dict) -> None:
    """Quantities also accept unit strings; required keys are left to `neurosim validate`
    (a file that `extends:` a preset sets only what it changes)."""
    schema.pop("required", None)
    props = schema.get("properties", {})
    for field_name, info in model.model_fields.items():
        name = info.alias or field_name
        forms = _text_forms(info.annotation, info.metadata)
        if len(forms) == 1 and name in props:
            props[name] = _with_text(props[name], forms.pop())
        for sub in _submodels(info.annotation):
            if sub.__name__ in defs and not defs[sub.__name__].get("_done"):
                defs[sub.__name__]["_done"] = True
                _loosen(defs[sub.__name__], sub, defs)
                if _has_shorthand(sub):
                    defs[sub.__name__] = _or_shorthand(defs[sub.__name__])


def _has_shorthand(model: type[BaseModel]) -> bool:
    """A model-level 'before' validator may turn a non-mapping (a text, a list) into one."""
    validators = model.__pydantic_decorators__.model_validators.values()
    return any(v.info.mode in ("before", "wrap") for v in validators)


def _or_shorthand(schema: dict) -> dict:
    """The mapping form is checked; a shorthand (not a mapping) is left to the loader."""
    return {
        "anyOf": [schema, {"not": {"type": "object"}}],
        "description": (schema.get("description", "") + " (a shorthand is accepted too)").strip(),
        "_done": True,
    }


def json_schema(models: Sequence[type[BaseModel]], title: str, extends: bool = True) -> dict:
    """JSON Schema (draft 2020-12) of a file holding any one of `models`, for editors."""
    from pydantic import TypeAdapter

    target: Any = models[0] if len(models) == 1 else Union[tuple(models)]  # noqa: UP007
    schema = TypeAdapter(target).json_schema()
    defs = schema.setdefault("$defs", {})
    tops = [schema] if len(models) == 1 else [defs[m.__name__] for m in models]
    for top, model in zip(tops, models, strict=True):
        _loosen(top, model, defs)
        if extends:
            top.setdefault("properties", {})["extends"] = {
                "type": "string",
                "description": "a preset name or relative path whose values this file "
                "changes (one level only)",
            }
    _allow_repeat(schema, defs)
    for d in defs.values():
        d.pop("_done", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = title
    return schema


_REPEAT_KEYS = {
    "repeat": {
        "description": "this list item stands for that many items: a count, or "
        "{count: N, start: S}; {i} in its strings becomes the instance number",
    },
    "vary": {
        "type": "object",
        "description": "per-instance values of a repeated item: key -> list, one per instance",
    },
}


def _allow_repeat(node: Any, defs: dict) -> None:
    """Items of lists of sections may carry `repeat:` and `vary:` (neurosim.config.repeat),
    which the loader expands before validating."""
    if isinstance(node, list):
        for n in node:
            _allow_repeat(n, defs)
        return
    if not isinstance(node, dict):
        return
    ref = node.get("items", {}).get("$ref", "") if node.get("type") == "array" else ""
    target = defs.get(ref.rsplit("/", 1)[-1]) if ref.startswith("#/$defs/") else None
    if target is not None and "properties" in target:
        for key, spec in _REPEAT_KEYS.items():
            target["properties"].setdefault(key, spec)
    for key, value in node.items():
        if key != "$defs":
            _allow_repeat(value, defs)
    for value in node.get("$defs", {}).values():
        _allow_repeat(value, defs)


# --------------------------------------------------------------------------- reference


def _strip(tp: Any) -> tuple[Any, list]:
    """(type without Annotated, metadata found on the way)."""
    meta: list = []
    while typing.get_origin(tp) is typing.Annotated:
        args = typing.get_args(tp)
        tp, meta = args[0], meta + list(args[1:])
    return tp, meta


def _union_args(tp: Any) -> tuple | None:
    if typing.get_origin(tp) in (Union, types.UnionType):
        return typing.get_args(tp)
    return None


def _submodels(tp: Any) -> list[type[BaseModel]]:
    tp, _ = _strip(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(tp):
        out += _submodels(arg)
    return out


def _kind_tag(model: type[BaseModel]) -> str | None:
    info = model.model_fields.get("kind")
    if info is not None and typing.get_origin(info.annotation) is Literal:
        return str(typing.get_args(info.annotation)[0])
    return None


def _bounds(meta: list) -> list[str]:
    out = []
    for m in meta:
        if isinstance(m, FieldInfo):  # Field(gt=0) inside an Annotated alias
            out += _bounds(m.metadata)
            continue
        for attr, sign in _BOUNDS.items():
            value = getattr(m, attr, None)
            if value is not None and isinstance(
                m, (annotated_types.Gt, annotated_types.Ge, annotated_types.Lt, annotated_types.Le)
            ):
                out.append(f"{sign} {value:g}")
        if isinstance(m, annotated_types.MinLen) and m.min_length:
            out.append(f"at least {m.min_length} item(s)" if m.min_length > 1 else "not empty")
        if isinstance(m, annotated_types.MaxLen):
            out.append(f"at most {m.max_length} item(s)")
    return out


def _type_text(tp: Any, section_of: dict[type, str]) -> tuple[str, list[str]]:
    """Readable type and the accepted values it implies."""
    tp, meta = _strip(tp)
    accepted = _bounds(meta)
    args = _union_args(tp)
    if args is not None:
        parts = [a for a in args if a is not type(None)]
        texts = []
        for a in parts:
            text, acc = _type_text(a, section_of)
            texts.append(text)
            accepted += acc
        return " or ".join(dict.fromkeys(texts)), accepted
    if typing.get_origin(tp) is Literal:
        return "choice", [" | ".join(f"`{v}`" for v in typing.get_args(tp))]
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        where = section_of.get(tp)
        return (f"section [{where}](#{_anchor(where)})" if where else "section"), accepted
    origin = typing.get_origin(tp)
    if origin in (list, tuple):
        inner = [a for a in typing.get_args(tp) if a is not Ellipsis]
        text, acc = _type_text(inner[0], section_of) if inner else ("value", [])
        return f"list of {text}", accepted + acc
    if origin is dict:
        key, value = typing.get_args(tp)
        key_text, key_accepted = _type_text(key, section_of)
        if key_text == "choice":
            key_text = f"({key_accepted[0]})"
        value_text, value_accepted = _type_text(value, section_of)
        return f"mapping {key_text} -> {value_text}", accepted + value_accepted
    names = {int: "integer", float: "number", str: "text", bool: "true/false"}
    return names.get(tp, getattr(tp, "__name__", str(tp))), accepted


def _anchor(title: str | None) -> str:
    keep = "".join(c for c in (title or "").lower() if c.isalnum() or c in " -_")
    return keep.replace(" ", "-")


def _default_text(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "none (absent)"
    if isinstance(value, BaseModel):
        return "see section"
    if value in ({}, []):
        return "empty"
    if value == "":
        return '`""`'
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"`{value}`"


def _cell(text: str) -> str:
    return " ".join(str(text).replace("|", "\\|").split())


def _sections(
    root: type[BaseModel], root_name: str, prefix: str = ""
) -> list[tuple[str, type[BaseModel]]]:
    """(dotted path title, model) for the root and every nested section, breadth first."""
    out: list[tuple[str, type[BaseModel]]] = [(root_name, root)]
    seen = {root}
    i = 0
    while i < len(out):
        title, model = out[i]
        base = "" if i == 0 else title.removeprefix(prefix).split(" (")[0]
        for name, info in model.model_fields.items():
            subs = _submodels(info.annotation)
            for sub in subs:
                if sub in seen:
                    continue
                seen.add(sub)
                path = f"{base}.{name}" if base else name
                if typing.get_origin(_strip(info.annotation)[0]) in (list, dict) or any(
                    typing.get_origin(_strip(a)[0]) in (list, dict)
                    for a in (_union_args(_strip(info.annotation)[0]) or ())
                ):
                    path += "[]" if "list" in str(info.annotation) else ".NAME"
                tag = _kind_tag(sub) if len(subs) > 1 else None
                sub_title = prefix + (f"{path} (kind: {tag})" if tag else path)
                if "(kind: " in title:
                    sub_title += " (in " + title.split(" (", 1)[1].rstrip(")") + ")"
                out.append((sub_title, sub))
        i += 1
    return out


def _model_table(model: type[BaseModel], section_of: dict[type, str], title: str) -> list[str]:
    lines = [f"### {title}", ""]
    doc = (model.__doc__ or "").strip().split("\n\n")[0]
    if doc:
        lines += [" ".join(doc.split()), ""]
    lines += [
        "| key | type | unit | default | accepted | description |",
        "|---|---|---|---|---|---|",
    ]
    for field_name, info in model.model_fields.items():
        name = info.alias or field_name  # the key as written in YAML
        tp_text, accepted = _type_text(info.annotation, section_of)
        accepted = accepted + _bounds(info.metadata)
        dim = dimension_of(info)
        unit = ""
        if dim is not None:
            unit = _SI[dim] or "fraction"
            tp_text = "quantity"
            accepted.append(f"e.g. `{DIMENSIONS[dim].example}`")
        else:
            accepted += sorted(_text_forms(info.annotation, info.metadata))
        desc = info.description or ""
        accepted_text = ", ".join(dict.fromkeys(accepted))
        cells = [f"`{name}`", tp_text, unit, _default_text(info), accepted_text, desc]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines + [""]


_INTRO = """\
# Configuration reference

Generated from the config models by `python scripts/config_reference.py`; do not edit by
hand (a test checks this file equals a fresh generation). For editor completion, print a
JSON Schema with `neurosim schema architecture|workload|sweep`.

Quantities are numbers in SI units (the unit column) or strings with a unit: `"3 ns"`,
`"25.6 GB/s"`, `"1.7 pJ"`, `"1.25 GHz"`, `"20.5 MiB"`, `"13.5 pJ/bit"`. Unknown keys are
errors that list the accepted ones. A section with a `kind` takes the keys of that kind.

## `extends:` and removing an inherited key

An architecture or workload file may start with `extends: NAME` (a preset in
`architectures/` or `workloads/`, or a path relative to the file). The file is merged
over the preset: mappings merge key by key, any other value (a number, a text, a **list**)
replaces the preset's. Only one level: a preset that is extended may not itself extend
another.

There is no delete marker. To drop what a preset sets:

- an optional section or value (default "none (absent)" below, e.g. `adc`, `chips`,
  `published`): set it to `null`, e.g. `adc: null`;
- a list entry (e.g. one DRAM channel): write the whole list again without it;
- a section of another `kind`: give the new `kind`; the section is then replaced, not
  merged, so write all of its keys;
- a key with a default: set it to the default value; a required key cannot be removed.

`neurosim validate FILE` shows the merged result and names the file and line of every
problem. The same dotted paths work on the command line (`--set
architecture.adc.bits=6`) and as sweep axes.
"""


def reference_markdown(groups: Sequence[tuple[str, Sequence[type[BaseModel]]]]) -> str:
    """The reference document: the intro, then per (heading, models) every section's fields."""
    lines = [_INTRO]
    for heading, models in groups:
        lines += [f"## {heading}", ""]
        for n, model in enumerate(models):
            prefix = f"{model.__name__}: " if n else ""
            sections = _sections(model, f"{model.__name__} (top level)", prefix)
            section_of = {m: t for t, m in sections}
            for title, m in sections:
                lines += _model_table(m, section_of, title)
    return "\n".join(lines).rstrip() + "\n"
