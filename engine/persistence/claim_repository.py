"""Claim-side lookups for the operators: budget lines by key, invoices already claimed."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select

from engine.domain.budget_line import BudgetLineKey
from engine.persistence.tables import BudgetLine, Reservation
from engine.persistence.types import utcnow
from engine.persistence.workflow_tables import ClaimedInvoice

_inv = ClaimedInvoice.__table__


class SqlClaimRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def line_id(self, key: BudgetLineKey) -> int | None:
        found = self.conn.execute(select(BudgetLine.id).where(BudgetLine.line_key == key.label)).scalar()
        return None if found is None else int(found)

    def open_reservation_of(self, document_no: str) -> int | None:
        """The reservation a document holds open (an approved application's 预占), if any."""
        found = self.conn.execute(select(Reservation.id).where(
            Reservation.document_ref == document_no, Reservation.status == "open").order_by(Reservation.id.desc())
        ).scalar()
        return None if found is None else int(found)

    def reservation_document(self, reservation_id: int) -> str | None:
        return self.conn.execute(select(Reservation.document_ref).where(Reservation.id == reservation_id)).scalar()

    def release_invoices(self, document_no: str) -> None:
        """Forget the invoices a claim registered (it ended without payment, or it is re-checking them)."""
        self.conn.execute(delete(_inv).where(_inv.c.document_no == document_no))

    def claimed_by(self, invoice_code: str, invoice_number: str) -> str | None:
        """The document that already claimed this invoice, if any."""
        return self.conn.execute(select(_inv.c.document_no).where(
            _inv.c.invoice_code == invoice_code, _inv.c.invoice_number == invoice_number)).scalar()

    def claim_invoices(self, document_no: str, invoices: list[tuple[str, str]]) -> None:
        if invoices:
            now = utcnow()
            self.conn.execute(insert(_inv), [
                {"invoice_code": c, "invoice_number": n, "document_no": document_no, "claimed_at": now}
                for c, n in invoices])
