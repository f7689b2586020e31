"""The audit log in the database: the table, concurrent appends, and S5 tampering caught by the CLI."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Executable, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from engine.audit_key import ANCHOR_FILE_ENV, KEY_ENV, KEY_FILE_ENV
from engine.bootstrap import Container, build
from engine.cli import main
from engine.cli.audit_anchor import AnchorKeeper
from engine.domain.audit import (
    GENESIS_MAC,
    AuditKeyMissing,
    AuditRecord,
    StoredEntry,
    canonical_payload,
    chain_hmac,
)
from engine.persistence import audit_repository
from engine.persistence.audit_anchor_file import AnchorFile
from engine.persistence.audit_repository import NewEntry
from engine.persistence.audit_table import AuditLog
from engine.persistence.db import make_engine
from engine.persistence.tables import Base, Currency
from engine.services.audit import verify, verify_anchored

KEY = b"test-audit-key-0123456789abcdef0123456789abcdef"
WRONG_KEY = b"an-attacker-guess-0123456789abcdef0123"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ACTIONS = ("task.complete", "engine.decision", "connector.result")
_audit = AuditLog.__table__



def _record(seq: int) -> AuditRecord:
    return AuditRecord(
        seq=seq, occurred_at=T0 + timedelta(seconds=seq), actor=f"emp{seq % 17:03d}",
        action=ACTIONS[seq % 3], subject_type="claim", subject_id=f"EXP-{seq:05d}",
        payload={"amount": f"{seq}.{seq % 100:02d}", "currency": "CNY", "step": seq % 5},
    )


# ---------------------------------------------------------------- the table and repository


def _rows(container: Container) -> list[StoredEntry]:
    with container.session_factory() as s:
        return list(audit_repository.iter_rows(s, batch=64))


def test_migration_matches_the_model(container):
    with container.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diffs if "audit_log" in repr(d)] == []


def test_append_commits_and_rolls_back_with_the_callers_transaction(container):
    with container.session_factory() as s:
        s.add(Currency(code="EUR", name="Euro", minor_units=2))
        audit_repository.append(s, KEY, actor="alice", action="currency.add", subject_type="currency",
                                subject_id="EUR")
        s.rollback()
    assert _rows(container) == []
    with container.session_factory() as s:
        s.add(Currency(code="EUR", name="Euro", minor_units=2))
        first = audit_repository.append(s, KEY, actor="alice", action="currency.add", subject_type="currency",
                                        subject_id="EUR", payload={"minor_units": 2, "at": T0})
        second = audit_repository.append(s, KEY, actor="bob", action="claim.approve", subject_type="claim",
                                         subject_id="EXP-1", payload={"amount": Decimal("1234.50")})
        s.commit()
    stored = _rows(container)
    assert [r.record for r in stored] == [first, second]
    assert second.payload == {"amount": "1234.50"}
    assert stored[1].prev_mac == stored[0].mac and stored[0].prev_mac == GENESIS_MAC
    assert verify(stored, KEY).ok


def test_triggers_refuse_update_and_delete(container):
    with container.session_factory() as s:
        audit_repository.append(s, KEY, actor="alice", action="x", subject_type="t", subject_id="1")
        s.commit()
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with container.session_factory() as s, pytest.raises(DBAPIError, match="append-only"):
            s.execute(text(statement))
    assert [r.record.actor for r in _rows(container)] == ["alice"]


def _hammer(container: Container, append: Callable[..., Any], threads: int = 8, each: int = 25) -> list[Exception]:
    """``threads`` workers each append ``each`` rows, one transaction per row, started together."""
    barrier, errors = threading.Barrier(threads), []

    def work(worker: int) -> None:
        barrier.wait()
        for i in range(each):
            try:
                with container.session_factory() as s:
                    append(s, KEY, actor=f"worker{worker}", action="task.complete", subject_type="task",
                           subject_id=f"{worker}-{i}", payload={"i": i})
                    s.commit()
            except IntegrityError as exc:
                errors.append(exc)

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return errors


@pytest.mark.slow
def test_concurrent_appends_form_one_valid_chain(container):
    errors = _hammer(container, audit_repository.append)
    rows = _rows(container)
    assert errors == []
    assert [r.record.seq for r in rows] == list(range(1, 201))
    assert verify(rows, KEY).ok


def _append_without_lock(session, key, **fields) -> AuditRecord:
    """The naive version: read the head and insert, with no lock in between (negative control)."""
    head = audit_repository.read_head(session)
    time.sleep(0.002)  # widen the window the lock exists to close
    entry = NewEntry(**fields)
    record, payload_text = audit_repository._record(head.seq + 1, entry)
    mac = chain_hmac(key, head.mac, record)
    session.execute(insert(_audit).values(audit_repository._row(record, payload_text, head.mac, mac)))
    return record


@pytest.mark.slow
def test_without_the_lock_concurrent_appends_collide(container, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises whole transactions (BEGIN IMMEDIATE); there is no per-append lock to omit")
    errors = _hammer(container, _append_without_lock)
    # Two appends chained onto the same head: the unique seq turns the fork into a failed
    # transaction (the business change it carried is lost); the lock is what prevents it.
    assert errors, "expected duplicate-seq collisions without the advisory lock"
    assert all("seq" in str(e.orig) or "unique" in str(e.orig).lower() for e in errors)
    assert verify(_rows(container), KEY).ok


# ---------------------------------------------------------------- S5: 10,000 rows, tampered, via the CLI

N = 10_000
_PRISTINE: dict[str, list[dict[str, Any]]] = {}  # per backend: the rows as first built, to restore per case
BUILD_SECONDS: dict[str, float] = {}


def _entries(n: int) -> list[NewEntry]:
    return [
        NewEntry(actor=r.actor, action=r.action, subject_type=r.subject_type, subject_id=r.subject_id,
                 payload={**r.payload, "amount": Decimal(r.payload["amount"])}, occurred_at=r.occurred_at)
        for r in (_record(seq) for seq in range(1, n + 1))
    ]


@pytest.fixture
def ten_thousand(container: Container, db_url: str) -> list[dict[str, Any]]:
    """10,000 audit rows in this test's database: built through the repository once per backend,
    then restored from that copy (the table is append-only, so each case needs a fresh one)."""
    backend = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    with container.session_factory() as s:
        if backend not in _PRISTINE:
            started = time.perf_counter()
            audit_repository.append_many(s, KEY, _entries(N))
            s.commit()
            BUILD_SECONDS[backend] = time.perf_counter() - started
            columns = [c for c in _audit.c if c.name != "id"]
            _PRISTINE[backend] = [dict(r._mapping) for r in s.execute(select(*columns).order_by(_audit.c.seq))]
        else:
            s.execute(insert(_audit), _PRISTINE[backend])
            s.commit()
    return _PRISTINE[backend]


def _tamper(db_url: str, *statements: tuple[str, Any] | Executable) -> None:
    """Change the table the way someone with database access would: switch the trigger off first."""
    engine = make_engine(db_url)
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if postgres:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        for statement in statements:
            if isinstance(statement, tuple):
                conn.execute(text(statement[0]), statement[1])
            else:
                conn.execute(statement)
        if postgres:  # DDL is transactional there; leave the schema as the next test expects
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
    engine.dispose()


def _cli(cli_env: dict[str, str], *args: str, key: bytes | None = KEY, command: str = "audit"
         ) -> subprocess.CompletedProcess[str]:
    """``budgetflow <command> ARGS`` in a subprocess; ``key=None``: no key in the environment (development key)."""
    env = {**cli_env, KEY_ENV: key.decode()} if key else {**cli_env}
    if key is None:
        env.pop(KEY_ENV, None)
    env.pop(KEY_FILE_ENV, None)
    env.pop(ANCHOR_FILE_ENV, None)
    return subprocess.run([sys.executable, "-m", "engine", command, *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def _in_process(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                *args: str, key: bytes | None = KEY) -> tuple[int, str, str]:
    """The same command through ``engine.cli.main`` in this process: for the side checks, to save start-up time."""
    for name in ("BUDGETFLOW_DATABASE_URL", "BUDGETFLOW_INSTANCE_DIR"):
        monkeypatch.setenv(name, cli_env[name])
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    monkeypatch.delenv(ANCHOR_FILE_ENV, raising=False)
    if key is None:
        monkeypatch.delenv(KEY_ENV, raising=False)
    else:
        monkeypatch.setenv(KEY_ENV, key.decode())
    capsys.readouterr()
    code = main(["audit", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _assert_caught(run: subprocess.CompletedProcess[str], seq: int, *fragments: str) -> None:
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"FAILED at seq {seq} " in run.stdout, run.stdout
    first = next(line for line in run.stdout.splitlines() if line.startswith("PROBLEM"))
    assert fragments[0] in first, run.stdout
    for fragment in fragments[1:]:
        assert fragment in run.stdout, run.stdout


def _by_seq(rows: list[dict[str, Any]], seq: int) -> dict[str, Any]:
    row = rows[seq - 1]
    assert row["seq"] == seq
    return row


def _shift_up_from(seq: int) -> list[tuple[str, Any]]:
    """Renumber seq >= ``seq`` by one, via negatives because the unique index is checked row by row."""
    return [("UPDATE audit_log SET seq = -(seq + 1) WHERE seq >= :s", {"s": seq}),
            ("UPDATE audit_log SET seq = -seq WHERE seq < 0", {})]


def _forged(seq: int, prev_mac: str, mac_of: Callable[[AuditRecord], str]) -> Executable:
    """An INSERT of a plausible row: a payout to mallory, with a MAC from ``mac_of``."""
    record = replace(_record(seq), actor="mallory", payload={"amount": "99999.00", "currency": "CNY"})
    return insert(_audit).values(
        seq=seq, occurred_at=record.occurred_at, actor=record.actor, action=record.action,
        subject_type=record.subject_type, subject_id=record.subject_id,
        payload=canonical_payload(record.payload), prev_mac=prev_mac, mac=mac_of(record),
    )


def test_s5_untouched_table_passes(ten_thousand, cli_env, monkeypatch, capsys):
    run = _cli(cli_env, "verify")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"OK: {N} rows checked, head {N}:{_by_seq(ten_thousand, N)['mac']}" in run.stdout
    head = _cli(cli_env, "head")
    assert head.returncode == 0 and head.stdout.strip() == f"{N}:{_by_seq(ten_thousand, N)['mac']}"
    code, out, _ = _in_process(cli_env, monkeypatch, capsys, "verify", key=WRONG_KEY)
    assert code == 1 and "HINT no row verifies under this key" in out
    code, _, err = _in_process(cli_env, monkeypatch, capsys, "head", key=WRONG_KEY)
    assert code == 1 and "refusing to print an anchor" in err


def test_s5_edited_amount(ten_thousand, cli_env, db_url):
    payload = _by_seq(ten_thousand, 5123)["payload"]
    edited = payload.replace('"amount":"5123.23"', '"amount":"51.23"')
    assert edited != payload
    _tamper(db_url, ("UPDATE audit_log SET payload = :p WHERE seq = 5123", {"p": edited}))
    _assert_caught(_cli(cli_env, "verify"), 5123, "row seq 5123: content does not match its MAC (edited?)")


def test_s5_deleted_row(ten_thousand, cli_env, db_url):
    _tamper(db_url, ("DELETE FROM audit_log WHERE seq = 5000", {}))
    _assert_caught(_cli(cli_env, "verify"), 5000, "gap after seq 4999: seq 5001 follows (deleted?)")


def test_s5_inserted_row_signed_with_a_wrong_key(ten_thousand, cli_env, db_url):
    prev = _by_seq(ten_thousand, 5999)["mac"]
    forged = _forged(6000, prev, lambda r: chain_hmac(WRONG_KEY, prev, r))
    _tamper(db_url, *_shift_up_from(6000), forged)
    _assert_caught(_cli(cli_env, "verify"), 6000, "row seq 6000: not signed with this key", "(inserted?)",
                   "row seq 6001: holds the entry signed as seq 6000")


def test_s5_inserted_row_copying_its_neighbours_mac(ten_thousand, cli_env, db_url):
    neighbour = _by_seq(ten_thousand, 7000)
    forged = _forged(7000, neighbour["prev_mac"], lambda r: neighbour["mac"])
    _tamper(db_url, *_shift_up_from(7000), forged)
    _assert_caught(_cli(cli_env, "verify"), 7000, "row seq 7000: not signed with this key", "(inserted?)")


def test_s5_forged_row_appended_at_the_end(ten_thousand, cli_env, db_url):
    head = _by_seq(ten_thousand, N)
    _tamper(db_url, _forged(N + 1, head["mac"], lambda r: head["mac"]))
    _assert_caught(_cli(cli_env, "verify"), N + 1, f"row seq {N + 1}: content does not match its MAC (edited?)")


def test_s5_swapped_rows(ten_thousand, cli_env, db_url):
    _tamper(db_url, ("UPDATE audit_log SET seq = -1 WHERE seq = 3000", {}),
            ("UPDATE audit_log SET seq = 3000 WHERE seq = 3500", {}),
            ("UPDATE audit_log SET seq = 3500 WHERE seq = -1", {}))
    _assert_caught(_cli(cli_env, "verify"), 3000, "row seq 3000: holds the entry signed as seq 3500",
                   "row seq 3500: holds the entry signed as seq 3000")


def _stored(cli_env: dict[str, str]) -> str | None:
    """The anchor in the default anchor file of this test's instance folder, as SEQ:MAC."""
    sealed = AnchorFile(Path(cli_env["BUDGETFLOW_INSTANCE_DIR"]) / "audit.anchor").read()
    return None if sealed is None else str(sealed.anchor)


