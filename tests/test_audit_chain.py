"""The tamper-evident audit chain as pure functions, where its key and anchor live, and the anchor file."""

from __future__ import annotations

import json
import stat
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from engine.audit_key import (
    ANCHOR_FILE_ENV,
    KEY_ENV,
    KEY_FILE_ENV,
    anchor_file_path,
    development_key_warning,
    load_audit_key,
)
from engine.config import Settings
from engine.domain.audit import (
    GENESIS_MAC,
    Anchor,
    AuditAnchorInvalid,
    AuditKeyMissing,
    AuditRecord,
    SealedAnchor,
    StoredEntry,
    canonical_json,
    canonical_payload,
    chain_hmac,
    parse_anchor,
    seal_anchor,
    seal_matches,
    verify_chain,
)
from engine.persistence.audit_anchor_file import AnchorFile
from engine.persistence.audit_table import AuditLog

KEY = b"test-audit-key-0123456789abcdef0123456789abcdef"
WRONG_KEY = b"an-attacker-guess-0123456789abcdef0123"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ACTIONS = ("task.complete", "engine.decision", "connector.result")
_audit = AuditLog.__table__



# ---------------------------------------------------------------- pure chain


def _record(seq: int) -> AuditRecord:
    return AuditRecord(
        seq=seq, occurred_at=T0 + timedelta(seconds=seq), actor=f"emp{seq % 17:03d}",
        action=ACTIONS[seq % 3], subject_type="claim", subject_id=f"EXP-{seq:05d}",
        payload={"amount": f"{seq}.{seq % 100:02d}", "currency": "CNY", "step": seq % 5},
    )


def _chain(n: int, key: bytes = KEY) -> list[StoredEntry]:
    rows, prev = [], GENESIS_MAC
    for seq in range(1, n + 1):
        record = _record(seq)
        mac = chain_hmac(key, prev, record)
        rows.append(StoredEntry(record, prev, mac))
        prev = mac
    return rows


def test_canonical_form_is_deterministic_and_idempotent():
    cst = timezone(timedelta(hours=8))
    a = AuditRecord(1, datetime(2026, 3, 1, 17, 0, tzinfo=cst), "alice", "claim.approve", "claim", "EXP-1",
                    {"b": Decimal("12.50"), "a": [1, "x", None], "when": datetime(2026, 3, 1, 1, 0, tzinfo=UTC)})
    b = replace(a, occurred_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
                payload={"when": datetime(2026, 3, 1, 9, 0, tzinfo=cst), "a": (1, "x", None), "b": Decimal("12.50")})
    assert canonical_json(a) == canonical_json(b)  # same instant, same amount, any key order
    assert b'"occurred_at":"2026-03-01T09:00:00.000000+00:00"' in canonical_json(a)
    assert b'"b":"12.50"' in canonical_json(a)
    text_once = canonical_payload(a.payload)
    assert canonical_payload(json.loads(text_once)) == text_once  # the stored text re-verifies


@pytest.mark.parametrize("actor, payload", [
    ("alice", {"steps": [{"task": "t", "kind": "ScriptTask"}], "n": 0}),
    ('"payload":0', {}),  # a string field spelling the splice marker stays escaped, so it is never replaced
    ("bob", {"payload": 0, "text": '"payload":0 中文 \\"'}),
])
def test_the_writers_spliced_payload_gives_the_same_bytes_and_mac(actor, payload):
    record = AuditRecord(7, T0, actor, "x\u2028y", "claim", "EXP-7", json.loads(canonical_payload(payload)))
    text = canonical_payload(record.payload)
    assert canonical_json(record, payload_text=text) == canonical_json(record)
    assert chain_hmac(KEY, GENESIS_MAC, record, payload_text=text) == chain_hmac(KEY, GENESIS_MAC, record)


