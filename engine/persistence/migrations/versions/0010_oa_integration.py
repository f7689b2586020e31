"""The OA integration's tables: the callback inbox, the replay guard, shared access tokens, correlation
(engine/persistence/oa_tables.py).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.persistence.types import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oa_callback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor", sa.String(length=16), nullable=False),
        sa.Column("event_key", sa.String(length=250), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("received_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("processed_at", UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("vendor", "event_key", name="uq_oa_callback_event"),
    )
    op.create_index("ix_oa_callback_status", "oa_callback", ["status", "id"], unique=False)
    op.create_table(
        "oa_external_ref",
        sa.Column("vendor", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("document_no", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("vendor", "external_id"),
    )
    op.create_index(op.f("ix_oa_external_ref_document_no"), "oa_external_ref", ["document_no"], unique=False)
    op.create_table(
        "oa_nonce",
        sa.Column("vendor", sa.String(length=120), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("expires_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("vendor", "nonce"),
    )
    op.create_index(op.f("ix_oa_nonce_expires_at"), "oa_nonce", ["expires_at"], unique=False)
    op.create_table(
        "oa_token",
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("token", sa.String(length=2000), nullable=False),
        sa.Column("expires_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("oa_token")
    op.drop_index(op.f("ix_oa_nonce_expires_at"), table_name="oa_nonce")
    op.drop_table("oa_nonce")
    op.drop_index(op.f("ix_oa_external_ref_document_no"), table_name="oa_external_ref")
    op.drop_table("oa_external_ref")
    op.drop_index("ix_oa_callback_status", table_name="oa_callback")
    op.drop_table("oa_callback")
