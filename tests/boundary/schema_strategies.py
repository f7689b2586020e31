"""Hypothesis strategies for form submissions, generated from the form's own JSON Schema.

Written here rather than taken from hypothesis-jsonschema: its latest release (0.23.1) fails on the
Hypothesis versions this project installs ("'many' object has no attribute 'more'"), and our forms use a
small subset of JSON Schema (objects, strings with enums, patterns, lengths and formats, arrays, booleans).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from engine.domain.forms import PROTECTED_VARIABLES

FORMATS = {
    "money": st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2).map(str),
    "money-or-zero": st.decimals(min_value=Decimal(0), max_value=Decimal("999.99"), places=2).map(str),
    "identifier": st.from_regex(r"\A[0-9A-Za-z]{1,12}\Z"),
    "date": st.dates().map(lambda d: d.isoformat()),
}
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(
    max_size=40)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=12), inner, max_size=4), max_leaves=12)
TYPED = st.sampled_from([  # what SpiffWorkflow's serializer registry revives
    {"typename": "timedelta", "days": 10**9, "seconds": 0, "microseconds": 0},
    {"typename": "datetime", "value": "9999-12-31T23:59:59"},
    {"typename": "Decimal", "value": "1E+999999"},
    {"typename": "BpmnWorkflow"},
    {"typename": "set", "value": []},
])
OVERSIZED = st.sampled_from(["x" * 5000, "x" * (300 * 1024), ["1.00"] * 1000, {"k": "v" * 70_000},
                             [[[[[[[[[["deep"]]]]]]]]]]])


def submission(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A submission the schema would accept, apart from conditions such as if/then."""
    return _value(schema)  # type: ignore[return-value]


def _value(node: dict[str, Any]) -> st.SearchStrategy[Any]:
    options = node.get("oneOf") or node.get("anyOf")
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if isinstance(options, list) and all("const" in o for o in options):
        return st.sampled_from([o["const"] for o in options])
    kinds = node.get("type", "string")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return st.one_of([_typed(kind, node) for kind in kinds])


def _typed(kind: str, node: dict[str, Any]) -> st.SearchStrategy[Any]:
    if kind == "object":
        props = {k: v for k, v in (node.get("properties") or {}).items() if not v.get("readOnly")}
        required = [k for k in node.get("required", []) if k in props]
        optional = {k: _value(v) for k, v in props.items() if k not in required}
        return st.fixed_dictionaries({k: _value(props[k]) for k in required}, optional=optional)
    if kind == "array":
        return st.lists(_value(node.get("items") or {}), min_size=node.get("minItems", 0),
                        max_size=min(node.get("maxItems", 3), 3))
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(min_value=0, max_value=10**6)
    if kind == "null":
        return st.none()
    return _string(node)


def _string(node: dict[str, Any]) -> st.SearchStrategy[str]:
    if node.get("format") in FORMATS:
        return FORMATS[node["format"]]
    if "pattern" in node:
        return st.from_regex(node["pattern"], fullmatch=True).filter(lambda s: len(s) <= node.get("maxLength", 99))
    return st.text(min_size=node.get("minLength", 0), max_size=min(node.get("maxLength", 40), 40))


def mutated(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A hostile submission: a valid one with an extra field, a wrong type, a typed-serializer dict, an
    oversized value or an engine variable in it, or no object at all."""
    bad_value = JSON | TYPED | OVERSIZED
    extra_key = st.text(min_size=1, max_size=20) | st.sampled_from(sorted(PROTECTED_VARIABLES))

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        form = dict(draw(submission(schema)))
        kind = draw(st.sampled_from(["extra", "replace", "nested", "whole"]))
        if kind == "extra":
            form[draw(extra_key)] = draw(bad_value | JSON)
        elif kind == "replace" and form:
            form[draw(st.sampled_from(sorted(form)))] = draw(bad_value)
        elif kind == "nested" and isinstance(form.get("lines"), list) and form["lines"]:
            line = dict(form["lines"][0])
            line[draw(st.sampled_from(sorted(line)) | st.text(min_size=1, max_size=8))] = draw(bad_value)
            form["lines"] = [line, *form["lines"][1:]]
        else:
            return draw(bad_value)
        return form

    return build()