@pytest.mark.parametrize("payload, error", [
    ({"x": float("nan")}, ValueError), ({"x": Decimal("Infinity")}, ValueError), ({1: "int key"}, TypeError),
    ({"x": {1, 2}}, TypeError), ({"x": datetime(2026, 1, 1)}, TypeError),  # noqa: DTZ001 - naive on purpose
])
def test_canonical_form_refuses_ambiguous_values(payload, error):
    with pytest.raises(error):
        canonical_payload(payload)


def test_intact_chain_verifies_and_reports_its_head():
    rows = _chain(50)
    result = verify_chain(KEY, rows)
    assert result.ok and result.rows == 50 and result.first_bad_seq is None
    assert result.head == Anchor(50, rows[-1].mac)
    assert verify_chain(KEY, rows, Anchor(50, rows[-1].mac)).ok
    assert verify_chain(KEY, rows, Anchor(20, rows[19].mac)).ok  # an older anchor still holds
    assert verify_chain(KEY, []).ok


def _only(result, seq: int, fragment: str) -> None:
    assert not result.ok
    assert result.first_bad_seq == seq, result.problems
    assert fragment in result.problems[0], result.problems


def test_edit_is_reported_at_the_edited_row_only():
    rows = _chain(100)
    rows[41] = replace(rows[41], record=replace(rows[41].record, payload={**rows[41].record.payload, "amount": "1"}))
    result = verify_chain(KEY, rows)
    _only(result, 42, "row seq 42: content does not match its MAC (edited?)")
    assert result.problem_count == 1


def test_deletion_is_a_gap():
    rows = _chain(100)
    del rows[49]
    result = verify_chain(KEY, rows)
    _only(result, 50, "gap after seq 49: seq 51 follows (deleted?)")
    assert result.problem_count == 1
    _only(verify_chain(KEY, _chain(5)[1:]), 1, "gap after seq 0: seq 2 follows")


def test_insertion_with_renumbering_is_recognised():
    rows = _chain(100)
    forged = _record(30)
    shifted = [replace(r, record=replace(r.record, seq=r.record.seq + 1)) for r in rows[29:]]
    tampered = rows[:29] + [StoredEntry(forged, rows[28].mac, chain_hmac(WRONG_KEY, rows[28].mac, forged))] + shifted
    result = verify_chain(KEY, tampered)
    _only(result, 30, "row seq 30: not signed with this key, and the entries after it are renumbered (inserted?)")
    assert "row seq 31: holds the entry signed as seq 30" in result.problems[1]


def test_forged_row_copying_a_neighbours_mac_is_caught():
    rows = _chain(10)
    forged = replace(_record(11), actor="mallory")
    result = verify_chain(KEY, [*rows, StoredEntry(forged, rows[-1].mac, rows[-1].mac)])
    _only(result, 11, "row seq 11: content does not match its MAC")


def test_swapped_rows_are_reported_as_moved():
    rows = _chain(100)
    a, b = rows[19], rows[59]
    rows[19] = replace(b, record=replace(b.record, seq=20))
    rows[59] = replace(a, record=replace(a.record, seq=60))
    result = verify_chain(KEY, rows)
    _only(result, 20, "row seq 20: holds the entry signed as seq 60 (reordered or renumbered?)")
    assert result.problems[1].startswith("row seq 60: holds the entry signed as seq 20")
    assert result.problem_count == 2


def test_adjacent_swap_is_not_mistaken_for_an_insertion():
    rows = _chain(50)
    a, b = rows[19], rows[20]
    rows[19] = replace(b, record=replace(b.record, seq=20))
    rows[20] = replace(a, record=replace(a.record, seq=21))
    result = verify_chain(KEY, rows)
    assert result.problems == ["row seq 20: holds the entry signed as seq 21 (reordered or renumbered?)",
                               "row seq 21: holds the entry signed as seq 20 (reordered or renumbered?)"]


