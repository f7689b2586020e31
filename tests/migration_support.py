"""An old database with one document and its tasks, for tests that upgrade it and look at what a migration did."""

from __future__ import annotations

from sqlalchemy import Engine, text

from engine.persistence import schema
from engine.persistence.db import make_engine

NOW = "2026-11-27 10:00:00.000000"


def database_at(path, revision: str, tasks: list[tuple[int, str, str]]) -> Engine:
    """A SQLite database at ``revision`` with instance 1 and ``tasks`` as (id, status, JSON candidates)."""
    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine, revision)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO model_version (id, sha256, files, process_ids, deployed_by, deployed_at) "
                          "VALUES (1, 'abc', '{}', 'p', 'E0016', :now)"), {"now": NOW})
        conn.execute(text("INSERT INTO process_instance (id, model_version_id, process_id, business_key, "
                          "applicant, status, state, revision, created_at, updated_at) "
                          "VALUES (1, 1, 'p', 'EXP-1', 'E0017', 'user_input_required', '', 1, :now, :now)"),
                     {"now": NOW})
        for task_id, status, candidates in tasks:
            conn.execute(text("INSERT INTO human_task (id, instance_id, task_guid, bpmn_id, title, candidates, "
                              "status, created_at) VALUES (:id, 1, :guid, 't', 't', :c, :s, :now)"),
                         {"id": task_id, "guid": f"g{task_id}", "c": candidates, "s": status, "now": NOW})
    return engine
