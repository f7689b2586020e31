"""Lanes as data: the data dictionary's lane rules (lanes.csv) and the owners of budget lines and cost
centers that the budget_line_owner and cost_center_owner rules name.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lane_rule",
        sa.Column("lane", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("parameter", sa.String(length=200), nullable=True),
        sa.Column("fallback", sa.String(length=32), nullable=False),
        sa.Column("skip_prior_approvers", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("lane", "position"),
    )
    op.create_table(
        "resource_owner",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=300), nullable=False),
        sa.Column("employee", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("kind", "code"),
    )


def downgrade() -> None:
    op.drop_table("resource_owner")
    op.drop_table("lane_rule")
