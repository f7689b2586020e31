"""The JSON Schema of a population file (engine/seed/simulation/population.yaml is the default one)."""

from __future__ import annotations

from typing import Any

_NUMBER = {"type": "number"}
_CLIP = {"min": _NUMBER, "max": _NUMBER, "jitter": {"type": "integer", "minimum": 0}}


def _draw(item: dict[str, Any]) -> dict[str, Any]:
    """A draw (engine/simulation/draws.py) whose values are ``item``."""
    return {"anyOf": [
        item,
        {"type": "object", "required": ["choices"], "additionalProperties": False, "properties": {
            "choices": {"type": "array", "minItems": 1, "items": item},
            "weights": {"type": "array", "minItems": 1, "items": {"type": "number", "minimum": 0}}, **_CLIP}},
        {"type": "object", "required": ["lognormal"], "additionalProperties": False, "properties": {
            "lognormal": {"type": "object", "required": ["median"], "additionalProperties": False, "properties": {
                "median": {"type": "number", "exclusiveMinimum": 0}, "sigma": {"type": "number", "minimum": 0}}},
            **_CLIP}},
        {"type": "object", "required": ["uniform"], "additionalProperties": False, "properties": {
            "uniform": {"type": "array", "items": _NUMBER, "minItems": 2, "maxItems": 2}, **_CLIP}},
    ]}


NUMBER_DRAW = _draw(_NUMBER)
VALUE_DRAW = _draw({"type": ["string", "number", "boolean"]})
SHARES = {"type": "object", "minProperties": 1, "additionalProperties": {"type": "number", "minimum": 0}}
BEHAVIOUR = {"type": "object", "additionalProperties": False, "properties": {
    "decisions": {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": {
        k: {"type": "number", "minimum": 0} for k in ("approve", "reject", "send_back")}},
    "response_hours": NUMBER_DRAW}}
TIME = {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$"}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "start": {"type": "string", "format": "date-time-local"},
        "horizon_days": {"type": "integer", "minimum": 1, "maximum": 3650},
        "calendar": {"type": "object", "additionalProperties": False, "properties": {
            "timezone": {"type": "string", "format": "timezone"},
            "working_days": {"type": "array", "minItems": 1, "uniqueItems": True,
                             "items": {"enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}},
            "hours": {"type": "array", "items": TIME, "minItems": 2, "maxItems": 2},
            "holidays": {"type": "array", "items": {"type": "string", "format": "date"}}}},
        "arrivals": {"type": "object", "additionalProperties": False, "properties": {
            "per_working_day": {"type": "number", "exclusiveMinimum": 0}}},
        "requests": {**SHARES, "propertyNames": {"enum": ["travel_application", "expense_claim"]}},
        "applicants": {"type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
                       "properties": {"employees": SHARES, "units": SHARES}},
        "subjects": SHARES,
        "budgeted_subjects_only": {"type": "boolean"},
        "amounts": NUMBER_DRAW,
        "fields": {"type": "object", "additionalProperties": VALUE_DRAW},
        "claims": {"type": "object", "additionalProperties": False, "properties": {"spent_ratio": NUMBER_DRAW}},
        "lanes": {"type": "object", "additionalProperties": BEHAVIOUR},
        "tasks": {"type": "object", "additionalProperties": BEHAVIOUR},
    },
}
