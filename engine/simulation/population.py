"""A population file: who asks for what, and how each lane behaves (YAML or JSON, bpmn/README.md).

The file given is laid over the default one (engine/seed/simulation/population.yaml): its
top-level sections replace the default's, and ``lanes``, ``tasks``, ``calendar``, ``arrivals``
and ``claims`` merge entry by entry, so a file names only what it changes. Every problem is
reported as ``file: path: message`` (all of them, in path order) and nothing runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml  # type: ignore[import-untyped, unused-ignore]
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from engine.seed.simulation import default_population
from engine.simulation.calendar import BusinessCalendar, calendar_of
from engine.simulation.draws import normalise
from engine.simulation.population_schema import SCHEMA

MERGED = ("lanes", "tasks", "calendar", "arrivals", "claims")
MAX_BYTES = 1024 * 1024


class PopulationInvalid(Exception):
    """``problems``: one ``file: path: message`` line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Population:
    source: str
    spec: dict[str, Any]
    calendar: BusinessCalendar
    start: datetime  # aware, in the calendar's time zone

    def behaviour(self, lane: str | None, task: str) -> dict[str, Any]:
        """How people answer ``task`` in ``lane``: the task's entry, else the lane's, over the default lane."""
        lanes = self.spec.get("lanes", {})
        found = dict(lanes.get("default", {}))
        found.update(lanes.get(lane or "", {}))
        found.update(self.spec.get("tasks", {}).get(task, {}))
        return found


def load_population(path: Path | None) -> Population:
    """The default population with ``path`` laid over it; PopulationInvalid names file and field."""
    spec = _read(default_population())
    name = str(path) if path else str(default_population())
    if path is not None:
        spec = _merge(spec, _read(path))
    problems = [f"{name}: {where}: {message}" for where, message in _problems(spec)]
    if problems:
        raise PopulationInvalid(problems)
    calendar = calendar_of(spec.get("calendar", {}))
    start = datetime.fromisoformat(spec["start"]).replace(tzinfo=calendar.timezone)
    return Population(name, spec, calendar, start)


def _read(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise PopulationInvalid([f"{path}: (file): larger than {MAX_BYTES} bytes"])
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PopulationInvalid([f"{path}: (file): cannot be read: {error}"]) from None
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as error:
        raise PopulationInvalid([f"{path}: line {error.lineno}, column {error.colno}: {error.msg}"]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = getattr(error, "problem", None) or str(error)
        raise PopulationInvalid([f"{path}: {where}: {problem}"]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise PopulationInvalid([f"{path}: (file): must be a mapping of sections, not {type(raw).__name__}"])
    if isinstance(raw.get("fields"), dict):  # {true: 0.2, false: 0.8}: keys are values, keep their type
        raw["fields"] = {str(k): normalise(v) for k, v in raw["fields"].items()}
    return _plain(raw)


def _plain(value: Any) -> Any:
    """YAML's dates as ISO text and every key as text, so the schema sees what a JSON file would give."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if key in MERGED and isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = {**base[key], **value}
        else:
            merged[key] = value
    return merged


_FORMATS = FormatChecker()


@_FORMATS.checks("timezone", raises=(KeyError, ValueError))
def _is_timezone(value: object) -> bool:
    return not isinstance(value, str) or bool(ZoneInfo(value))


@_FORMATS.checks("date-time-local", raises=ValueError)
def _is_local_time(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is None


def _problems(spec: dict[str, Any]) -> list[tuple[str, str]]:
    validator = Draft202012Validator(SCHEMA, format_checker=_FORMATS)
    found = [_explain(e) for e in validator.iter_errors(spec)]
    try:
        found += _meaning(spec)
    except (TypeError, KeyError, AttributeError, IndexError, ValueError):
        if not found:  # a shape the schema let through must never crash: it is a defect of the schema
            raise
    return sorted(set(found))


def _explain(error: ValidationError) -> tuple[str, str]:
    """The deepest reason of an ``anyOf`` (which shape was meant), else the error itself."""
    if error.context:
        error = best_match(error.context)
    return _path(error.absolute_path), error.message


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _meaning(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """What the schema cannot say: weights that match their choices, shares that add up to something."""
    found = _draw_problems(spec)
    for section in ("requests", "subjects"):
        if section in spec and not sum(spec[section].values()):
            found.append((section, "every share is 0"))
    for section in ("lanes", "tasks"):
        for name, behaviour in spec.get(section, {}).items():
            if "decisions" in behaviour and not sum(behaviour["decisions"].values()):
                found.append((f"{section}.{name}.decisions", "every probability is 0"))
    hours = spec.get("calendar", {}).get("hours")
    if hours and hours[0] >= hours[1]:
        found.append(("calendar.hours", f"opens at {hours[0]}, not before it closes at {hours[1]}"))
    return found


def _draw_problems(spec: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for where, draw in _draws(spec):
        if isinstance(draw, dict) and "weights" in draw and len(draw["weights"]) != len(draw["choices"]):
            found.append((f"{where}.weights", f"{len(draw['weights'])} weights for {len(draw['choices'])} choices"))
        if isinstance(draw, dict) and "uniform" in draw and draw["uniform"][0] > draw["uniform"][1]:
            found.append((f"{where}.uniform", "the low end is above the high end"))
    return found


def _draws(spec: dict[str, Any]) -> list[tuple[str, Any]]:
    found = [("amounts", spec.get("amounts")), ("claims.spent_ratio", spec.get("claims", {}).get("spent_ratio"))]
    found += [(f"fields.{k}", v) for k, v in spec.get("fields", {}).items()]
    for section in ("lanes", "tasks"):
        found += [(f"{section}.{k}.response_hours", v.get("response_hours"))
                  for k, v in spec.get(section, {}).items()]
    return found