def test_s5_cut_tail_is_caught_by_the_stored_anchor(ten_thousand, cli_env, db_url, monkeypatch, capsys):
    code, _, err = _in_process(cli_env, monkeypatch, capsys, "verify")  # the first run after an upgrade
    assert code == 0 and f"anchor created at seq {N}" in err
    head = f"{N}:{_by_seq(ten_thousand, N)['mac']}"
    assert _stored(cli_env) == head
    _tamper(db_url, ("DELETE FROM audit_log WHERE seq > 9990", {}))
    # No --anchor: the anchor kept outside the database is enough.
    _assert_caught(_cli(cli_env, "verify"), 9991, "table ends at seq 9990 but the anchor is seq 10000")
    assert _stored(cli_env) == head  # a cut chain never replaces the good anchor
    code, out, _ = _in_process(cli_env, monkeypatch, capsys, "verify", "--anchor",
                               f"5000:{_by_seq(ten_thousand, 5000)['mac']}")  # an exported anchor still works
    assert code == 1 and "table ends at seq 9990 but the anchor is seq 10000" in out
    code, _, err = _in_process(cli_env, monkeypatch, capsys, "head")
    assert code == 1 and "refusing to print an anchor" in err


def test_s5_truncated_table_is_caught_by_the_stored_anchor(ten_thousand, cli_env, db_url, monkeypatch, capsys):
    assert _in_process(cli_env, monkeypatch, capsys, "verify")[0] == 0
    if db_url.startswith("postgresql"):
        engine = make_engine(db_url)
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))  # row-level triggers do not fire for TRUNCATE
        engine.dispose()
    else:
        _tamper(db_url, ("DELETE FROM audit_log", {}))
    _assert_caught(_cli(cli_env, "verify"), 1, f"table is empty but the anchor is seq {N}")
    assert _stored(cli_env) == f"{N}:{_by_seq(ten_thousand, N)['mac']}"


