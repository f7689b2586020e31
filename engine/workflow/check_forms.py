"""``bpmn check`` rules for the forms user tasks name: what makes a form unsafe to put in front of people.

Every form a user task names must be a valid JSON Schema (draft 2020-12) of ``"type": "object"`` that
says what each field is and how big it may get: every object closes itself (``additionalProperties:
false``), every string has a ``maxLength`` (or is an enum, a const or a date), every array a ``maxItems``,
and only known formats are used. No writable field may be one the engine sets (the applicant, the org
unit, reservations, lane owners, service results...), and no user task may store its form under such a
name (``spiffworkflow:variableName``). The engine enforces the same at run time; the check tells the
designer before publishing.
"""

from __future__ import annotations

import difflib
import functools
import json
import posixpath
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from lxml import etree

from engine.domain.forms import (
    ATTACHMENT_FORMAT,
    IDENTIFIER_FORMAT,
    MONEY_FORMATS,
    PROTECTED_VARIABLES,
    schema_problems,
)
from engine.workflow.bundle import BPMN, SPIFF, engine_variables, is_form_file, resolve_form_path, safe_parser
from engine.workflow.check_common import element_id

KNOWN_FORMATS = frozenset({*MONEY_FORMATS, IDENTIFIER_FORMAT, ATTACHMENT_FORMAT, "date", "date-time", "time", "email",
                           "uri"})
_BOUNDED_STRING = {"enum", "const", "maxLength"}
NAMING_RULE = ("a form file's name ends in .schema.json (or -schema.json, SpiffArena's naming; a -uischema.json "
               "file is a layout and is not read)")


def check_forms(files: Mapping[str, str], trees: Mapping[str, Any] | None = None) -> list[str]:
    """``file:element-id: message`` for every user task whose form is unsafe or unusable.

    ``trees`` are the already parsed diagrams (path -> root); by default the files are parsed here.
    """
    if trees is None:
        trees = {n: t for n, t in ((n, _parse(x)) for n, x in files.items() if n.endswith((".bpmn", ".dmn")))
                 if t is not None}
    protected = PROTECTED_VARIABLES | engine_variables(trees.values())
    problems: list[str] = []
    for name, tree in sorted(trees.items()):
        if not name.endswith(".bpmn"):
            continue
        for task in tree.iter(f"{BPMN}userTask"):
            where = element_id(task)
            problems.extend(f"{name}:{where}: {p}" for p in _task_problems(name, task, files, protected))
    return problems


def form_files(name: str, root: Any, files: Mapping[str, str], unread: Iterable[str] = ()) -> Iterator[str]:
    """A form a user task names that is not in the bundle: where it was looked for, and what is there instead.

    ``unread`` are the folder's .json files whose names are not form names (``read_folder``): a form
    named ``simple_form.json`` beside the diagram is there, and the line says so and how to name it.
    """
    forms = sorted(f for f in files if f.endswith(".json"))
    for task in root.iter(f"{BPMN}userTask"):
        for prop in task.iter(f"{SPIFF}property"):
            if prop.get("name") != "formJsonSchemaFilename":
                continue
            form = prop.get("value", "")
            if resolve_form_path(files, name, form) is None:
                yield f"{name}:{element_id(task)}: {_not_found(name, form, forms, sorted(unread))}"


def _not_found(diagram: str, form: str, forms: list[str], unread: list[str]) -> str:
    folder = posixpath.dirname(diagram)
    rules = ((posixpath.join(folder, form), "beside the diagram"), (posixpath.join(folder, "forms", form),
             "in its forms/ folder"), (form, "as given, from the folder's root"))
    looked: dict[str, str] = {}
    for path, rule in rules:
        looked.setdefault(posixpath.normpath(path), rule)
    present = next((path for path in looked if path in unread), None)
    if present is not None:  # the file is there: only its name keeps it out
        at = "" if present == posixpath.normpath(form) else f" as {present}"
        return (f"form file {form!r} is present{at} but not read as a form: {NAMING_RULE}; "
                f"rename it {_form_name(posixpath.basename(present))!r} and name that in the user task")
    candidates = forms + [f for f in unread if not is_form_file(f)]
    names = [posixpath.basename(f) for f in candidates]
    same = [f for f in candidates if posixpath.basename(f) == posixpath.basename(form)]  # another folder
    close = set(difflib.get_close_matches(posixpath.basename(form), names, n=3, cutoff=0.6))
    similar = [_marked(f, forms) for f in (same or [f for f in candidates if posixpath.basename(f) in close])]
    tail = f"; similar files present: {', '.join(similar)}" if similar else "; no similarly named form is present"
    where = "; ".join(f"{path} ({rule})" for path, rule in looked.items())
    return f"form file {form!r} not found beside the diagram: looked for {where}{tail} ({NAMING_RULE})"


