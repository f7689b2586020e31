"""The inbox (read model): a person's open, claimable, delegated and done tasks, sorted, filtered, paged.

Views:

- ``mine``: open tasks assigned to the person (claimed or delegated to them), or unassigned with them as
  the **only** candidate;
- ``claimable``: open, unassigned tasks of a pool (two or more candidates, the person among them: finance,
  countersign, ...); ``tasks.claim_task`` takes one;
- ``delegated``: open tasks the person handed on (转交);
- ``done``: tasks the person completed.

Sorts: ``age`` (when the task opened; in ``done``, when it was completed, newest first), ``due`` (its SLA,
tasks without one last) and ``amount`` (the document's, none last); ties by task id; ``descending`` reverses
the order (nulls stay last). Paging is by keyset: ``next_cursor`` hands back where the page ended.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.services import cursors
from engine.services.ports import UnitOfWorkFactory

VIEWS = ("mine", "claimable", "delegated", "done")
SORTS = {"age": "datetime", "due": "datetime", "amount": "decimal"}
MAX_LIMIT = 200
MAX_TEXT = 100


@dataclass(frozen=True)
class InboxRow:
    task_guid: str
    bpmn_id: str
    title: str
    lane: str | None
    process_id: str
    document_no: str
    instance_id: int
    applicant: str
    applicant_name: str | None
    subject: str | None
    amount: Decimal | None
    currency: str | None
    purpose: str | None
    created_at: datetime
    due_at: datetime | None
    assignee: str | None
    candidate_count: int
    completed_at: datetime | None = None
    completed_by: str | None = None

    @classmethod
    def of(cls, row: dict[str, Any]) -> InboxRow:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    next_cursor: str | None
    counts: dict[str, int] = field(default_factory=dict)  # rows in each of the four views


def inbox(reader: UnitOfWorkFactory, employee: str, *, view: str = "mine", sort: str = "age",
          descending: bool = False, process: str | None = None, text: str | None = None,
          cursor: str | None = None, limit: int = 50) -> InboxPage:
    """One page of ``employee``'s ``view``; ValueError names a bad view, sort, limit, filter or cursor."""
    if view not in VIEWS:
        raise ValueError(f"view {view!r}: one of {', '.join(VIEWS)}")
    if sort not in SORTS:
        raise ValueError(f"sort {sort!r}: one of {', '.join(SORTS)}")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit {limit!r}: a whole number from 1 to {MAX_LIMIT}")
    text = text.strip() if text else None
    if text and len(text) > MAX_TEXT:
        raise ValueError(f"text: at most {MAX_TEXT} characters")
    # The done view lists newest first unless reversed; every other order starts with the smallest key.
    desc = descending != (view == "done" and sort == "age")
    scope = cursors.scope("inbox", view, sort, desc, process, text)
    after = cursors.decode(cursor, scope, SORTS[sort], nullable=sort != "age") if cursor else None
    with reader() as uow:
        rows = uow.inbox.page(employee, view=view, sort=sort, descending=desc, process=process or None,
                              text=text, after=after, limit=limit + 1)
        counts = uow.inbox.counts(employee)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = cursors.encode(scope, rows[-1]["sort_key"], rows[-1]["id"]) if more else None
    return InboxPage([InboxRow.of(r) for r in rows], next_cursor, counts)
