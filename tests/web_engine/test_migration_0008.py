"""Migration 0008 counts the candidates of tasks already open when it runs and copies them into the index."""

from __future__ import annotations

from sqlalchemy import text

from engine.persistence import schema
from engine.persistence.db import make_engine

NOW = "2026-11-27 10:00:00.000000"


def test_upgrading_counts_the_candidates_of_open_tasks(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        schema.upgrade(engine, "0007")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO model_version (id, sha256, files, process_ids, deployed_by, deployed_at) "
                              "VALUES (1, 'abc', '{}', 'p', 'E0016', :now)"), {"now": NOW})
            conn.execute(text("INSERT INTO process_instance (id, model_version_id, process_id, business_key, "
                              "applicant, status, state, revision, created_at, updated_at) "
                              "VALUES (1, 1, 'p', 'EXP-1', 'E0017', 'user_input_required', '', 1, :now, :now)"),
                         {"now": NOW})
            for task_id, status, candidates in ((1, "open", '["E0005", "E0009"]'), (2, "completed", '["E0005"]'),
                                                (3, "open", '["E0005"]')):
                conn.execute(text("INSERT INTO human_task (id, instance_id, task_guid, bpmn_id, title, candidates, "
                                  "status, created_at) VALUES (:id, 1, :guid, 't', 't', :c, :s, :now)"),
                             {"id": task_id, "guid": f"g{task_id}", "c": candidates, "s": status, "now": NOW})
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