def _resigned(rows: list[dict[str, Any]], key: bytes, edit_seq: int) -> list[tuple[str, Any]]:
    """What a key holder does: edit one row and re-sign it and every row after it, so the table is a valid chain."""
    prev, updates = _by_seq(rows, edit_seq - 1)["mac"], []
    for row in rows[edit_seq - 1:]:
        record = _record(row["seq"])
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
    code, _, err = _in_process(cli_env, monkeypatch, capsys, "verify", key=None)
    assert code == 0 and "warning: the audit key is the development key" in err
    if db_url.startswith("sqlite"):
        assert "beside the SQLite database" in err
    stolen = (instance / "audit.key").read_text().strip().encode()  # anyone who can read the folder
    _tamper(db_url, *_resigned(ten_thousand, stolen, 9000))
    run = _cli(cli_env, "verify", key=None)
    _assert_caught(run, N, f"anchor mismatch at seq {N}")
    assert run.stderr.count("development key") == 1


def test_s5_rewrite_with_the_key_is_caught_by_the_anchor(ten_thousand, cli_env, db_url, monkeypatch, capsys):
    """Someone holding the key re-signs everything after an edit; no anchor was stored before, so only
    the exported one disagrees."""
    anchor = f"{N}:{_by_seq(ten_thousand, N)['mac']}"
    _tamper(db_url, *_resigned(ten_thousand, KEY, 9000))
    assert _in_process(cli_env, monkeypatch, capsys, "verify")[0] == 0
    _assert_caught(_cli(cli_env, "verify", "--anchor", anchor), N, f"anchor mismatch at seq {N}")


