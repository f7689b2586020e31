"""The data dictionary's ERP posting rules (``posting_rules.csv``): one row per ERP, how claims are posted there.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 17:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "posting_rule",
        sa.Column("erp", sa.String(length=16), nullable=False),
        sa.Column("book", sa.String(length=64), nullable=False),
        sa.Column("voucher_type", sa.String(length=64), nullable=False),
        sa.Column("payable_account", sa.String(length=64), nullable=False),
        sa.Column("vat_input_account", sa.String(length=64), nullable=True),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("expense_dimensions", sa.String(length=200), nullable=False),
        sa.Column("payable_dimensions", sa.String(length=200), nullable=False),
        sa.Column("book_currency", sa.String(length=3), nullable=False),
        sa.PrimaryKeyConstraint("erp"),
    )


def downgrade() -> None:
    op.drop_table("posting_rule")
