"""Migration 0008 counts the candidates of tasks already open when it runs and copies them into the index."""

from __future__ import annotations

from sqlalchemy import text

from engine.persistence import schema
from tests.migration_support import database_at


def test_upgrading_counts_the_candidates_of_open_tasks(tmp_path):
    engine = database_at(tmp_path / "old.db", "0007", [
        (1, "open", '["E0005", "E0009"]'), (2, "completed", '["E0005"]'), (3, "open", '["E0005"]')])
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO human_task_candidate (task_id, employee) VALUES "
                              "(1, 'E0005'), (1, 'E0009'), (3, 'E0005')"))
            conn.execute(text("UPDATE human_task SET assignee = 'E0006' WHERE id = 3"))
        schema.upgrade(engine)
        with engine.connect() as conn:
            counts = {i: n for i, n in conn.execute(text("SELECT id, candidate_count FROM human_task"))}
            index = set(conn.execute(text("SELECT task_id, employee, pool, taken, created_at IS NOT NULL "
                                          "FROM human_task_candidate")).tuples())
    finally:
        engine.dispose()
    assert counts == {1: 2, 2: 0, 3: 1}
    assert index == {(1, "E0005", 1, 0, 1), (1, "E0009", 1, 0, 1), (3, "E0005", 0, 1, 1)}