def test_s5_json_report_and_key_errors(ten_thousand, cli_env, db_url, monkeypatch, capsys):
    _tamper(db_url, ("DELETE FROM audit_log WHERE seq = 1", {}))
    report = json.loads(_cli(cli_env, "verify", "--json").stdout)
    assert report["ok"] is False and report["first_bad_seq"] == 1 and report["rows"] == N - 1
    assert report["problems"] == ["gap after seq 0: seq 2 follows (deleted?)"]
    code, _, err = _in_process(cli_env, monkeypatch, capsys, "verify", key=None)
    assert code == 2 and "no audit key" in err
    code, _, err = _in_process(cli_env, monkeypatch, capsys, "verify", "--anchor", "10:nope")
    assert code == 2 and "SEQ:MAC" in err


# ---------------------------------------------------------------- the stored anchor and the worker


def _append(container: Container, n: int) -> None:
    with container.session_factory() as s:
        start = audit_repository.read_head(s).seq + 1
        audit_repository.append_many(s, KEY, _entries(start + n - 1)[start - 1:])
        s.commit()


def _head(container: Container) -> str:
    with container.session_factory() as s:
        return str(audit_repository.read_head(s))


def test_without_a_stored_anchor_verify_says_so_and_anchors_only_a_valid_chain(
    container, cli_env, db_url, monkeypatch, capsys,
):
    _append(container, 5)
    code, out, err = _in_process(cli_env, monkeypatch, capsys, "verify")
    assert code == 0
    assert "there was no audit anchor" in err and "holds 5 row(s)" in err and "anchor created at seq 5" in err
    assert "none before, advanced to seq 5" in out and _stored(cli_env) == _head(container)
    _append(container, 2)
    code, out, err = _in_process(cli_env, monkeypatch, capsys, "verify", "--json")
    report = json.loads(out)
    assert code == 0 and err == ""
    assert report["stored_anchor"].startswith("5:") and report["anchor_written"] == _head(container)
    assert _stored(cli_env) == _head(container)
    # A chain that does not verify is never anchored, not even when there is no anchor yet.
    (Path(cli_env["BUDGETFLOW_INSTANCE_DIR"]) / "audit.anchor").unlink()
    _tamper(db_url, ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3", {}))
    code, out, _ = _in_process(cli_env, monkeypatch, capsys, "verify")
    assert code == 1 and "row seq 3: content does not match its MAC" in out and _stored(cli_env) is None


def test_an_anchor_file_moved_to_a_cut_head_without_the_key_is_caught(container, cli_env, db_url, monkeypatch,
                                                                      capsys):
    _append(container, 30)
    assert _in_process(cli_env, monkeypatch, capsys, "verify")[0] == 0
    _tamper(db_url, ("DELETE FROM audit_log WHERE seq > 20", {}))
    path = Path(cli_env["BUDGETFLOW_INSTANCE_DIR"]) / "audit.anchor"
    body = json.loads(path.read_text())
    path.write_text(json.dumps({**body, "anchor": _head(container)}))  # the cut table's head, readable by anyone
    code, out, _ = _in_process(cli_env, monkeypatch, capsys, "verify")
    assert code == 1 and "(seq 20) is not sealed with this key" in out and "FAILED (1 problem(s))" in out


def test_the_worker_keeps_the_anchor_current_and_reports_a_cut_chain(container, cli_env, db_url, monkeypatch,
                                                                     capsys):
    _append(container, 20)
    worker = _cli(cli_env, "--once", command="worker")
    assert worker.returncode == 0, worker.stderr
    assert _stored(cli_env) == _head(container)
    _append(container, 10)
    monkeypatch.setenv(KEY_ENV, KEY.decode())
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    monkeypatch.delenv(ANCHOR_FILE_ENV, raising=False)
    outcome = AnchorKeeper(container, "worker").refresh()  # what the worker's loop runs every minute
    assert outcome is not None and outcome.result.rows == 11  # the anchored row and the ten after it
    assert _stored(cli_env) == _head(container) and _head(container).startswith("30:")
    _tamper(db_url, ("DELETE FROM audit_log WHERE seq > 25", {}))
    worker = _cli(cli_env, "--once", command="worker")
    assert worker.returncode == 0, worker.stderr  # the business work goes on; the problem is reported
    assert ("worker: AUDIT CHAIN DOES NOT VERIFY: the anchor is seq 30 but the table has no row from seq 30 on"
            in worker.stderr), worker.stderr
    assert "the anchor stays at seq 30" in worker.stderr and _stored(cli_env).startswith("30:")
    _assert_caught(_cli(cli_env, "verify"), 26, "table ends at seq 25 but the anchor is seq 30")


def test_the_scheduler_refreshes_the_anchor_and_warns_about_the_development_key(container, cli_env, tmp_path):
    _append(container, 3)
    (tmp_path / "audit.key").write_text(KEY.decode())
    env = {k: v for k, v in cli_env.items() if k not in (KEY_ENV, KEY_FILE_ENV, ANCHOR_FILE_ENV)}
    proc = subprocess.Popen([sys.executable, "-m", "engine", "scheduler"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _stored(cli_env) is None:
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert _stored(cli_env) == _head(container), stderr
    assert stderr.count("warning: the audit key is the development key") == 1, stderr


def test_a_refresh_reads_only_the_rows_after_the_anchor_so_a_full_verify_still_matters(container, tmp_path, db_url):
    store, seen = AnchorFile(tmp_path / "elsewhere" / "audit.anchor"), []

    def rows(from_seq: int | None):
        seen.append(from_seq)
        return audit_repository.stream_rows(container.engine, from_seq)

    _append(container, 10)
    assert verify_anchored(rows, KEY, store, incremental=True).written.seq == 10  # no anchor yet: a full run
    _append(container, 5)
    assert verify_anchored(rows, KEY, store, incremental=True).written.seq == 15
    assert seen == [None, 10]
    _tamper(db_url, ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 4", {}))
    assert verify_anchored(rows, KEY, store, incremental=True).result.ok  # seq 4 is behind the anchor
    full = verify_anchored(rows, KEY, store)
    assert not full.result.ok and full.result.first_bad_seq == 4


@pytest.mark.slow
def test_refreshes_racing_each_other_and_the_writers_stay_correct_and_monotonic(container, tmp_path):
    """Rows are appended while two refreshers verify incrementally: every refresh verifies, the anchor
    only moves forwards, and it ends at the true head."""
    store = AnchorFile(tmp_path / "audit.anchor")

    def rows(from_seq: int | None):
        return audit_repository.stream_rows(container.engine, from_seq, batch=16)

    writers_done, failures, seen_by = threading.Event(), [], [[], []]

    def refresh_until_done(seen: list[int]) -> None:
        while not writers_done.is_set():
            outcome = verify_anchored(rows, KEY, store, incremental=True)
            if not outcome.result.ok:
                failures.append(outcome.result.problems)
            sealed = store.read()
            seen.append(sealed.anchor.seq if sealed else 0)

    refreshers = [threading.Thread(target=refresh_until_done, args=(seen,)) for seen in seen_by]
    for t in refreshers:
        t.start()
    try:
        assert _hammer(container, audit_repository.append, threads=4, each=50) == []
    finally:
        writers_done.set()
        for t in refreshers:
            t.join()
    assert failures == []
    assert all(seen == sorted(seen) for seen in seen_by), seen_by  # the anchor never moved backwards
    assert len(set(seen_by[0] + seen_by[1])) > 3, "the anchor hardly moved: the test did not race anything"
    final = verify_anchored(rows, KEY, store)
    assert final.result.ok and final.result.rows == 200
    assert str(store.read().anchor) == _head(container) and _head(container).startswith("200:")


# ---------------------------------------------------------------- a missing key


def _record_one(container: Container) -> None:
    with container.uow() as uow:
        uow.record(actor="E0016", action="budget.adjust", subject_type="budget_line", subject_id="B-1")
        uow.commit()


def test_a_deleted_key_file_stops_the_next_writer_instead_of_starting_a_new_chain(container, tmp_path, monkeypatch):
    for name in (KEY_ENV, KEY_FILE_ENV, ANCHOR_FILE_ENV):
        monkeypatch.delenv(name, raising=False)
    _record_one(container)  # an unused log: the development key is created
    key_file = tmp_path / "audit.key"
    assert key_file.exists()
    key_file.unlink()
    restarted = build(container.settings)  # the next process to start
    try:
        with pytest.raises(AuditKeyMissing) as exc:
            _record_one(restarted)
    finally:
        restarted.dispose()
    assert "audit key is missing" in str(exc.value) and "holds 1 row(s)" in str(exc.value)
    assert str(key_file) in str(exc.value)
    assert not key_file.exists() and len(_rows(container)) == 1
