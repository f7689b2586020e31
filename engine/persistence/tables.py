"""The schema, as SQLAlchemy 2.0 typed declarative models.

Alembic migrations (engine/persistence/migrations) are the only way the schema
reaches a database; ``Base.metadata`` serves autogenerate and the drift test.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from engine.persistence.types import ExactDecimal, UtcDateTime, utcnow

# BIGINT on PostgreSQL; plain INTEGER on SQLite so the column is the rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    # Every model here maps one Table; saying so lets insert()/update() on ``Model.__table__`` type-check.
    __table__: ClassVar[Table]


# ---------------------------------------------------------------- master data


class Currency(Base):
    __tablename__ = "currency"
    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    minor_units: Mapped[int] = mapped_column(Integer, default=2)


class Role(Base):
    __tablename__ = "role"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class OrgUnit(Base):
    __tablename__ = "org_unit"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    # The manager is an employee code, not a foreign key: units and employees
    # reference each other, and the import validates both sides at once.
    manager_code: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # the unit's department in each OA suite: the org sync places people by it
    dingtalk_dept_id: Mapped[str | None] = mapped_column(String(64))
    wecom_dept_id: Mapped[str | None] = mapped_column(String(64))
    feishu_dept_id: Mapped[str | None] = mapped_column(String(64))


class Employee(Base):
    __tablename__ = "employee"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    dingtalk_userid: Mapped[str | None] = mapped_column(String(100), unique=True)
    wecom_userid: Mapped[str | None] = mapped_column(String(100), unique=True)
    feishu_open_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    erp_employee_code: Mapped[str | None] = mapped_column(String(64))
    erp_vendor_code: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class EmployeeRole(Base):
    __tablename__ = "employee_role"
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id", ondelete="CASCADE"), primary_key=True)
    role_code: Mapped[str] = mapped_column(ForeignKey("role.code"), primary_key=True)


class ExpenseSubject(Base):
    __tablename__ = "expense_subject"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    gl_kingdee: Mapped[str | None] = mapped_column(String(64))
    gl_yonyou: Mapped[str | None] = mapped_column(String(64))
    gl_sap: Mapped[str | None] = mapped_column(String(64))
    tax_treatment: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CostCenter(Base):
    __tablename__ = "cost_center"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class MasterDataImport(Base):
    """One row per successful import: which dictionary version, from where, what it changed."""

    __tablename__ = "master_data_import"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(500))
    checksum: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


# ---------------------------------------------------------------- budget ledger


class BudgetLine(Base):
    """A budget line with a cached balance that ``ledger verify`` proves against the entries."""

    __tablename__ = "budget_line"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # period, org unit/cost center, subject and project in one canonical string:
    # a unique key that also works where NULLs would defeat a composite one.
    line_key: Mapped[str] = mapped_column(String(300), unique=True)
    period: Mapped[str] = mapped_column(String(16))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    cost_center_id: Mapped[int | None] = mapped_column(ForeignKey("cost_center.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("expense_subject.id"))
    project: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(ForeignKey("currency.code"))
    control_mode: Mapped[str] = mapped_column(String(8))
    tolerance_pct: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0))
    budget: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0))
    reserved: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0))
    consumed: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Reservation(Base):
    __tablename__ = "reservation"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("budget_line.id"), index=True)
    document_ref: Mapped[str] = mapped_column(String(200), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(ExactDecimal)
    consumed: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0))
    released: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0))
    status: Mapped[str] = mapped_column(String(8), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LedgerEntry(Base):
    """Append-only (a trigger refuses UPDATE and DELETE). Corrections are new entries."""

    __tablename__ = "ledger_entry"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("budget_line.id"))
    kind: Mapped[str] = mapped_column(String(8))
    amount: Mapped[Decimal] = mapped_column(ExactDecimal)
    currency: Mapped[str] = mapped_column(String(3))
    budget_delta: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0))
    reserved_delta: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0))
    consumed_delta: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0))
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservation.id"), index=True)
    # Not indexed: nothing reads entries by key (ledger_operation is keyed by it); an index would cost a
    # B-tree write on every booking of the hottest table.
    operation_key: Mapped[str] = mapped_column(String(200))
    document_ref: Mapped[str | None] = mapped_column(String(200))
    over_budget: Mapped[bool] = mapped_column(Boolean, default=False)
    memo: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (Index("ix_ledger_entry_line", "line_id", "id"),)


class LedgerOperation(Base):
    """The idempotency record: one row per key, holding the first result."""

    __tablename__ = "ledger_operation"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    fingerprint: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


__all__ = [
    "Base", "BudgetLine", "CostCenter", "Currency", "Employee", "EmployeeRole", "ExpenseSubject",
    "LedgerEntry", "LedgerOperation", "MasterDataImport", "OrgUnit", "Reservation", "Role",
]


# The other table modules build on Base; importing them here puts every table in
# Base.metadata for Alembic autogenerate and the migration drift test.
from engine.persistence import (  # noqa: E402,F401
    audit_table,
    erp_tables,
    journal_tables,
    lane_tables,
    oa_tables,
    posting_tables,
    web_limits_table,
    web_tables,
    workflow_tables,
)
