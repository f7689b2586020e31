"""A submitted HTML form back into the JSON a task's schema describes, by the schema's types only.

Nothing is guessed: ``"1"`` stays text where the schema says string; a number field's text becomes
a number only when it is plainly one (``12``, ``-3.5``), else it goes on as the text typed, so the
engine's check refuses it by name (``lines[0].nights: must be a whole number``) and the page shows
the person what they wrote. Money stays text (the engine's one money parser reads it). Checking is
the engine's job (engine/domain/forms.py); this module only restores the shape.

Conventions the templates follow (web/templates/pages/_form.html):

- scalars: one input named by the field's path (``purpose``, ``lines[2].amount``);
- checkboxes: a hidden ``false`` before the box, so an unticked box still says false;
- arrays: a hidden ``_arrays`` input names each array the form showed, so an emptied list is sent
  as ``[]`` and not left out; table rows are the indices present, in order, blank rows dropped;
- attachments: the ids kept (hidden inputs or ticked boxes named by the path), new files in
  ``PATH.upload``: ``uploads`` lists (path, file) for the caller to store first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from web.forms.fields import ATTACHMENT, options_of, types_of

ARRAYS_MARKER = "_arrays"
UPLOAD_SUFFIX = ".upload"
NOT_GIVEN_WHEN_EMPTY = frozenset({"enum", "oneOf", "anyOf", "const"})
EMPTY_FORMATS = frozenset({"date", "money", "money-or-zero", ATTACHMENT})
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


class FormData(Protocol):
    """What werkzeug's MultiDict offers (and a plain test double can)."""

    def getlist(self, key: str) -> list[Any]: ...

    def keys(self) -> Any: ...


@dataclass
class Parsed:
    data: dict[str, Any]
    uploads: list[tuple[str, Any]] = field(default_factory=list)  # (array path, FileStorage) in form order


def parse(schema: Mapping[str, Any], form: FormData, files: FormData | None = None) -> Parsed:
    """The writable fields of ``schema`` found in ``form`` (read-only ones are never taken from a form)."""
    result = Parsed(data={})
    arrays = set(form.getlist(ARRAYS_MARKER))
    result.data = _object(schema, form, "", arrays, files, result)
    return result


def _object(schema: Mapping[str, Any], form: FormData, prefix: str, arrays: set[str], files: FormData | None,
            result: Parsed) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, Mapping) or prop.get("readOnly"):
            continue
        path = f"{prefix}.{key}" if prefix else key
        found, value = _value(prop, form, path, arrays, files, result)
        if found:
            data[key] = value
    return data


def _value(prop: Mapping[str, Any], form: FormData, path: str, arrays: set[str], files: FormData | None,
           result: Parsed) -> tuple[bool, Any]:
    kind, nullable = types_of(prop)
    if kind == "object":
        inner = _object(prop, form, path, arrays, files, result)
        return bool(inner), inner
    if kind == "array":
        if path not in arrays:
            return False, None
        return True, _array(prop, form, path, arrays, files, result)
    raw = form.getlist(path)
    if not raw:
        return False, None
    if kind == "boolean":
        return True, "true" in raw  # the hidden "false" comes first; a ticked box adds "true"
    return _scalar(kind, nullable, prop, str(raw[-1]))


def _scalar(kind: str | None, nullable: bool, prop: Mapping[str, Any], text: str) -> tuple[bool, Any]:
    if text.strip() == "":
        if nullable:
            return True, None
        # Text may be empty (a digital invoice has no invoice code); a choice, a date, an amount or a number
        # left empty is not given, so the engine says "required" or applies the default, not "not a date".
        given = kind == "string" and not (NOT_GIVEN_WHEN_EMPTY & set(prop)) and prop.get("format") not in EMPTY_FORMATS
        return (True, "") if given else (False, None)
    if kind == "integer" and _INTEGER.fullmatch(text.strip()):
        return True, int(text.strip())
    if kind == "number" and _NUMBER.fullmatch(text.strip()):
        stripped = text.strip()
        return True, int(stripped) if _INTEGER.fullmatch(stripped) else float(stripped)
    return True, text  # strings as typed; a number field's non-number goes on for the engine to refuse


def _array(prop: Mapping[str, Any], form: FormData, path: str, arrays: set[str], files: FormData | None,
           result: Parsed) -> list[Any]:
    items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
    assert isinstance(items, Mapping)
    item_kind, _ = types_of(items)
    if item_kind == "object":
        return _rows(items, form, path, arrays, files, result)
    if items.get("format") == ATTACHMENT:
        if files is not None:
            result.uploads.extend((path, f) for f in files.getlist(path + UPLOAD_SUFFIX) if getattr(f, "filename", ""))
        return [str(v) for v in form.getlist(path) if str(v).strip()]
    if options_of(items):
        return [str(v) for v in form.getlist(path)]
    text = "\n".join(str(v) for v in form.getlist(path))
    return [line.strip() for line in text.splitlines() if line.strip()]


def _rows(items: Mapping[str, Any], form: FormData, path: str, arrays: set[str], files: FormData | None,
          result: Parsed) -> list[dict[str, Any]]:
    pattern = re.compile(re.escape(path) + r"\[([0-9]{1,4})\]\.")
    indices = sorted({int(m.group(1)) for k in form.keys() if (m := pattern.match(k))})
    rows = []
    for n in indices:
        row_path = f"{path}[{n}]"
        if all(_blank(v) for k in form.keys() if k.startswith(row_path + ".") for v in form.getlist(k)):
            continue  # an untouched blank row (hidden "false" of a checkbox counts as blank)
        rows.append(_object(items, form, row_path, arrays, files, result))
    return rows


def _blank(value: Any) -> bool:
    return str(value).strip() in ("", "false")
