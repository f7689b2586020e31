"""The budget panel of a document: each budget line it touches, before and after this request.

Which lines: those of the document's reservations and, for a claim, of its application's; before any
reservation (or after a send back released it), the line the document's org unit, subject and period name.
A request's share is its amount; what is not yet reserved for it (on a claim: beyond its application's
reservation) comes off ``available`` in ``available_after``. State: ``over`` when that goes below zero on a
FORBID line, ``warn`` when it does on a WARN line or more than 90 % of the line is used after it, else ``ok``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.domain.budget_line import BudgetLineKey
from engine.services.document_access import snapshot, visible_document
from engine.services.ports import UnitOfWork, UnitOfWorkFactory

ZERO = Decimal(0)
WARN_USED = Decimal("0.9")


@dataclass(frozen=True)
class PanelLine:
    line_id: int
    period: str
    org_unit: str | None
    org_unit_name: str | None
    subject: str
    subject_name: str
    currency: str
    control_mode: str  # FORBID, WARN or NONE
    tolerance_pct: Decimal
    allocated: Decimal
    reserved: Decimal
    consumed: Decimal
    available: Decimal
    request_share: Decimal
    available_after: Decimal
    state: str  # ok, warn, over


def budget_panel(reader: UnitOfWorkFactory, document_no: str, viewer: str) -> list[PanelLine] | None:
    """The lines document ``document_no`` touches; None if there is none or ``viewer`` may not see it."""
    with reader() as uow:
        seen = visible_document(uow, document_no, viewer)
        if seen is None:
            return None
        doc = seen[0]
        documents = [document_no] + ([doc["linked_document"]] if doc["linked_document"] else [])
        held = [r for r in uow.budget_views.reservations_of(documents) if r["released"] < r["amount"]]
        if held:
            lines = uow.budget_views.lines(ids=sorted({r["line_id"] for r in held}))
        else:
            lines = _named_line(uow, doc)
    pending = doc["status"] != "complete"
    return [_panel_line(line, [r for r in held if r["line_id"] == line["line_id"]], doc["amount"],
                        single=len(lines) == 1, pending=pending) for line in lines]


def _named_line(uow: UnitOfWork, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The line the document would reserve on: its org unit, subject and period (from its data, else its year)."""
    if not doc["subject"] or not doc["org_unit"]:
        return []
    _, run = snapshot(uow, doc)
    period = run.data.get("period") if run is not None else None
    if not isinstance(period, str):
        period = str(doc["created_at"].year)
    try:
        key = BudgetLineKey(period=period, org_unit=doc["org_unit"], subject=doc["subject"])
    except ValueError:
        return []
    return uow.budget_views.lines(keys=[key.label])


def _panel_line(line: dict[str, Any], held: list[dict[str, Any]], amount: Decimal | None, *, single: bool,
                pending: bool) -> PanelLine:
    covered = sum((r["amount"] - r["released"] for r in held), ZERO)  # reserved for this request (or consumed)
    share = amount if single and amount is not None else covered
    available = line["allocated"] - line["reserved"] - line["consumed"]
    after = available - (max(ZERO, share - covered) if pending else ZERO)
    return PanelLine(
        **{k: line[k] for k in ("line_id", "period", "org_unit", "org_unit_name", "subject", "subject_name", "currency",
                                "control_mode", "tolerance_pct", "allocated", "reserved", "consumed")},
        available=available, request_share=share, available_after=after,
        state=_state(line["control_mode"], line["allocated"], after))


def _state(control_mode: str, allocated: Decimal, available_after: Decimal) -> str:
    if available_after < 0 and control_mode == "FORBID":
        return "over"
    used = allocated - available_after
    nearly_used = used > allocated * WARN_USED if allocated > 0 else used > 0
    return "warn" if (available_after < 0 and control_mode == "WARN") or nearly_used else "ok"
