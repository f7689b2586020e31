"""Scenario files: what a designer expects a flow to do, as data (``*.scenario.yaml`` or ``*.scenario.json``).

A file holds one scenario or a list under ``scenarios``. Each starts a process for an applicant, acts in
order (complete a task as someone with a form, send a message, let virtual time pass) and states what it
expects: the user tasks reached in order, who was offered each, the outcome, the ledger effect on the
document's budget line, the diagram's notifications. bpmn/README.md ("Scenarios") is the designer's guide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from jsonschema import Draft202012Validator

ANY_CANDIDATE = "any candidate"
_MONEY = {"anyOf": [{"type": "string", "pattern": r"^-?\d+(\.\d{1,2})?$"}, {"type": "number"}]}
_STEP = {
    "type": "object",
    "oneOf": [
        {"required": ["task"], "properties": {
            "task": {"type": "string", "minLength": 1}, "by": {"type": "string", "minLength": 1},
            "form": {"type": "object"}}, "additionalProperties": False},
        {"required": ["message"], "properties": {
            "message": {"type": "string", "minLength": 1}, "by": {"type": "string", "minLength": 1},
            "payload": {"type": "object"}}, "additionalProperties": False},
        {"required": ["advance"], "properties": {"advance": {"type": "string", "pattern": "^P"}},
         "additionalProperties": False},
    ],
}
SCENARIO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "process", "applicant", "steps", "expect"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "description": {"type": "string"},
        "process": {"type": "string", "minLength": 1},
        "applicant": {"type": "string", "minLength": 1},
        "start": {"type": "object"},
        "application_of": {"type": "string", "minLength": 1},
        "steps": {"type": "array", "items": _STEP},
        "expect": {
            "type": "object", "additionalProperties": False, "minProperties": 1,
            "properties": {
                "route": {"type": "array", "items": {"type": "string"}},
                "approvers": {"type": "object", "additionalProperties": {
                    "type": "array", "items": {"type": "string"}}},
                "outcome": {"type": "string"},
                "ledger": {"type": "object", "additionalProperties": False, "properties": {
                    "line": {"type": "string"}, "reserved": _MONEY, "consumed": _MONEY, "released": _MONEY}},
                "notifications": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
}
FILE_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {"type": "object", "required": ["scenarios"], "additionalProperties": False,
         "properties": {"scenarios": {"type": "array", "minItems": 1, "items": {"type": "object"}}}},
        {"type": "object", "required": ["name"]},
    ],
}


class ScenarioInvalid(ValueError):
    """A scenario file that is not valid: ``problems`` are ``file:scenario-name: message`` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Step:
    kind: str  # task, message, advance
    element: str  # the task's BPMN id, the message name, the duration text
    by: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # the form, the message payload
    advance: timedelta | None = None


@dataclass(frozen=True)
class Scenario:
    file: str
    name: str
    process: str
    applicant: str
    start: dict[str, Any]
    steps: tuple[Step, ...]
    expect: dict[str, Any]
    application_of: str | None = None  # an earlier scenario whose approved application this claim draws on

    @property
    def where(self) -> str:
        return f"{self.file}:{self.name}"


def parse_file(file: str, document: Any) -> list[Scenario]:
    """The scenarios of one file's parsed content; ScenarioInvalid names every problem as file:scenario: message."""
    problems = [f"{file}:-: {_say(e)}" for e in Draft202012Validator(FILE_SCHEMA).iter_errors(document)]
    if problems:
        raise ScenarioInvalid(problems[:1])
    items = document["scenarios"] if "scenarios" in document else [document]
    scenarios, names = [], set()
    for n, item in enumerate(items, start=1):
        name = str(item.get("name") or f"#{n}")
        errors = sorted(Draft202012Validator(SCENARIO_SCHEMA).iter_errors(item), key=lambda e: list(e.path))
        found = [f"{file}:{name}: {_say(e)}" for e in errors]
        if name in names:
            found.append(f"{file}:{name}: a second scenario of this name (names are unique in a file)")
        names.add(name)
        if not found:
            steps, found = _steps(file, name, item["steps"])
            found += _money(file, name, item["expect"].get("ledger", {}))
        if found:
            problems += found
            continue
        scenarios.append(Scenario(file, name, item["process"], item["applicant"], dict(item.get("start") or {}),
                                  tuple(steps), item["expect"], item.get("application_of")))
    if problems:
        raise ScenarioInvalid(problems)
    return scenarios


def _steps(file: str, name: str, items: list[dict[str, Any]]) -> tuple[list[Step], list[str]]:
    steps, problems = [], []
    for n, item in enumerate(items, start=1):
        if "task" in item:
            steps.append(Step("task", item["task"], item.get("by"), dict(item.get("form") or {})))
        elif "message" in item:
            steps.append(Step("message", item["message"], item.get("by"), dict(item.get("payload") or {})))
        else:
            duration = parse_duration(item["advance"])
            if duration is None:
                problems.append(f"{file}:{name}: step {n}: advance {item['advance']!r} is not an ISO 8601 duration "
                                "such as PT80H or P3D")
            steps.append(Step("advance", item["advance"], advance=duration))
    return steps, problems


def _money(file: str, name: str, ledger: dict[str, Any]) -> list[str]:
    bad = []
    for key in ("reserved", "consumed", "released"):
        if key in ledger:
            try:
                Decimal(str(ledger[key]))
            except InvalidOperation:
                bad.append(f"{file}:{name}: expect.ledger.{key}: {ledger[key]!r} is not an amount")
    return bad


_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def parse_duration(text: str) -> timedelta | None:
    """PnWnDTnHnMnS (no years or months: their length is not fixed); None if ``text`` is not one."""
    match = _DURATION.match(text)
    if not match or text in ("P", "PT") or text.endswith("T"):
        return None
    weeks, days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)


def _say(error: Any) -> str:
    where = ".".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else str(error.message)
