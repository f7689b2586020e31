"""What came into an instance (its recorded inputs) and what came out (an observation), and where two runs part.

``bpmn test`` compares an observation with a scenario's expectations; ``bpmn replay`` compares the observation
of a recorded instance with the one of its replay on a draft. Both read the same facts, so both judge alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

INPUT_KINDS = ("start", "task", "message", "timer")
CANCELLED = "cancelled"  # the outcome of an instance an admin cancelled (engine/services/instance_admin.py)


@dataclass(frozen=True)
class RecordedInput:
    """One step of an instance as the journal (``instance_input``) keeps it."""

    seq: int
    kind: str  # one of INPUT_KINDS
    element: str  # the process id (start), the task's BPMN id, the message name, "timer"
    actor: str
    payload: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class ReservationFact:
    line: str  # the budget line's key, e.g. 2026/ORG:SALES-N/TRAVEL
    amount: Decimal
    consumed: Decimal
    released: Decimal


@dataclass(frozen=True)
class Observation:
    """What an instance did: the user tasks it opened (in order, with who was offered each), its ledger effect,
    the notifications its diagram sent, and how it ended."""

    status: str
    outcome: str | None
    openings: tuple[tuple[str, tuple[str, ...]], ...]  # (BPMN id, candidates), in the order the tasks opened
    reservations: tuple[ReservationFact, ...] = ()
    notifications: tuple[str, ...] = ()  # templates of the diagram's own notify/Send tasks, in order

    @property
    def route(self) -> list[str]:
        return [bpmn_id for bpmn_id, _candidates in self.openings]

    def ledger(self) -> dict[str, Decimal]:
        """Totals of the document's reservations: reserved (still held), consumed, released."""
        consumed = sum((r.consumed for r in self.reservations), Decimal(0))
        released = sum((r.released for r in self.reservations), Decimal(0))
        amount = sum((r.amount for r in self.reservations), Decimal(0))
        return {"reserved": amount - consumed - released, "consumed": consumed, "released": released}


@dataclass(frozen=True)
class Parting:
    """Where a replay parts from the recorded run: the element and what each side did there."""

    element: str
    what: str  # route, approvers, reservation, outcome, input
    recorded: str
    draft: str


def first_parting(recorded: Observation, draft: Observation) -> Parting | None:
    """The first difference in route, approvers, reservation (amount, line) or outcome; None if they agree."""
    for (was_id, was_people), (now_id, now_people) in zip(recorded.openings, draft.openings, strict=False):
        if was_id != now_id:
            return Parting(now_id, "route", was_id, now_id)
        if was_people != now_people:
            return Parting(now_id, "approvers", ", ".join(was_people), ", ".join(now_people))
    if len(recorded.openings) != len(draft.openings):
        longer = recorded.openings if len(recorded.openings) > len(draft.openings) else draft.openings
        element = longer[min(len(recorded.openings), len(draft.openings))][0]
        return Parting(element, "route", " > ".join(recorded.route), " > ".join(draft.route))
    was = sorted((r.line, r.amount) for r in recorded.reservations)
    now = sorted((r.line, r.amount) for r in draft.reservations)
    if was != now:
        return Parting("reservation", "reservation", _amounts(was), _amounts(now))
    if recorded.outcome == CANCELLED:  # an admin ended it outside the flow (not journalled): no outcome to match
        return None
    if (recorded.status, recorded.outcome) != (draft.status, draft.outcome):
        return Parting("end", "outcome", recorded.outcome or recorded.status, draft.outcome or draft.status)
    return None


def _amounts(pairs: list[tuple[str, Decimal]]) -> str:
    return ", ".join(f"{amount} on {line}" for line, amount in pairs) or "none"