def _marked(path: str, forms: list[str]) -> str:
    return path if path in forms else f"{path} (not read as a form: its name does not follow the naming rule)"


def _form_name(file_name: str) -> str:
    """``simple_form.json`` -> ``simple_form.schema.json``: the name the naming rule reads."""
    return f"{file_name.removesuffix('.json')}.schema.json"


def _parse(text: str) -> Any:
    try:
        return etree.fromstring(text.encode("utf-8"), parser=safe_parser())
    except (etree.XMLSyntaxError, ValueError):
        return None  # reported by the parse step


def _task_problems(name: str, task: Any, files: Mapping[str, str], protected: frozenset[str]) -> Iterator[str]:
    variable = task.find(f".//{SPIFF}variableName")
    if variable is not None and (variable.text or "").strip() in protected:
        yield f"the form is stored under {variable.text.strip()!r}, which the engine sets"
    for prop in task.iter(f"{SPIFF}property"):
        if prop.get("name") != "formJsonSchemaFilename":
            continue
        path = resolve_form_path(files, name, prop.get("value", ""))
        if path is None:
            continue  # "not found" is form_files' rule
        yield from (f"form {path}{p}" for p in form_problems(files[path], protected))


@functools.lru_cache(maxsize=256)
def form_problems(text: str, protected: frozenset[str]) -> tuple[str, ...]:
    """What is wrong with one form's text (memoized: a form is named by many tasks, and validating a
    schema against the JSON Schema meta-schema is the slowest step of the check)."""
    try:
        schema = json.loads(text)
    except ValueError as exc:
        return (f" is not JSON: {exc}",)
    problems = [f": {p}" for p in schema_problems(schema)]
    if isinstance(schema, dict) and not problems:
        problems.extend(f": {p}" for p in _looseness(schema, protected))
    return tuple(problems)


def _looseness(schema: dict[str, Any], protected: frozenset[str]) -> Iterator[str]:
    for field, spec in (schema.get("properties") or {}).items():
        if field in protected and not (isinstance(spec, dict) and spec.get("readOnly")):
            yield f"field {field!r} is set by the engine; a form may only show it (readOnly)"
    yield from _unbounded(schema, "")


def _bounded_string(node: dict[str, Any]) -> bool:
    if _BOUNDED_STRING & set(node) or node.get("format") in ("date", "date-time"):
        return True
    options = node.get("oneOf") or node.get("anyOf")
    return isinstance(options, list) and bool(options) and all(isinstance(o, dict) and "const" in o for o in options)


def _unbounded(node: Any, path: str) -> Iterator[str]:
    if not isinstance(node, dict):
        return
    kind, where = node.get("type"), path or "the form"
    if kind == "object" and node.get("additionalProperties") is not False:
        yield f"{where}: an object must say \"additionalProperties\": false"
    if kind == "string" and not _bounded_string(node):
        yield f"{where}: a text field needs a maxLength"
    if kind == "array" and "maxItems" not in node:
        yield f"{where}: a list needs a maxItems"
    if "format" in node and node["format"] not in KNOWN_FORMATS:
        yield f"{where}: unknown format {node['format']!r} (known: {', '.join(sorted(KNOWN_FORMATS))})"
    for key, child in (node.get("properties") or {}).items():
        yield from _unbounded(child, f"{path}.{key}" if path else key)
    if isinstance(node.get("items"), dict):
        yield from _unbounded(node["items"], f"{path}[]")
