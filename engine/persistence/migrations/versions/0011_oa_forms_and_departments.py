"""The data dictionary's OA side: each org unit's department id in each suite (org sync), and the OA form
mappings of ``oa_forms.csv`` (approvals started in the OA, approvals budgetflow creates there), and when a
stored callback that could not be applied yet is tried again.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.persistence.types import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

DEPARTMENT_COLUMNS = ("dingtalk_dept_id", "wecom_dept_id", "feishu_dept_id")


def upgrade() -> None:
    with op.batch_alter_table("org_unit", schema=None) as batch_op:
        for column in DEPARTMENT_COLUMNS:
            batch_op.add_column(sa.Column(column, sa.String(length=64), nullable=True))
    with op.batch_alter_table("oa_callback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_before", UtcDateTime(timezone=True), nullable=True))
    op.create_table(
        "oa_form",
        sa.Column("vendor", sa.String(length=16), nullable=False),
        sa.Column("template", sa.String(length=128), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("process_id", sa.String(length=128), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("vendor", "template"),
    )


def downgrade() -> None:
    op.drop_table("oa_form")
    with op.batch_alter_table("oa_callback", schema=None) as batch_op:
        batch_op.drop_column("not_before")
    with op.batch_alter_table("org_unit", schema=None) as batch_op:
        for column in reversed(DEPARTMENT_COLUMNS):
            batch_op.drop_column(column)
