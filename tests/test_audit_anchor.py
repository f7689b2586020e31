"""The audit anchor kept outside the database: created, advanced only over a verified chain, sealed with the
key, refreshed by the worker and the scheduler under concurrent writers; and a missing key is never replaced."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine.audit_anchoring import AnchorKeeper
from engine.audit_key import ANCHOR_FILE_ENV, KEY_ENV, KEY_FILE_ENV, load_audit_key
from engine.bootstrap import Container, build
from engine.config import Settings
from engine.domain.audit import AuditKeyMissing
from engine.persistence import audit_repository
from engine.persistence.audit_anchor_file import AnchorFile
from engine.services.audit import verify_anchored
from tests.audit_support import (
    KEY,
    append_rows,
    assert_caught,
    cli,
    hammer,
    head_of,
    in_process,
    stored_anchor,
    stored_rows,
    tamper,
)


def test_without_a_stored_anchor_verify_says_so_and_anchors_only_a_valid_chain(
    container, cli_env, db_url, monkeypatch, capsys,
):
    append_rows(container, 5)
    code, out, err = in_process(cli_env, monkeypatch, capsys, "verify")
    assert code == 0
    assert "there was no audit anchor" in err and "holds 5 row(s)" in err and "anchor created at seq 5" in err
    assert "none before, advanced to seq 5" in out and stored_anchor(cli_env) == head_of(container)
    append_rows(container, 2)
    code, out, err = in_process(cli_env, monkeypatch, capsys, "verify", "--json")
    report = json.loads(out)
    assert code == 0 and err == ""
    assert report["stored_anchor"].startswith("5:") and report["anchor_written"] == head_of(container)
    assert stored_anchor(cli_env) == head_of(container)
    # A chain that does not verify is never anchored, not even when there is no anchor yet.
    (Path(cli_env["BUDGETFLOW_INSTANCE_DIR"]) / "audit.anchor").unlink()
    tamper(db_url, ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3", {}))
    code, out, _ = in_process(cli_env, monkeypatch, capsys, "verify")
    assert code == 1 and "row seq 3: content does not match its MAC" in out and stored_anchor(cli_env) is None


def test_an_anchor_file_moved_to_a_cut_head_without_the_key_is_caught(container, cli_env, db_url, monkeypatch,
                                                                      capsys):
    append_rows(container, 30)
    assert in_process(cli_env, monkeypatch, capsys, "verify")[0] == 0
    tamper(db_url, ("DELETE FROM audit_log WHERE seq > 20", {}))
    path = Path(cli_env["BUDGETFLOW_INSTANCE_DIR"]) / "audit.anchor"
    body = json.loads(path.read_text())
    path.write_text(json.dumps({**body, "anchor": head_of(container)}))  # the cut table's head, readable by anyone
    code, out, _ = in_process(cli_env, monkeypatch, capsys, "verify")
    assert code == 1 and "(seq 20) is not sealed with this key" in out and "FAILED (1 problem(s))" in out


def test_the_worker_keeps_the_anchor_current_and_reports_a_cut_chain(container, cli_env, db_url, monkeypatch,
                                                                     capsys):
    append_rows(container, 20)
    worker = cli(cli_env, "--once", command="worker")
    assert worker.returncode == 0, worker.stderr
    assert stored_anchor(cli_env) == head_of(container)
    append_rows(container, 10)
    monkeypatch.setenv(KEY_ENV, KEY.decode())
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    monkeypatch.delenv(ANCHOR_FILE_ENV, raising=False)
    outcome = AnchorKeeper(container, "worker").refresh()  # what the worker's loop runs every minute
    assert outcome is not None and outcome.result.rows == 11  # the anchored row and the ten after it
    assert stored_anchor(cli_env) == head_of(container) and head_of(container).startswith("30:")
    tamper(db_url, ("DELETE FROM audit_log WHERE seq > 25", {}))
    worker = cli(cli_env, "--once", command="worker")
    assert worker.returncode == 0, worker.stderr  # the business work goes on; the problem is reported
    assert ("worker: AUDIT CHAIN DOES NOT VERIFY: the anchor is seq 30 but the table has no row from seq 30 on"
            in worker.stderr), worker.stderr
    assert "the anchor stays at seq 30" in worker.stderr and stored_anchor(cli_env).startswith("30:")
    assert_caught(cli(cli_env, "verify"), 26, "table ends at seq 25 but the anchor is seq 30")


def test_the_scheduler_refreshes_the_anchor_and_warns_about_the_development_key(container, cli_env, tmp_path):
    append_rows(container, 3)
    (tmp_path / "audit.key").write_text(KEY.decode())
    env = {k: v for k, v in cli_env.items() if k not in (KEY_ENV, KEY_FILE_ENV, ANCHOR_FILE_ENV)}
    proc = subprocess.Popen([sys.executable, "-m", "engine", "scheduler"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120  # a hang catcher: returns as soon as it holds
        while time.monotonic() < deadline and stored_anchor(cli_env) is None:
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert stored_anchor(cli_env) == head_of(container), stderr
    assert stderr.count("warning: the audit key is the development key") == 1, stderr


def test_a_refresh_reads_only_the_rows_after_the_anchor_so_a_full_verify_still_matters(container, tmp_path, db_url):
    store, seen = AnchorFile(tmp_path / "elsewhere" / "audit.anchor"), []

    def rows(from_seq: int | None):
        seen.append(from_seq)
        return audit_repository.stream_rows(container.engine, from_seq)

    append_rows(container, 10)
    assert verify_anchored(rows, KEY, store, incremental=True).written.seq == 10  # no anchor yet: a full run
    append_rows(container, 5)
    assert verify_anchored(rows, KEY, store, incremental=True).written.seq == 15
    assert seen == [None, 10]
    tamper(db_url, ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 4", {}))
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
        assert hammer(container, audit_repository.append, threads=4, each=50) == []
    finally:
        writers_done.set()
        for t in refreshers:
            t.join()
    assert failures == []
    assert all(seen == sorted(seen) for seen in seen_by), seen_by  # the anchor never moved backwards
    assert len(set(seen_by[0] + seen_by[1])) > 3, "the anchor hardly moved: the test did not race anything"
    final = verify_anchored(rows, KEY, store)
    assert final.result.ok and final.result.rows == 200
    assert str(store.read().anchor) == head_of(container) and head_of(container).startswith("200:")


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
    assert not key_file.exists() and len(stored_rows(container)) == 1


def test_a_key_another_start_made_and_wrote_with_meanwhile_is_used_not_refused(tmp_path, monkeypatch):
    """Two first starts at once: one finds no key, but by the time it counts the rows the other has made the key
    and written with it. That key is the log's own: use it (a key missing next to rows is still refused above)."""
    for name in (KEY_ENV, KEY_FILE_ENV, ANCHOR_FILE_ENV):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(instance_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'x.db'}")
    key_file = tmp_path / "audit.key"

    def the_other_start_got_there_first() -> int:
        key_file.write_text(KEY.decode() + "\n", encoding="utf-8")
        key_file.chmod(0o600)
        return 4  # rows it wrote with that key

    assert load_audit_key(settings, create=True, count_rows=the_other_start_got_there_first) == KEY
