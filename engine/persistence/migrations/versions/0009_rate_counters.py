"""Fixed-window counters shared by every web process: sign-in throttling (engine/persistence/rate_counters.py).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 07:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.persistence.types import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_counter",
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_rate_counter_expires_at"), "rate_counter", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_counter_expires_at"), table_name="rate_counter")
    op.drop_table("rate_counter")
