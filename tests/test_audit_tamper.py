"""Tampering with 10,000 audit rows as someone with database access would, caught by `budgetflow audit verify`:
edits, deletions, insertions, reordering, a cut tail, an emptied table, and a chain re-signed with the key."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text

from engine.bootstrap import Container
from engine.domain.audit import canonical_payload, chain_hmac
from engine.persistence import audit_repository
from engine.persistence.db import make_engine
from tests.audit_support import (
    AUDIT,
    KEY,
    WRONG_KEY,
    assert_caught,
    by_seq,
    cli,
    entries,
    forged_insert,
    in_process,
    sample_record,
    shift_up_from,
    stored_anchor,
    tamper,
)

N = 10_000
_PRISTINE: dict[str, list[dict[str, Any]]] = {}  # per backend: the rows as first built, to restore per case
BUILD_SECONDS: dict[str, float] = {}


@pytest.fixture
def ten_thousand(container: Container, db_url: str) -> list[dict[str, Any]]:
    """10,000 audit rows in this test's database: built through the repository once per backend,
    then restored from that copy (the table is append-only, so each case needs a fresh one)."""
    backend = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    with container.session_factory() as s:
        if backend not in _PRISTINE:
            started = time.perf_counter()
            audit_repository.append_many(s, KEY, entries(N))
            s.commit()
            BUILD_SECONDS[backend] = time.perf_counter() - started
            columns = [c for c in AUDIT.c if c.name != "id"]
            _PRISTINE[backend] = [dict(r._mapping) for r in s.execute(select(*columns).order_by(AUDIT.c.seq))]
        else:
            s.execute(insert(AUDIT), _PRISTINE[backend])
            s.commit()
    return _PRISTINE[backend]


def test_s5_untouched_table_passes(ten_thousand, cli_env, monkeypatch, capsys):
    run = cli(cli_env, "verify")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"OK: {N} rows checked, head {N}:{by_seq(ten_thousand, N)['mac']}" in run.stdout
    head = cli(cli_env, "head")
    assert head.returncode == 0 and head.stdout.strip() == f"{N}:{by_seq(ten_thousand, N)['mac']}"
    code, out, _ = in_process(cli_env, monkeypatch, capsys, "verify", key=WRONG_KEY)
    assert code == 1 and "HINT no row verifies under this key" in out
    code, _, err = in_process(cli_env, monkeypatch, capsys, "head", key=WRONG_KEY)
    assert code == 1 and "refusing to print an anchor" in err


def test_s5_edited_amount(ten_thousand, cli_env, db_url):
    payload = by_seq(ten_thousand, 5123)["payload"]
    edited = payload.replace('"amount":"5123.23"', '"amount":"51.23"')
    assert edited != payload
    tamper(db_url, ("UPDATE audit_log SET payload = :p WHERE seq = 5123", {"p": edited}))
    assert_caught(cli(cli_env, "verify"), 5123, "row seq 5123: content does not match its MAC (edited?)")


def test_s5_deleted_row(ten_thousand, cli_env, db_url):
    tamper(db_url, ("DELETE FROM audit_log WHERE seq = 5000", {}))
    assert_caught(cli(cli_env, "verify"), 5000, "gap after seq 4999: seq 5001 follows (deleted?)")


def test_s5_inserted_row_signed_with_a_wrong_key(ten_thousand, cli_env, db_url):
    prev = by_seq(ten_thousand, 5999)["mac"]
    forged = forged_insert(6000, prev, lambda r: chain_hmac(WRONG_KEY, prev, r))
    tamper(db_url, *shift_up_from(6000), forged)
    assert_caught(cli(cli_env, "verify"), 6000, "row seq 6000: not signed with this key", "(inserted?)",
                   "row seq 6001: holds the entry signed as seq 6000")


def test_s5_inserted_row_copying_its_neighbours_mac(ten_thousand, cli_env, db_url):
    neighbour = by_seq(ten_thousand, 7000)
    forged = forged_insert(7000, neighbour["prev_mac"], lambda r: neighbour["mac"])
    tamper(db_url, *shift_up_from(7000), forged)
    assert_caught(cli(cli_env, "verify"), 7000, "row seq 7000: not signed with this key", "(inserted?)")


def test_s5_forged_row_appended_at_the_end(ten_thousand, cli_env, db_url):
    head = by_seq(ten_thousand, N)
    tamper(db_url, forged_insert(N + 1, head["mac"], lambda r: head["mac"]))
    assert_caught(cli(cli_env, "verify"), N + 1, f"row seq {N + 1}: content does not match its MAC (edited?)")


def test_s5_swapped_rows(ten_thousand, cli_env, db_url):
    tamper(db_url, ("UPDATE audit_log SET seq = -1 WHERE seq = 3000", {}),
            ("UPDATE audit_log SET seq = 3000 WHERE seq = 3500", {}),
            ("UPDATE audit_log SET seq = 3500 WHERE seq = -1", {}))
    assert_caught(cli(cli_env, "verify"), 3000, "row seq 3000: holds the entry signed as seq 3500",
                   "row seq 3500: holds the entry signed as seq 3000")


def test_s5_cut_tail_is_caught_by_the_stored_anchor(ten_thousand, cli_env, db_url, monkeypatch, capsys):
    code, _, err = in_process(cli_env, monkeypatch, capsys, "verify")  # the first run after an upgrade
    assert code == 0 and f"anchor created at seq {N}" in err
    head = f"{N}:{by_seq(ten_thousand, N)['mac']}"
    assert stored_anchor(cli_env) == head
    tamper(db_url, ("DELETE FROM audit_log WHERE seq > 9990", {}))
    # No --anchor: the anchor kept outside the database is enough.
    assert_caught(cli(cli_env, "verify"), 9991, "table ends at seq 9990 but the anchor is seq 10000")
    assert stored_anchor(cli_env) == head  # a cut chain never replaces the good anchor
    code, out, _ = in_process(cli_env, monkeypatch, capsys, "verify", "--anchor",
                               f"5000:{by_seq(ten_thousand, 5000)['mac']}")  # an exported anchor still works
    assert code == 1 and "table ends at seq 9990 but the anchor is seq 10000" in out
    code, _, err = in_process(cli_env, monkeypatch, capsys, "head")
    assert code == 1 and "refusing to print an anchor" in err


def test_s5_truncated_table_is_caught_by_the_stored_anchor(ten_thousand, cli_env, db_url, monkeypatch, capsys):
    assert in_process(cli_env, monkeypatch, capsys, "verify")[0] == 0
    if db_url.startswith("postgresql"):
        engine = make_engine(db_url)
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))  # row-level triggers do not fire for TRUNCATE
        engine.dispose()
    else:
        tamper(db_url, ("DELETE FROM audit_log", {}))
    assert_caught(cli(cli_env, "verify"), 1, f"table is empty but the anchor is seq {N}")
    assert stored_anchor(cli_env) == f"{N}:{by_seq(ten_thousand, N)['mac']}"


def _resigned(rows: list[dict[str, Any]], key: bytes, edit_seq: int) -> list[tuple[str, Any]]:
    """What a key holder does: edit one row and re-sign it and every row after it, so the table is a valid chain."""
    prev, updates = by_seq(rows, edit_seq - 1)["mac"], []
    for row in rows[edit_seq - 1:]:
        record = sample_record(row["seq"])
        if row["seq"] == edit_seq:
            record = replace(record, payload={**record.payload, "amount": "1.00"})
        mac = chain_hmac(key, prev, record)
        updates.append(("UPDATE audit_log SET payload = :payload, prev_mac = :prev, mac = :mac WHERE seq = :seq",
                        {"payload": canonical_payload(record.payload), "prev": prev, "mac": mac, "seq": row["seq"]}))
        prev = mac
    return updates


def test_s5_re_signing_with_the_development_key_is_caught_by_the_stored_anchor(
    ten_thousand, cli_env, db_url, monkeypatch, capsys,
):
    instance = Path(cli_env["BUDGETFLOW_INSTANCE_DIR"])
    (instance / "audit.key").write_text(KEY.decode() + "\n")  # a development deployment: the key in the instance folder
    code, _, err = in_process(cli_env, monkeypatch, capsys, "verify", key=None)
    assert code == 0 and "warning: the audit key is the development key" in err
    if db_url.startswith("sqlite"):
        assert "beside the SQLite database" in err
    stolen = (instance / "audit.key").read_text().strip().encode()  # anyone who can read the folder
    tamper(db_url, *_resigned(ten_thousand, stolen, 9000))
    run = cli(cli_env, "verify", key=None)
    assert_caught(run, N, f"anchor mismatch at seq {N}")
    assert run.stderr.count("development key") == 1


def test_s5_rewrite_with_the_key_is_caught_by_the_anchor(ten_thousand, cli_env, db_url, monkeypatch, capsys):
    """Someone holding the key re-signs everything after an edit; no anchor was stored before, so only
    the exported one disagrees."""
    anchor = f"{N}:{by_seq(ten_thousand, N)['mac']}"
    tamper(db_url, *_resigned(ten_thousand, KEY, 9000))
    assert in_process(cli_env, monkeypatch, capsys, "verify")[0] == 0
    assert_caught(cli(cli_env, "verify", "--anchor", anchor), N, f"anchor mismatch at seq {N}")


def test_s5_json_report_and_key_errors(ten_thousand, cli_env, db_url, monkeypatch, capsys):
    tamper(db_url, ("DELETE FROM audit_log WHERE seq = 1", {}))
    report = json.loads(cli(cli_env, "verify", "--json").stdout)
    assert report["ok"] is False and report["first_bad_seq"] == 1 and report["rows"] == N - 1
    assert report["problems"] == ["gap after seq 0: seq 2 follows (deleted?)"]
    code, _, err = in_process(cli_env, monkeypatch, capsys, "verify", key=None)
    assert code == 2 and "no audit key" in err
    code, _, err = in_process(cli_env, monkeypatch, capsys, "verify", "--anchor", "10:nope")
    assert code == 2 and "SEQ:MAC" in err
