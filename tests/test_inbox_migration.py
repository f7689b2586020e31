"""Migration 0005 indexes the candidates of tasks already open when it runs (and of no others)."""

from __future__ import annotations

from sqlalchemy import text

from engine.persistence import schema
from tests.migration_support import database_at


def test_upgrading_indexes_the_candidates_of_open_tasks_only(tmp_path):
    engine = database_at(tmp_path / "old.db", "0004", [
        (1, "open", '["E0005", "E0009", "E0005"]'), (2, "completed", '["E0005"]'), (3, "open", "[]")])
    try:
        schema.upgrade(engine)
        with engine.connect() as conn:
            rows = set(conn.execute(text("SELECT task_id, employee FROM human_task_candidate")).tuples())
    finally:
        engine.dispose()
    assert rows == {(1, "E0005"), (1, "E0009")}
