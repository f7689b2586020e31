"""Drop the index on ledger_entry.operation_key: no query reads entries by key, every booking paid for it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 22:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_ledger_entry_operation_key", table_name="ledger_entry")


def downgrade() -> None:
    op.create_index("ix_ledger_entry_operation_key", "ledger_entry", ["operation_key"], unique=False)
