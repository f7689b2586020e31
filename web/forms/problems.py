"""The engine's refusal (``FormInvalid.problems``: ``"lines[1].amount: must be more than zero"``) put next
to the fields it names; what names no field of the page stays in the summary at the top."""

from __future__ import annotations

from dataclasses import dataclass

from web.forms.fields import Field, walk


@dataclass(frozen=True)
class Problem:
    path: str  # the field path the engine named ("" for the form as a whole)
    message: str  # what is wrong, without the path
    anchor: str | None  # the DOM id of the field it is shown at, for the summary's link


def attach(fields: list[Field], problems: list[str]) -> list[Problem]:
    """Put each problem on its field (or the nearest enclosing one); return all of them for the summary."""
    by_path = {f.path: f for f in walk(fields)}
    placed = []
    for text in problems:
        path, _, message = text.partition(": ")
        if not message:
            path, message = "", text
        target = _nearest(by_path, path)
        if target is not None:
            target.problems.append(message)
        placed.append(Problem(path=path, message=message, anchor=target.dom_id if target else None))
    return placed


def _nearest(by_path: dict[str, Field], path: str) -> Field | None:
    """``lines[1].amount``, else ``lines[1]``'s table ``lines``, else nothing."""
    candidate = path
    while candidate:
        if candidate in by_path:
            return by_path[candidate]
        cut = max(candidate.rfind("."), candidate.rfind("["))
        candidate = candidate[:cut] if cut > 0 else ""
    return None
