"""Shared by the audit tests: a key, deterministic records, tampering as a database admin would, the CLI."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Executable, insert, text
from sqlalchemy.exc import IntegrityError

from engine.audit_key import ANCHOR_FILE_ENV, KEY_ENV, KEY_FILE_ENV
from engine.bootstrap import Container
from engine.cli import main
from engine.domain.audit import AuditRecord, StoredEntry, canonical_payload
from engine.persistence import audit_repository
from engine.persistence.audit_anchor_file import AnchorFile
from engine.persistence.audit_repository import NewEntry
from engine.persistence.audit_table import AuditLog
from engine.persistence.db import make_engine

KEY = b"test-audit-key-0123456789abcdef0123456789abcdef"
WRONG_KEY = b"an-attacker-guess-0123456789abcdef0123"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ACTIONS = ("task.complete", "engine.decision", "connector.result")
AUDIT = AuditLog.__table__


def sample_record(seq: int) -> AuditRecord:
    return AuditRecord(
        seq=seq, occurred_at=T0 + timedelta(seconds=seq), actor=f"emp{seq % 17:03d}",
        action=ACTIONS[seq % 3], subject_type="claim", subject_id=f"EXP-{seq:05d}",
        payload={"amount": f"{seq}.{seq % 100:02d}", "currency": "CNY", "step": seq % 5},
    )


def stored_rows(container: Container) -> list[StoredEntry]:
    with container.session_factory() as s:
        return list(audit_repository.iter_rows(s, batch=64))


def hammer(container: Container, append: Callable[..., Any], threads: int = 8, each: int = 25) -> list[Exception]:
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

    run_together(threads, work)
    return errors


def run_together(threads: int, work: Callable[[int], None]) -> None:
    """Run ``work(0)`` … ``work(threads - 1)`` on threads of their own and wait for all of them."""
    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def entries(n: int) -> list[NewEntry]:
    return [
        NewEntry(actor=r.actor, action=r.action, subject_type=r.subject_type, subject_id=r.subject_id,
                 payload={**r.payload, "amount": Decimal(r.payload["amount"])}, occurred_at=r.occurred_at)
        for r in (sample_record(seq) for seq in range(1, n + 1))
    ]


def tamper(db_url: str, *statements: tuple[str, Any] | Executable) -> None:
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


def cli(cli_env: dict[str, str], *args: str, key: bytes | None = KEY, command: str = "audit"
         ) -> subprocess.CompletedProcess[str]:
    """``budgetflow <command> ARGS`` in a subprocess; ``key=None``: no key in the environment (development key)."""
    env = {**cli_env, KEY_ENV: key.decode()} if key else {**cli_env}
    if key is None:
        env.pop(KEY_ENV, None)
    env.pop(KEY_FILE_ENV, None)
    env.pop(ANCHOR_FILE_ENV, None)
    return subprocess.run([sys.executable, "-m", "engine", command, *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def in_process(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
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


def assert_caught(run: subprocess.CompletedProcess[str], seq: int, *fragments: str) -> None:
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"FAILED at seq {seq} " in run.stdout, run.stdout
    first = next(line for line in run.stdout.splitlines() if line.startswith("PROBLEM"))
    assert fragments[0] in first, run.stdout
    for fragment in fragments[1:]:
        assert fragment in run.stdout, run.stdout


def by_seq(rows: list[dict[str, Any]], seq: int) -> dict[str, Any]:
    row = rows[seq - 1]
    assert row["seq"] == seq
    return row


def shift_up_from(seq: int) -> list[tuple[str, Any]]:
    """Renumber seq >= ``seq`` by one, via negatives because the unique index is checked row by row."""
    return [("UPDATE audit_log SET seq = -(seq + 1) WHERE seq >= :s", {"s": seq}),
            ("UPDATE audit_log SET seq = -seq WHERE seq < 0", {})]


def forged_insert(seq: int, prev_mac: str, mac_of: Callable[[AuditRecord], str]) -> Executable:
    """An INSERT of a plausible row: a payout to mallory, with a MAC from ``mac_of``."""
    record = replace(sample_record(seq), actor="mallory", payload={"amount": "99999.00", "currency": "CNY"})
    return insert(AUDIT).values(
        seq=seq, occurred_at=record.occurred_at, actor=record.actor, action=record.action,
        subject_type=record.subject_type, subject_id=record.subject_id,
        payload=canonical_payload(record.payload), prev_mac=prev_mac, mac=mac_of(record),
    )


def stored_anchor(cli_env: dict[str, str]) -> str | None:
    """The anchor in the default anchor file of this test's instance folder, as SEQ:MAC."""
    sealed = AnchorFile(Path(cli_env["BUDGETFLOW_INSTANCE_DIR"]) / "audit.anchor").read()
    return None if sealed is None else str(sealed.anchor)


def append_rows(container: Container, n: int) -> None:
    with container.session_factory() as s:
        start = audit_repository.read_head(s).seq + 1
        audit_repository.append_many(s, KEY, entries(start + n - 1)[start - 1:])
        s.commit()


def head_of(container: Container) -> str:
    with container.session_factory() as s:
        return str(audit_repository.read_head(s))
