"""A task's JSON Schema as a tree of fields a template draws (no Flask here: plain data).

Each schema construct has one way to be shown, so a form never depends on a designer's widget hints:

| schema | field kind |
|---|---|
| ``readOnly`` | ``readonly``: shown as text, never submitted |
| string, ``oneOf`` of ``const`` + ``title`` or ``enum`` | ``radios`` (up to 4 choices) or ``select`` |
| string, ``format: money`` / ``money-or-zero`` | ``money``: a text input with ``inputmode=decimal`` |
| string, ``format: date`` | ``date`` |
| string, ``format: attachment`` | ``attachment``: a file input, the stored id kept |
| string with ``maxLength`` > 200 | ``textarea``; other strings ``text`` |
| integer / number | ``integer`` / ``number`` (text inputs: no browser rounding or locale commas) |
| boolean | ``checkbox`` |
| object | ``group`` (a fieldset of its properties) |
| array of objects | ``table``: one row per item, blank rows to add more (claim lines) |
| array of ``format: attachment`` strings | ``attachments``: the files kept, plus an upload |
| array of enum strings / of other strings | ``choices`` (checkboxes) / ``lines`` (one item per line) |
| the ``decision`` property of an approval form | ``decision``: the page draws it as buttons |

Field names are the paths the engine names in its problems (``lines[1].amount``), so a refusal
lands next to the input it is about.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

BLANK_ROWS = 2  # empty claim lines offered below the filled ones (more with the "more lines" button)
CHOICE_RADIOS_UP_TO = 4
LONG_TEXT = 200
MONEY_FORMATS = ("money", "money-or-zero")
ATTACHMENT = "attachment"
DECISION = "decision"


@dataclass(frozen=True)
class Option:
    value: str
    title: str  # bilingual, as the schema writes it


@dataclass
class Field:
    path: str
    key: str
    kind: str
    title: str = ""
    description: str = ""
    required: bool = False
    value: Any = None
    options: list[Option] = field(default_factory=list)
    max_length: int | None = None
    nullable: bool = False
    fmt: str | None = None
    children: list[Field] = field(default_factory=list)  # a group's fields; a table's columns (row template)
    rows: list[list[Field]] = field(default_factory=list)  # a table's rows
    problems: list[str] = field(default_factory=list)

    @property
    def dom_id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]+", "-", self.path).strip("-")

    @property
    def text(self) -> str:
        """The value as an input shows it: text as is, numbers as written, nothing for None."""
        if self.value is None or isinstance(self.value, dict | list):
            return ""
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return str(self.value)


def build(schema: Mapping[str, Any], values: Mapping[str, Any] | None = None, *,
          decisions: list[str] | None = None, blank_rows: int = BLANK_ROWS) -> list[Field]:
    """The fields of an object schema, filled from ``values`` (the task's data restricted to the form)."""
    return _properties(schema, values or {}, "", decisions=decisions or [], blank_rows=blank_rows)


def _properties(schema: Mapping[str, Any], values: Mapping[str, Any], prefix: str, *, decisions: list[str],
                blank_rows: int) -> list[Field]:
    required = set(schema.get("required") or [])
    result = []
    for key, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, Mapping):
            continue
        path = f"{prefix}.{key}" if prefix else key
        made = _field(prop, values.get(key, prop.get("default")), path, key, decisions=decisions,
                      blank_rows=blank_rows)
        made.required = key in required and not prop.get("readOnly")
        result.append(made)
    return result


def types_of(prop: Mapping[str, Any]) -> tuple[str | None, bool]:
    """(the one non-null JSON type, whether null is allowed too): ``["string", "null"]`` is (``string``, True)."""
    kinds = prop.get("type")
    if isinstance(kinds, list):
        real = [k for k in kinds if k != "null"]
        return (real[0] if real else None), "null" in kinds
    return kinds, False


def _field(prop: Mapping[str, Any], value: Any, path: str, key: str, *, decisions: list[str],
           blank_rows: int) -> Field:
    kind, nullable = types_of(prop)
    made = Field(path=path, key=key, kind="text", title=str(prop.get("title") or key),
                 description=str(prop.get("description") or ""), value=value, nullable=nullable,
                 max_length=prop.get("maxLength"), fmt=prop.get("format"), options=options_of(prop))
    if prop.get("readOnly"):
        made.kind = "readonly"
    elif key == DECISION and not path.count(".") and made.options:
        made.kind = DECISION
        allowed = decisions or [o.value for o in made.options]
        made.options = [o for o in made.options if o.value in allowed]
    elif kind == "object":
        made.kind = "group"
        made.children = _properties(prop, value if isinstance(value, Mapping) else {}, path,
                                    decisions=[], blank_rows=blank_rows)
    elif kind == "array":
        _array(made, prop, value, blank_rows)
    else:
        made.kind = _scalar_kind(kind, prop, made)
    return made


def _scalar_kind(kind: str | None, prop: Mapping[str, Any], made: Field) -> str:
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return str(kind)
    if made.options:
        return "radios" if len(made.options) <= CHOICE_RADIOS_UP_TO else "select"
    fmt = prop.get("format")
    if fmt in MONEY_FORMATS:
        return "money"
    if fmt in ("date", ATTACHMENT):
        return str(fmt)
    return "textarea" if (made.max_length or 0) > LONG_TEXT else "text"


def _array(made: Field, prop: Mapping[str, Any], value: Any, blank_rows: int) -> None:
    items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
    assert isinstance(items, Mapping)
    current = value if isinstance(value, list) else []
    item_kind, _ = types_of(items)
    if item_kind == "object":
        made.kind = "table"
        made.children = _properties(items, {}, f"{made.path}[__i__]", decisions=[], blank_rows=0)
        for cell in made.children:  # the row template a script copies: blank, like the blank rows
            cell.value = None
        filled = [r if isinstance(r, Mapping) else {} for r in current]
        made.rows = [_properties(items, row, f"{made.path}[{n}]", decisions=[], blank_rows=0)
                     for n, row in enumerate([*filled, *({} for _ in range(blank_rows))])]
        for row in made.rows[len(filled):]:  # blank rows start empty, not with the schema's defaults
            for cell in row:
                cell.value = None
        made.max_length = prop.get("maxItems")
    elif items.get("format") == ATTACHMENT:
        made.kind = "attachments"
        made.value = [str(v) for v in current]
    elif options_of(items):
        made.kind = "choices"
        made.options = options_of(items)
        made.value = [str(v) for v in current]
    else:
        made.kind = "lines"
        made.value = "\n".join(str(v) for v in current)


def options_of(prop: Mapping[str, Any]) -> list[Option]:
    """``oneOf``/``anyOf`` of ``{const, title}``, else ``enum`` values titled by themselves."""
    for key in ("oneOf", "anyOf"):
        choices = prop.get(key)
        if isinstance(choices, list) and choices and all(isinstance(c, Mapping) and "const" in c for c in choices):
            return [Option(str(c["const"]), str(c.get("title") or c["const"])) for c in choices]
    enum = prop.get("enum")
    if isinstance(enum, list):
        return [Option(str(v), str(v)) for v in enum if v is not None]
    return []


def walk(fields: list[Field]) -> list[Field]:
    """Every field, depth first (groups' children, tables' rows)."""
    found: list[Field] = []
    for f in fields:
        found.append(f)
        found.extend(walk(f.children) if f.kind == "group" else [])
        for row in f.rows:
            found.extend(walk(row))
    return found