def test_rows_out_of_order_and_duplicates():
    rows = _chain(100)
    duplicated = rows[:77] + [rows[76]] + rows[77:]
    _only(verify_chain(KEY, duplicated), 77, "row seq 77 out of order (follows seq 77)")
    swapped = rows[:76] + [rows[77], rows[76]] + rows[78:]
    result = verify_chain(KEY, swapped)
    assert result.first_bad_seq == 77
    assert "row seq 77 out of order (follows seq 78)" in result.problems


def test_genuine_row_from_another_chain_breaks_the_chain():
    """Same key, different history (e.g. a restored copy): self-consistent rows that do not link."""
    rows, other = _chain(400), _chain(400)
    spliced = replace(_record(300), actor="someone-else")
    other_mac = chain_hmac(KEY, other[298].mac + "x", spliced)
    rows[299] = StoredEntry(spliced, other[298].mac + "x", other_mac)
    result = verify_chain(KEY, rows)
    _only(result, 300, "row seq 300: MAC chain broken (inserted or reordered?)")
    assert result.problem_count == 1


def test_truncation_is_caught_only_with_the_anchor():
    rows = _chain(100)
    anchor = verify_chain(KEY, rows).head
    assert verify_chain(KEY, rows[:90]).ok  # a shorter chain is a valid chain
    _only(verify_chain(KEY, rows[:90], anchor), 91, "table ends at seq 90 but the anchor is seq 100")
    _only(verify_chain(KEY, [], anchor), 1, "table is empty but the anchor is seq 100")


def test_rewrite_by_a_key_holder_is_caught_by_the_anchor():
    rows = _chain(100)
    anchor = verify_chain(KEY, rows).head
    prev, rewritten = rows[59].mac, rows[:60]
    for r in rows[60:]:
        record = replace(r.record, actor="mallory") if r.record.seq == 61 else r.record
        mac = chain_hmac(KEY, prev, record)
        rewritten.append(StoredEntry(record, prev, mac))
        prev = mac
    assert verify_chain(KEY, rewritten).ok
    _only(verify_chain(KEY, rewritten, anchor), 100, "anchor mismatch at seq 100")


def test_resuming_from_an_anchor_checks_only_the_new_rows_and_catches_what_the_anchor_pins():
    rows = _chain(100)
    start = verify_chain(KEY, rows[:60]).head
    resumed = verify_chain(KEY, rows[59:], start=start)
    assert resumed.ok and resumed.rows == 41 and resumed.head == verify_chain(KEY, rows).head
    assert verify_chain(KEY, rows[59:60], start=start).head == start  # nothing new: the head stays
    _only(verify_chain(KEY, rows[59:90], start=start, anchor=Anchor(100, rows[-1].mac)), 91,
          "table ends at seq 90 but the anchor is seq 100")
    _only(verify_chain(KEY, [], start=start), 60, "the anchor is seq 60 but the table has no row from seq 60 on")
    _only(verify_chain(KEY, rows[60:], start=start), 60, "gap after seq 59: seq 61 follows (deleted?)")
    edited = replace(rows[59], record=replace(rows[59].record, actor="mallory"))
    _only(verify_chain(KEY, [edited, *rows[60:]], start=start), 60, "row seq 60: content does not match its MAC")
    # A key holder who re-signs the anchored row (content, or the prev_mac that links it to the
    # rows before) cannot reach the anchored MAC again.
    for forged in (replace(rows[59].record, actor="mallory"), rows[59].record):
        prev = rows[58].mac if forged.actor == "mallory" else "f" * 64
        resigned = StoredEntry(forged, prev, chain_hmac(KEY, prev, forged))
        _only(verify_chain(KEY, [resigned, *rows[60:]], start=start), 60, "anchor mismatch at seq 60")


