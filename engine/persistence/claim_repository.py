"""Claim-side lookups for the operators: budget lines by key, invoices already claimed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, insert, select

from engine.domain.budget_line import BudgetLineKey
from engine.persistence import ledger_queries
from engine.persistence.deferred import write
from engine.persistence.prepared import Prepared
from engine.persistence.tables import BudgetLine, Reservation
from engine.persistence.types import utcnow
from engine.persistence.workflow_tables import ClaimedInvoice

_inv = ClaimedInvoice.__table__

# The operators call these inside an engine step: Prepared statements (see prepared.py).
_LINE_ID = Prepared(select(BudgetLine.id).where(BudgetLine.line_key == bindparam("label")))
_OPEN_RESERVATION = Prepared(select(Reservation.id).where(
    Reservation.document_ref == bindparam("document"), Reservation.status == "open").order_by(Reservation.id.desc()))
_RESERVATION_DOCUMENT = Prepared(select(Reservation.document_ref).where(Reservation.id == bindparam("reservation")))
_RELEASE_INVOICES = Prepared(delete(_inv).where(_inv.c.document_no == bindparam("document")))
_CLAIMED_BY = Prepared(select(_inv.c.document_no).where(
    _inv.c.invoice_code == bindparam("code"), _inv.c.invoice_number == bindparam("number")))
_CLAIM_INVOICES = Prepared(insert(_inv), column_keys=["invoice_code", "invoice_number", "document_no", "claimed_at"])


class SqlClaimRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def line_id(self, key: BudgetLineKey) -> int | None:
        found = _LINE_ID.scalar(self.conn, {"label": key.label})
        return None if found is None else int(found)

    def open_reservation_of(self, document_no: str) -> int | None:
        """The reservation a document holds open (an approved application's 预占), if any."""
        found = _OPEN_RESERVATION.scalar(self.conn, {"document": document_no})
        return None if found is None else int(found)

    def open_reservations_of(self, document_no: str) -> list[int]:
        """Every reservation ``document_no`` still holds open (what cancelling it gives back)."""
        rows = self.conn.execute(select(Reservation.id).where(Reservation.document_ref == document_no,
                                                              Reservation.status == "open").order_by(Reservation.id))
        return [int(r) for r in rows.scalars()]

    def left_over_reservations(self, *, created_before: datetime) -> list[int]:
        """Open reservations made before ``created_before`` whose flow has ended and that no running flow draws on."""
        return [r.reservation_id for r in ledger_queries.open_reservations(self.conn, created_before=created_before)
                if r.document_status == "complete" and r.drawn_on_by is None]

    def reservation_document(self, reservation_id: int) -> str | None:
        return _RESERVATION_DOCUMENT.scalar(self.conn, {"reservation": reservation_id})

    def release_invoices(self, document_no: str) -> None:
        """Forget the invoices a claim registered (it ended without payment, or it is re-checking them)."""
        write(self.conn, _RELEASE_INVOICES, {"document": document_no})

    def claimed_by(self, invoice_code: str, invoice_number: str) -> str | None:
        """The document that already claimed this invoice, if any."""
        return _CLAIMED_BY.scalar(self.conn, {"code": invoice_code, "number": invoice_number})

    def claim_invoices(self, document_no: str, invoices: list[tuple[str, str]]) -> None:
        if invoices:
            now = utcnow()
            _CLAIM_INVOICES.many(self.conn, [
                {"invoice_code": c, "invoice_number": n, "document_no": document_no, "claimed_at": now}
                for c, n in invoices])
