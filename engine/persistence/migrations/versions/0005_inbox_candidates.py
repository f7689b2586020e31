"""Index the inbox by person: human_task_candidate, one row per candidate of each open task.

The "my tasks" query used to read every open task and filter its JSON candidate list in
Python; with 100k open tasks that is a full scan per page view (docs/performance.md, "Inbox").

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 23:50:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "human_task_candidate",
        sa.Column("task_id", _ID, nullable=False),
        sa.Column("employee", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["human_task.id"]),
        sa.PrimaryKeyConstraint("task_id", "employee"),
    )
    op.create_index("ix_human_task_candidate_employee", "human_task_candidate", ["employee", "task_id"])
    _backfill()


def _backfill() -> None:
    """Candidates of the tasks open now, from the JSON list each row kept (duplicates collapsed)."""
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, candidates FROM human_task WHERE status = 'open'")).all()
    pairs = [{"task_id": task_id, "employee": employee}
             for task_id, text in rows for employee in dict.fromkeys(json.loads(text or "[]"))]
    if pairs:
        conn.execute(sa.text("INSERT INTO human_task_candidate (task_id, employee) VALUES (:task_id, :employee)"),
                     pairs)


def downgrade() -> None:
    op.drop_index("ix_human_task_candidate_employee", table_name="human_task_candidate")
    op.drop_table("human_task_candidate")