def test_several_anchors_are_all_checked():
    rows = _chain(100)
    older, newer = Anchor(40, rows[39].mac), Anchor(100, rows[-1].mac)
    assert verify_chain(KEY, rows, older, anchors=[newer]).ok
    _only(verify_chain(KEY, rows, older, anchors=[Anchor(100, "e" * 64)]), 100, "anchor mismatch at seq 100")
    result = verify_chain(KEY, rows[:30], older, anchors=[newer])
    assert result.problems == ["table ends at seq 30 but the anchor is seq 100: rows after 30 are missing (truncated?)"]


def test_a_stored_anchor_is_sealed_with_the_key():
    anchor = Anchor(12, "ab" * 32)
    sealed = SealedAnchor(anchor, seal_anchor(KEY, anchor))
    assert seal_matches(KEY, sealed) and not seal_matches(WRONG_KEY, sealed)
    assert not seal_matches(KEY, replace(sealed, anchor=Anchor(11, "ab" * 32)))
    assert sealed.seal != chain_hmac(KEY, GENESIS_MAC, _record(1)) and len(sealed.seal) == 64


def test_wrong_key_gives_a_hint_and_hostile_text_does_not_crash():
    result = verify_chain(WRONG_KEY, _chain(5))
    assert not result.ok and result.hint and "key" in result.hint
    rows = _chain(3)
    rows[1] = replace(rows[1], prev_mac="ü" * 64, mac="\x00")
    _only(verify_chain(KEY, rows), 2, "row seq 2: content does not match its MAC")


def test_anchor_parsing():
    mac = "ab" * 32
    assert parse_anchor(f" 12:{mac.upper()}\n") == Anchor(12, mac)
    assert str(Anchor(12, mac)) == f"12:{mac}"
    for bad in ("12", f"x:{mac}", "12:abc", f"-1:{mac}"):
        with pytest.raises(AuditAnchorInvalid):
            parse_anchor(bad)


def test_problem_list_is_capped_but_counted():
    rows = [replace(r, mac="0" * 64) for r in _chain(300)]
    result = verify_chain(KEY, rows)
    assert result.problem_count == 300 and len(result.problems) == 100 and result.first_bad_seq == 1


# ---------------------------------------------------------------- the key


def _settings(tmp_path: Path) -> Settings:
    return Settings(instance_dir=tmp_path / "instance", database_url="sqlite://")


def test_key_from_environment_and_file(tmp_path):
    secret = "s3cr3t-" + "x" * 40
    assert load_audit_key(_settings(tmp_path), {KEY_ENV: secret}) == secret.encode()
    key_file = tmp_path / "key"
    key_file.write_text(secret + "\n")
    assert load_audit_key(_settings(tmp_path), {KEY_FILE_ENV: str(key_file)}) == secret.encode()


def test_short_or_missing_keys_are_refused_without_echoing_them(tmp_path):
    with pytest.raises(AuditKeyMissing) as exc:
        load_audit_key(_settings(tmp_path), {KEY_ENV: "hunter2"})
    assert "hunter2" not in str(exc.value) and KEY_ENV in str(exc.value)
    with pytest.raises(AuditKeyMissing, match="cannot read"):
        load_audit_key(_settings(tmp_path), {KEY_FILE_ENV: str(tmp_path / "absent")})
    with pytest.raises(AuditKeyMissing, match="no audit key"):
        load_audit_key(_settings(tmp_path), {})  # readers never invent a key
    assert not (tmp_path / "instance" / "audit.key").exists()


def _no_rows() -> int:
    return 0


def test_development_key_is_created_once_with_owner_only_permissions(tmp_path):
    settings = _settings(tmp_path)
    first = load_audit_key(settings, {}, create=True, count_rows=_no_rows)
    path = tmp_path / "instance" / "audit.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 64
    assert load_audit_key(settings, {}, create=True, count_rows=_no_rows) == first
    assert load_audit_key(settings, {}) == first
    assert [p.name for p in path.parent.iterdir()] == ["audit.key"]  # no temp files left behind
    with pytest.raises(TypeError, match="count_rows"):  # a writer must say how to tell an unused log
        load_audit_key(_settings(tmp_path / "other"), {}, create=True)


