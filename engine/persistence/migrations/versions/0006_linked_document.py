"""Link a claim to the application it draws on: process_instance.linked_document.

Left-over reservations may be released (by a budget admin, or on expiry) only while no
running claim counts on them; this column is what says so, indexed for that lookup.
Instances started before this migration stay unlinked.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("linked_document", sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f("ix_process_instance_linked_document"), ["linked_document"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_instance_linked_document"))
        batch_op.drop_column("linked_document")
