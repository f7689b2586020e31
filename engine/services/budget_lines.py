"""Budget lines for people: who sees which lines, a line's ledger entries, and transfers between lines.

Budget admins, finance, admins and auditors see every line; a manager sees the lines of the units they
manage and every unit below them (a cost center's line counts for its unit); anyone else sees none (an empty
listing, not an error). Transfers are for budget admins only, and audited with who made them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.domain.errors import CurrencyMismatch, UnknownBudgetLine
from engine.domain.identity import Principal
from engine.domain.money import Money
from engine.services import cursors
from engine.services.ledger import BudgetChangeResult, transfer_in
from engine.services.ports import UnitOfWork, UnitOfWorkFactory
from engine.services.steps import NotAllowed, audited

SEE_ALL = ("budget_admin", "finance", "admin", "auditor")
MAX_LIMIT = 200
MAX_MEMO = 500
PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class LineRow:
    line_id: int
    line_key: str
    period: str
    org_unit: str | None
    org_unit_name: str | None
    cost_center: str | None
    subject: str
    subject_name: str
    currency: str
    control_mode: str
    tolerance_pct: Decimal
    allocated: Decimal
    reserved: Decimal
    consumed: Decimal
    available: Decimal
    utilisation: Decimal  # (reserved + consumed) / allocated: 0 .. 1, above 1 when overspent


@dataclass(frozen=True)
class LinePage:
    rows: list[LineRow]
    next_cursor: str | None

    def __iter__(self) -> Iterator[LineRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class EntryRow:
    id: int
    kind: str  # ALLOCATE, ADJUST, RESERVE, CONSUME, RELEASE
    amount: Decimal
    currency: str
    document_no: str | None
    reservation_id: int | None
    memo: str | None
    at: datetime
    actor: str | None  # who transferred, ``engine`` for a flow's booking, None when not recorded
    budget_delta: Decimal
    reserved_delta: Decimal
    consumed_delta: Decimal


@dataclass(frozen=True)
class EntryPage:
    rows: list[EntryRow]
    next_cursor: str | None


def visible_lines(reader: UnitOfWorkFactory, viewer: Principal, *, period: str | None = None,
                  org_unit: str | None = None, subject: str | None = None, cursor: str | None = None,
                  limit: int = 100) -> LinePage:
    """The lines ``viewer`` may see, by line key, narrowed by period, org unit and subject; ValueError for a
    bad cursor or a limit outside 1..200."""
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit {limit!r}: a whole number from 1 to {MAX_LIMIT}")
    scope = cursors.scope("lines", viewer.code, period, org_unit, subject)
    after = cursors.decode(cursor, scope, "text", id_type=int)[0] if cursor else None
    with reader() as uow:
        units = _units_of(uow, viewer)
        if units is not None and org_unit is not None:
            units = [u for u in units if u == org_unit]
        elif org_unit is not None:
            units = [org_unit]
        if units == []:
            return LinePage([], None)
        rows = uow.budget_views.lines(period=period or None, units=units, subject=subject or None, after=after,
                                      limit=limit + 1)
    more, rows = len(rows) > limit, rows[:limit]
    next_cursor = cursors.encode(scope, rows[-1]["line_key"], rows[-1]["line_id"]) if more else None
    return LinePage([_line_row(r) for r in rows], next_cursor)


def _units_of(uow: UnitOfWork, viewer: Principal) -> list[str] | None:
    """None: every line; else the org units whose lines ``viewer`` sees (a manager's units and those below)."""
    if viewer.has(*SEE_ALL):
        return None
    if not viewer.has("manager"):
        return []
    units = uow.budget_views.units()
    children: dict[str | None, list[str]] = {}
    for code, parent, _ in units:
        children.setdefault(parent, []).append(code)
    seen: list[str] = []
    todo = [code for code, _, manager in units if manager == viewer.code]
    while todo:
        code = todo.pop()
        if code not in seen:
            seen.append(code)
            todo.extend(children.get(code, []))
    return sorted(seen)


def _line_row(row: dict[str, Any]) -> LineRow:
    used = row["reserved"] + row["consumed"]
    allocated = row["allocated"]
    utilisation = (used / allocated).quantize(PLACES) if allocated > 0 else Decimal(1 if used > 0 else 0)
    return LineRow(**{k: row[k] for k in LineRow.__dataclass_fields__ if k not in ("available", "utilisation")},
                   available=allocated - used, utilisation=utilisation)


def line_entries(reader: UnitOfWorkFactory, viewer: Principal, line_id: int, *, cursor: str | None = None,
                 limit: int = 100) -> EntryPage | None:
    """Line ``line_id``'s ledger entries, newest first; None if there is no such line or ``viewer`` may not see it."""
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit {limit!r}: a whole number from 1 to {MAX_LIMIT}")
    scope = cursors.scope("entries", line_id)
    before = cursors.decode(cursor, scope, "int")[1] if cursor else None
    with reader() as uow:
        if not _may_see_line(uow, viewer, line_id):
            return None
        rows = uow.budget_views.entries(line_id, before=before, limit=limit + 1)
    more, rows = len(rows) > limit, rows[:limit]
    next_cursor = cursors.encode(scope, rows[-1]["id"], rows[-1]["id"]) if more else None
    return EntryPage([EntryRow(**r) for r in rows], next_cursor)


def _may_see_line(uow: UnitOfWork, viewer: Principal, line_id: object) -> bool:
    if not isinstance(line_id, int) or isinstance(line_id, bool):
        return False
    found = uow.budget_views.lines(ids=[line_id], limit=1)
    if not found:
        return False
    units = _units_of(uow, viewer)
    return units is None or found[0]["org_unit"] in units


def transfer_between(uow_factory: UnitOfWorkFactory, *, by: Principal, from_line: int, to_line: int, amount: Money,
                     memo: str, key: str) -> tuple[BudgetChangeResult, BudgetChangeResult]:
    """Move budget from one line to another (budget admins only; both lines in ``amount``'s currency), audited
    with ``by``; the same ``key`` again returns the first result and moves nothing more."""
    memo = (memo or "").strip()[:MAX_MEMO]
    with audited(uow_factory, actor=by.code, subject=f"transfer {from_line} -> {to_line}"), uow_factory() as uow:
        if not by.has("budget_admin"):
            raise NotAllowed(f"{by.code} is not a budget admin; only budget admins transfer budget")
        lines = {r["line_id"]: r for r in uow.budget_views.lines(ids=[from_line, to_line], limit=2)}
        for line_id in (from_line, to_line):
            if line_id not in lines:
                raise UnknownBudgetLine(f"budget line {line_id} does not exist", field="line")
        kept_in = {lines[i]["currency"] for i in (from_line, to_line)}
        if kept_in != {amount.currency}:
            raise CurrencyMismatch(
                f"budget line {from_line} is kept in {lines[from_line]['currency']} and line {to_line} in "
                f"{lines[to_line]['currency']}; a transfer of {amount} needs both lines in {amount.currency}",
                field="amount")
        results = transfer_in(uow.ledger, from_line=from_line, to_line=to_line, amount=amount, key=key, memo=memo)
        if not results[0].replayed:
            uow.record(actor=by.code, action="budget.transferred", subject_type="ledger_operation", subject_id=key,
                       payload={"from_line": from_line, "to_line": to_line, "amount": str(amount.amount),
                                "currency": amount.currency, "memo": memo})
        uow.commit()
    return results
