"""Versions under the designer's control: deploying stores a version, activating chooses what starts.

``model_activation`` holds one row per activation; per process, the newest activation of a version that
holds it is what new instances start on. Databases deployed before this revision started every process on
the newest version holding it, so each such version gets an activation row (oldest first, by
``system``): nothing changes for them until a designer activates something else.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.persistence.types import UtcDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "model_activation",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("model_version_id", BIG_ID, nullable=False),
        sa.Column("activated_by", sa.String(length=64), nullable=False),
        sa.Column("activated_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["model_version_id"], ["model_version.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_model_activation_model_version_id", "model_activation", ["model_version_id"])
    conn = op.get_bind()
    newest: dict[str, int] = {}  # process id -> the newest version holding it (what started until now)
    for version_id, process_ids in conn.execute(sa.text("SELECT id, process_ids FROM model_version ORDER BY id")):
        for process_id in str(process_ids or "").split(","):
            if process_id:
                newest[process_id] = int(version_id)
    for version_id in sorted(set(newest.values())):  # ids in order: the newest is activated last
        conn.execute(sa.text("INSERT INTO model_activation (model_version_id, activated_by, activated_at) "
                             "SELECT id, 'system', deployed_at FROM model_version WHERE id = :id"),
                     {"id": version_id})

def downgrade() -> None:
    op.drop_index("ix_model_activation_model_version_id", table_name="model_activation")
    op.drop_table("model_activation")
