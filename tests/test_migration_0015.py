"""Migration 0015: a database deployed before versions were activated keeps starting what it started."""

from __future__ import annotations

from sqlalchemy import text

from engine.persistence import schema
from engine.persistence.instance_repository import SqlInstanceRepository
from tests.migration_support import NOW, database_at


def test_the_newest_version_of_each_process_is_active_after_the_upgrade(tmp_path):
    engine = database_at(tmp_path / "old.db", "0013", tasks=[])  # version 1 holds process p
    with engine.begin() as conn:
        for version_id, processes in ((2, "p,q"), (3, "q"), (4, "r")):
            conn.execute(text("INSERT INTO model_version (id, sha256, files, process_ids, deployed_by, deployed_at) "
                              "VALUES (:id, :sha, '{}', :p, 'E0016', :now)"),
                         {"id": version_id, "sha": f"sha{version_id}", "p": processes, "now": NOW})
    schema.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT model_version_id, activated_by FROM model_activation ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(2, "system"), (3, "system"), (4, "system")]  # p: 2, q: 3, r: 4
    with engine.connect() as conn:
        assert SqlInstanceRepository(conn).active_versions() == {"p": 2, "q": 3, "r": 4}
    engine.dispose()
