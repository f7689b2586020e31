"""The tables behind ERP posting (engine/persistence/erp_repository.py).

- ``erp_voucher``: every voucher budgetflow posted, once per (ERP, idempotency key): its number in the ERP, what
  was sent (the lines, for reconciliation), and when the ERP says the employee was paid;
- ``erp_reconciliation``: each reconciliation run and the differences it found (the finance pages show the last).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.tables import Base, BigId
from engine.persistence.types import ExactDecimal, UtcDateTime, utcnow


class ErpVoucher(Base):
    __tablename__ = "erp_voucher"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    erp: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    document_no: Mapped[str] = mapped_column(String(100), index=True)
    voucher_no: Mapped[str] = mapped_column(String(64))
    posting_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(ExactDecimal)
    lines: Mapped[str] = mapped_column(Text)  # JSON: [{account, debit, credit, memo, dimensions}] as sent
    vat: Mapped[str] = mapped_column(Text, default="{}")  # JSON: expense account -> input VAT split off it
    posted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    paid_on: Mapped[date | None] = mapped_column(Date)
    __table_args__ = (UniqueConstraint("erp", "idempotency_key", name="uq_erp_voucher_key"),
                      Index("ix_erp_voucher_unpaid", "erp", "paid_on", "posting_date"))


class ErpReconciliation(Base):
    __tablename__ = "erp_reconciliation"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    erp: Mapped[str] = mapped_column(String(32))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    ran_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    differences: Mapped[int] = mapped_column(BigId)  # how many; 0: the books agree
    report: Mapped[str] = mapped_column(Text)  # JSON: engine/domain/reconciliation.py's Report
    __table_args__ = (Index("ix_erp_reconciliation_erp", "erp", "id"),)