def test_processes_starting_together_on_an_empty_log_agree_on_one_key(tmp_path):
    settings, barrier, keys = _settings(tmp_path), threading.Barrier(8), []

    def start() -> None:
        barrier.wait()
        keys.append(load_audit_key(settings, {}, create=True, count_rows=_no_rows))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert [p.name for p in (tmp_path / "instance").iterdir()] == ["audit.key"]


def test_a_missing_development_key_is_never_recreated_for_a_log_that_was_written(tmp_path):
    settings = _settings(tmp_path)
    with pytest.raises(AuditKeyMissing) as exc:
        load_audit_key(settings, {}, create=True, count_rows=lambda: 1234)
    message = str(exc.value)
    assert "audit key is missing" in message and "1234 row(s)" in message
    assert str(tmp_path / "instance" / "audit.key") in message
    anchor = tmp_path / "instance" / "audit.anchor"
    anchor.parent.mkdir()
    anchor.write_text("{}")
    with pytest.raises(AuditKeyMissing, match="the anchor .*audit.anchor shows it was written before"):
        load_audit_key(settings, {}, create=True, count_rows=_no_rows)
    assert not (tmp_path / "instance" / "audit.key").exists()


def test_where_the_anchor_lives(tmp_path):
    settings = _settings(tmp_path)
    assert anchor_file_path(settings, {}) == tmp_path / "instance" / "audit.anchor"
    beside_key = anchor_file_path(settings, {KEY_FILE_ENV: "/run/secrets/bf/audit.key"})
    assert beside_key == Path("/run/secrets/bf/audit.anchor")
    configured = anchor_file_path(settings, {KEY_FILE_ENV: "/k", ANCHOR_FILE_ENV: "/worm/bf.anchor"})
    assert configured == Path("/worm/bf.anchor")


def test_the_development_key_is_flagged(tmp_path):
    instance = (tmp_path / "instance").resolve()
    beside = Settings(instance_dir=instance, database_url=f"sqlite:///{instance / 'budgetflow.db'}")
    warning = development_key_warning(beside, {})
    assert warning and str(instance / "audit.key") in warning and "beside the SQLite database" in warning
    assert ANCHOR_FILE_ENV in warning and KEY_FILE_ENV in warning
    elsewhere = development_key_warning(Settings(instance_dir=instance, database_url="postgresql+psycopg://db/x"), {})
    assert elsewhere and "beside" not in elsewhere
    assert development_key_warning(beside, {KEY_ENV: "k" * 40}) is None
    assert development_key_warning(beside, {KEY_FILE_ENV: "/run/secrets/audit.key"}) is None


# ---------------------------------------------------------------- the anchor file


def test_the_anchor_file_moves_only_by_compare_and_swap(tmp_path):
    store = AnchorFile(tmp_path / "anchors" / "audit.anchor", database="sqlite:///x.db")
    first, second = (SealedAnchor(a, seal_anchor(KEY, a)) for a in (Anchor(10, "a" * 64), Anchor(20, "b" * 64)))
    assert store.read() is None
    assert store.replace(None, first)
    assert not store.replace(None, second)  # someone else created it first: theirs stays
    assert store.read() == first
    assert store.replace(first, second) and not store.replace(first, first)  # never back to an older one
    assert store.read() == second
    body = json.loads(store.path.read_text())
    assert body["anchor"] == str(second.anchor) and body["database"] == "sqlite:///x.db"
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["audit.anchor", "audit.anchor.lock"]
    for bad in ("not json", json.dumps({**body, "anchor": "20:xyz"}), json.dumps({**body, "format": 99}), "[]"):
        store.path.write_text(bad)
        with pytest.raises(AuditAnchorInvalid, match="malformed"):
            store.read()
