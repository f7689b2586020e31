"""Migration 0007: instances get their applicant's org unit; claimed invoices get their canonical form."""

from __future__ import annotations

from sqlalchemy import text

from engine.persistence import schema
from engine.persistence.db import make_engine

NOW = "2026-12-01 10:00:00.000000"


def test_upgrading_stores_org_units_and_canonical_invoices(tmp_path, capsys):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        schema.upgrade(engine, "0006")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO org_unit (id, code, name, active) VALUES (1, 'SALES-N', 'n', 1)"))
            conn.execute(text("INSERT INTO employee (id, code, name, org_unit_id, active) "
                              "VALUES (1, 'E0017', 'x', 1, 1)"))
            conn.execute(text("INSERT INTO model_version (id, sha256, files, process_ids, deployed_by, deployed_at) "
                              "VALUES (1, 'abc', '{}', 'p', 'E0016', :now)"), {"now": NOW})
            conn.execute(text("INSERT INTO process_instance (id, model_version_id, process_id, business_key, "
                              "applicant, status, state, revision, created_at, updated_at) "
                              "VALUES (1, 1, 'p', 'EC-1', 'E0017', 'waiting', '', 1, :now, :now)"), {"now": NOW})
            for row_id, code, number, document in ((1, "011002", "０１２３", "EC-1"), (2, "011002", "0123\u200b",
                                                                                       "EC-2"),
                                                   (3, "AB", "X9", "EC-3")):
                conn.execute(text("INSERT INTO claimed_invoice (id, invoice_code, invoice_number, document_no, "
                                  "claimed_at) VALUES (:i, :c, :n, :d, :now)"),
                             {"i": row_id, "c": code, "n": number, "d": document, "now": NOW})
        schema.upgrade(engine)
        with engine.connect() as conn:
            unit = conn.execute(text("SELECT org_unit FROM process_instance WHERE id = 1")).scalar()
            invoices = conn.execute(text("SELECT id, invoice_code, invoice_number FROM claimed_invoice "
                                         "ORDER BY id")).all()
    finally:
        engine.dispose()
    assert unit == "SALES-N"
    assert [tuple(r) for r in invoices] == [(1, "011002", "0123"), (2, "011002", "0123\u200b"), (3, "ab", "x9")]
    assert "claimed_invoice 2 (EC-2): invoice 011002-0123 was claimed more than once" in capsys.readouterr().out
