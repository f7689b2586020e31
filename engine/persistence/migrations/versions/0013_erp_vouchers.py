"""ERP posting: the vouchers budgetflow posted to the company's ERP (number, lines sent, paid date) and the
reconciliation runs that compare them with the ERP's books.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.persistence.types import ExactDecimal, UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "erp_voucher",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("erp", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("document_no", sa.String(length=100), nullable=False),
        sa.Column("voucher_no", sa.String(length=64), nullable=False),
        sa.Column("posting_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", ExactDecimal(), nullable=False),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.Column("vat", sa.Text(), nullable=False),
        sa.Column("posted_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("erp", "idempotency_key", name="uq_erp_voucher_key"),
    )
    op.create_index("ix_erp_voucher_document_no", "erp_voucher", ["document_no"])
    op.create_index("ix_erp_voucher_unpaid", "erp_voucher", ["erp", "paid_on", "posting_date"])
    op.create_table(
        "erp_reconciliation",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("erp", sa.String(length=32), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("ran_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("differences", BIG_ID, nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_erp_reconciliation_erp", "erp_reconciliation", ["erp", "id"])


def downgrade() -> None:
    op.drop_table("erp_reconciliation")
    op.drop_index("ix_erp_voucher_unpaid", table_name="erp_voucher")
    op.drop_index("ix_erp_voucher_document_no", table_name="erp_voucher")
    op.drop_table("erp_voucher")
