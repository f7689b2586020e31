"""What a simulated person submits: the applicant's forms, and an approver's decision.

A form gets only the fields its schema has (read from the deployed bundle), so a population's
extra field (``fields: {urgent: ...}``) reaches the forms that ask for it and no other.
"""

from __future__ import annotations

import json
import posixpath
import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from engine.simulation.draws import draw, weighted

COMMENTS = {"approve": "同意 agreed", "reject": "over policy 超标", "send_back": "please correct 请修改"}


class FormFields:
    """The property names of each form in a bundle, looked up by a task's form key."""

    def __init__(self, files: Mapping[str, str]) -> None:
        self._forms: dict[str, set[str]] = {}
        for name, text in files.items():
            if name.endswith(".json"):
                try:
                    properties = json.loads(text).get("properties", {})
                except (ValueError, AttributeError):
                    continue
                self._forms[posixpath.normpath(name)] = set(properties) if isinstance(properties, dict) else set()

    def of(self, form_key: str | None) -> set[str] | None:
        """The fields of the form ``form_key`` (relative to some diagram); None if there is no such form."""
        if not form_key:
            return None
        wanted = posixpath.normpath(form_key)
        while wanted.startswith("../"):  # a form in a sibling folder (``../shared/forms/approve.schema.json``)
            wanted = wanted[3:]
        for name, fields in self._forms.items():
            if name == wanted or name.endswith("/" + wanted):
                return fields
        return None

    def every_field(self) -> set[str]:
        return set().union(*self._forms.values()) if self._forms else set()


def only(form: dict[str, Any], fields: set[str] | None) -> dict[str, Any]:
    """``form`` without what the task's form does not have (a task with no form takes nothing)."""
    return {k: v for k, v in form.items() if fields is not None and k in fields}


def extra_fields(spec: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    """One draw of every extra field of the population."""
    return {name: draw(field, rng) for name, field in spec.items()}


def decision(behaviour: Mapping[str, Any], fields: set[str] | None, rng: random.Random) -> dict[str, Any]:
    """An approver's answer: a decision by the lane's probabilities, with the comment the form asks for."""
    chances = {k: float(v) for k, v in behaviour.get("decisions", {"approve": 1}).items() if v}
    choice = weighted(chances or {"approve": 1.0}, rng)
    return only({"decision": choice, "comment": COMMENTS[choice]}, fields) or only({"comment": "done"}, fields)


def money(value: Any) -> Decimal:
    """An amount a draw gave, as money: two decimals, at least 0.01."""
    return max(Decimal(str(value)).quantize(Decimal("0.01")), Decimal("0.01"))
