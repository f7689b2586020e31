"""The tamper-evident audit chain, as pure functions (docs/audit.md, test S5).

Each entry's MAC is HMAC-SHA256(key, prev_mac ‖ "\\n" ‖ canonical_json(entry)), where
prev_mac is the previous entry's MAC (``GENESIS_MAC`` for seq 1) and the entry includes
its ``seq``. The key lives outside the database, so someone who can write the table but
does not hold the key cannot edit, delete, insert or reorder a row without the verifier
noticing. Dropping rows from the *end* leaves a shorter chain that is still valid; that
is caught only by comparing with an ``Anchor`` (the head seq and MAC) kept outside the
database. A stored anchor carries a ``seal`` (an HMAC under the same key), so someone who
can write the anchor's file but does not hold the key cannot move it to a cut-down head.

The verifier recomputes every MAC from the entries; stored MACs serve only to describe
*what* went wrong (edited row, gap, reordering) once a recomputed MAC disagrees.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from engine.domain.errors import BudgetflowError

GENESIS_MAC = "0" * 64
"""The ``prev_mac`` of the first entry (seq 1): the chain starts from a known constant."""

FORMAT_VERSION = 1
MAX_PROBLEMS = 100  # keep the report readable; ``problem_count`` still counts all of them
_REORDER_WINDOW = 10_000  # recent MACs remembered to recognise a moved entry (bounded memory)
_MAC_RE = re.compile(r"[0-9a-f]{64}")


class AuditKeyMissing(BudgetflowError):
    code = "AUDIT_KEY_MISSING"


class AuditAnchorInvalid(BudgetflowError):
    code = "AUDIT_ANCHOR_INVALID"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audit entry: who did what to which subject, when, with what details."""

    seq: int
    occurred_at: datetime  # UTC-aware
    actor: str
    action: str
    subject_type: str
    subject_id: str
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """A row as read from the table: the record plus the MACs stored beside it."""

    record: AuditRecord
    prev_mac: str
    mac: str


@dataclass(frozen=True, slots=True)
class Anchor:
    """The head of the chain, exported elsewhere so truncation can be detected later."""

    seq: int
    mac: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.mac}"


GENESIS_ANCHOR = Anchor(0, GENESIS_MAC)


@dataclass(frozen=True, slots=True)
class SealedAnchor:
    """An anchor as stored outside the database, with its seal (see ``seal_anchor``)."""

    anchor: Anchor
    seal: str


@dataclass
class VerifyResult:
    rows: int = 0
    first_bad_seq: int | None = None
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    head: Anchor = GENESIS_ANCHOR  # the head as recomputed (or as stored after a bad row)
    anchor_checked: bool = False
    hint: str | None = None  # a likely cause for everything at once, e.g. the wrong key

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add_problem(self, seq: int | None, message: str) -> int | None:
        """Record a problem (``seq``: where the table departs, if known); its index, or None once the list is full."""
        self.problem_count += 1
        if self.first_bad_seq is None and seq is not None:
            self.first_bad_seq = seq
        if len(self.problems) >= MAX_PROBLEMS:
            return None
        self.problems.append(message)
        return len(self.problems) - 1


# ---------------------------------------------------------------- canonical form and MAC


def canonical_payload(payload: Mapping[str, Any]) -> str:
    """The payload as canonical JSON text: what the table stores and the MAC covers.

    Idempotent: parsing the text and canonicalising again gives the same text, so the
    verifier can work from the stored column.
    """
    return _dumps(_jsonable(payload))


def canonical_json(record: AuditRecord, *, payload_text: str | None = None) -> bytes:
    """Deterministic bytes for ``record``: sorted keys, no spaces, UTF-8, fixed time format.

    ``payload_text``, when the caller already holds ``canonical_payload(record.payload)``, is
    spliced in instead of encoding the payload again (the writer's hot path; same bytes).
    """
    if payload_text is not None:
        text = _dumps({**_envelope(record), "payload": 0})
        # Keys sort before "payload" only as escaped strings, so the first match is the key itself.
        return text.replace('"payload":0', '"payload":' + payload_text, 1).encode("utf-8")
    return _dumps({**_envelope(record), "payload": _jsonable(record.payload)}).encode("utf-8")


def _envelope(record: AuditRecord) -> dict[str, Any]:
    return {
        "v": FORMAT_VERSION,
        "seq": record.seq,
        "occurred_at": _timestamp(record.occurred_at),
        "actor": record.actor,
        "action": record.action,
        "subject_type": record.subject_type,
        "subject_id": record.subject_id,
    }


def chain_hmac(key: bytes, prev_mac: str, record: AuditRecord, *, payload_text: str | None = None) -> str:
    """The MAC of ``record`` chained onto ``prev_mac`` (hex HMAC-SHA256); ``payload_text`` as in canonical_json."""
    if not key:
        raise AuditKeyMissing("the audit key is empty")
    # UTF-8, not ASCII: a stored prev_mac is attacker-controlled and must not crash the verifier.
    message = prev_mac.encode("utf-8") + b"\n" + canonical_json(record, payload_text=payload_text)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def seal_anchor(key: bytes, anchor: Anchor) -> str:
    """The HMAC that proves a stored anchor was written by a holder of the key.

    Without it, whoever can write the anchor's file could replace it with the head of a
    cut-down table (that head's MAC is readable in the table) and hide the truncation.
    The domain prefix keeps a seal from ever equalling a chain MAC.
    """
    if not key:
        raise AuditKeyMissing("the audit key is empty")
    message = f"budgetflow audit anchor v{FORMAT_VERSION}\n{anchor}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def seal_matches(key: bytes, stored: SealedAnchor) -> bool:
    return _same(seal_anchor(key, stored.anchor), stored.seal)


def parse_anchor(text: str) -> Anchor:
    """``SEQ:MAC`` as printed by ``budgetflow audit head``."""
    seq, sep, mac = text.strip().partition(":")
    if not sep or not seq.isdigit() or not _MAC_RE.fullmatch(mac.lower()):
        raise AuditAnchorInvalid("an anchor looks like SEQ:MAC, e.g. 10000:<64 hex digits>")
    return Anchor(int(seq), mac.lower())


def _dumps(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise TypeError("audit timestamps must be timezone-aware (UTC)")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _jsonable(value: Any) -> Any:  # noqa: C901 - one flat dispatch over the JSON types
    """Plain JSON types only; Decimal and datetime become fixed strings, anything odd is refused."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("audit payloads cannot hold NaN or infinity")
        return value  # repr round-trips exactly through JSON
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("audit payloads cannot hold NaN or infinite decimals")
        return format(value, "f")  # keeps the written scale ("12.50"), never exponent notation
    if isinstance(value, datetime):
        return _timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("audit payload keys must be strings")  # int keys would sort differently after JSON
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    raise TypeError(f"audit payloads cannot hold {type(value).__name__}")


# ---------------------------------------------------------------- verification


def verify_chain(
    key: bytes, rows: Iterable[StoredEntry], anchor: Anchor | None = None, *,
    anchors: Iterable[Anchor] = (), start: Anchor | None = None,
) -> VerifyResult:
    """Recompute the chain over ``rows`` (in seq order) and describe the first departures from it.

    ``anchor``/``anchors``: heads recorded earlier; each must still be in the chain with the same
    MAC, which also catches rows cut off the end. ``start``: resume from an anchor proven by an
    earlier run instead of from seq 1 (the incremental check). ``rows`` must then begin at
    ``start.seq``: that row's recomputed MAC must equal the anchor's, which pins every row before
    it, and only the rows after it are recomputed. Rows before it are *not* re-read, so an edit
    there is left to a full run.
    """
    checker = _Checker(key, [*([anchor] if anchor else []), *anchors, *([start] if start else [])], start)
    for row in rows:
        checker.feed(row)
    return checker.finish()


class _Checker:
    """Walks the rows once; after a bad row it re-synchronises so one tampering yields few problems."""

    def __init__(self, key: bytes, anchors: list[Anchor], start: Anchor | None) -> None:
        self.key = key
        self.result = VerifyResult(anchor_checked=bool(anchors))
        self.start = start if start is not None and start.seq > 0 else None
        self.last_seq = self.start.seq - 1 if self.start else 0
        self.running = GENESIS_MAC  # the recomputed MAC of the previous row
        self.previous_ok = True
        self.consistent = 0  # rows whose MAC matches their own content under this key
        self.waiting: dict[int, set[str]] = {}  # anchors not reached yet: seq -> MACs expected there
        self.recent: OrderedDict[str, int] = OrderedDict()  # stored MAC -> seq it is genuinely signed as
        self.pending: dict[str, tuple[int, StoredEntry]] = {}  # prev_mac -> (problem index, row)
        self.last_mismatch: tuple[int, int | None] = (0, None)  # seq and problem index of the last "edited?"
        for a in anchors:
            if a.seq == 0 and a.mac != GENESIS_MAC:
                self._problem(1, "anchor seq 0 must carry the genesis MAC")
            elif a.seq > 0:
                self.waiting.setdefault(a.seq, set()).add(a.mac)

    def feed(self, row: StoredEntry) -> None:
        seq = row.record.seq
        if self.start is not None and self.result.rows == 0 and seq == self.start.seq:
            # The anchored row's stored prev_mac is trusted only because the anchor's MAC covers it:
            # a changed prev_mac gives a different recomputed MAC, reported as an anchor mismatch.
            self.running = row.prev_mac
        self.result.rows += 1
        signed_as = self._classify(row, self._check_order(seq))
        if signed_as is not None:
            self._resolve_pending(row.mac, signed_as + 1)
            if signed_as != seq:
                self._explain_insertion(signed_as, seq)
        self._check_anchor_row(seq)
        self.last_seq = max(self.last_seq, seq)

    def _classify(self, row: StoredEntry, ordered: bool) -> int | None:
        """Check one row; returns the seq its MAC proves it was written as, or None if nothing fits."""
        seq = row.record.seq
        expected = chain_hmac(self.key, self.running, row.record)
        if ordered and _same(expected, row.mac):
            self._accept(row, expected)
            return seq
        if _signed_as(self.key, row, seq, row.prev_mac):
            # Genuine content whose predecessor is not the previous row. Right after a bad row
            # (or a gap) that is already reported; otherwise it is the problem itself.
            broken = ordered and self.previous_ok
            if broken:
                self._problem(seq, f"row seq {seq}: MAC chain broken (inserted or reordered?)")
            self._accept(row, row.mac, ok=ordered and not broken)
            return seq
        return self._content_mismatch(row)

    def finish(self) -> VerifyResult:
        if self.waiting:
            self._report_missing_anchors()
        if self.result.rows and not self.consistent:
            self.result.hint = "no row verifies under this key: is it the key the log was written with?"
        return self.result

    def _report_missing_anchors(self) -> None:
        """Anchors whose row never came: the highest past the end is a cut tail, the rest deleted rows."""
        beyond = [seq for seq in self.waiting if seq > self.last_seq]
        for seq in sorted(s for s in self.waiting if s <= self.last_seq):
            self._problem(seq, f"anchor seq {seq}: no such row (deleted?)")
        if beyond:
            self._problem(self.last_seq + 1, self._truncation_message(max(beyond)))

    def _truncation_message(self, anchor_seq: int) -> str:
        end = self.last_seq
        if self.result.rows == 0 and self.start is not None:
            return (f"the anchor is seq {anchor_seq} but the table has no row from seq {self.start.seq} on: "
                    "rows were cut off the end (truncated?)")
        if self.result.rows == 0:
            return f"table is empty but the anchor is seq {anchor_seq}: every row is missing (truncated?)"
        return f"table ends at seq {end} but the anchor is seq {anchor_seq}: rows after {end} are missing (truncated?)"

    def _check_order(self, seq: int) -> bool:
        if seq <= self.last_seq:
            self._problem(seq, f"row seq {seq} out of order (follows seq {self.last_seq})")
            return False
        if seq > self.last_seq + 1:
            self._problem(self.last_seq + 1, f"gap after seq {self.last_seq}: seq {seq} follows (deleted?)")
            return False
        return True

    def _accept(self, row: StoredEntry, mac: str, *, ok: bool = True) -> None:
        self.consistent += 1
        self.running = mac
        self.previous_ok = ok
        self._remember(row.mac, row.record.seq)
        self.result.head = Anchor(row.record.seq, mac)

    def _content_mismatch(self, row: StoredEntry) -> int | None:
        seq = row.record.seq
        moved_from = self._recognise_moved(row)
        if moved_from is not None:
            self._problem(seq, _moved_message(seq, moved_from))
            self._remember(row.mac, moved_from)
        else:
            index = self._problem(seq, f"row seq {seq}: content does not match its MAC (edited?)")
            self.last_mismatch = (seq, index)
            if index is not None and len(self.pending) < MAX_PROBLEMS:
                self.pending.setdefault(row.prev_mac, (index, row))
        # Continue from the stored MAC: the rows after it were chained onto it when written.
        self.running = row.mac
        self.previous_ok = False
        self.result.head = Anchor(seq, row.mac)
        return moved_from

    def _recognise_moved(self, row: StoredEntry) -> int | None:
        """The seq this row was signed as, if its predecessor was seen earlier (a move backwards)."""
        before = self.recent.get(row.prev_mac)
        if before is not None and _signed_as(self.key, row, before + 1, row.prev_mac):
            return before + 1
        return None

    def _explain_insertion(self, genuine: int, seq: int) -> None:
        """Entry N found one place later, right after an unexplained bad row at N: that row was put in."""
        bad_seq, index = self.last_mismatch
        if bad_seq == genuine and seq == genuine + 1 and index is not None:
            self.result.problems[index] = (
                f"row seq {bad_seq}: not signed with this key, and the entries after it are renumbered (inserted?)"
            )
            self.pending = {k: v for k, v in self.pending.items() if v[0] != index}
        self.last_mismatch = (0, None)

    def _resolve_pending(self, mac: str, genuine: int) -> None:
        """An earlier bad row that was chained onto ``mac`` is entry ``genuine``, moved forwards."""
        waiting = self.pending.pop(mac, None)
        if waiting is None:
            return
        index, moved = waiting
        if _signed_as(self.key, moved, genuine, moved.prev_mac):
            self.result.problems[index] = _moved_message(moved.record.seq, genuine)
            if self.last_mismatch[1] == index:
                self.last_mismatch = (0, None)

    def _check_anchor_row(self, seq: int) -> None:
        expected = self.waiting.pop(seq, None)
        if expected is None:
            return
        if not all(_same(self.running, mac) for mac in expected):
            self._problem(seq, f"anchor mismatch at seq {seq}: the chain does not reach the anchored MAC "
                          "(rewritten or re-signed, or the wrong anchor?)")

    def _remember(self, mac: str, seq: int) -> None:
        self.recent[mac] = seq
        if len(self.recent) > _REORDER_WINDOW:
            self.recent.popitem(last=False)

    def _problem(self, seq: int, message: str) -> int | None:
        """Record a problem; returns its index in the list, or None once the list is full."""
        return self.result.add_problem(seq, message)


def _signed_as(key: bytes, row: StoredEntry, seq: int, prev_mac: str) -> bool:
    return _same(chain_hmac(key, prev_mac, replace(row.record, seq=seq)), row.mac)


def _same(mac: str, other: str) -> bool:
    """Constant-time comparison that tolerates whatever text an attacker stored."""
    return hmac.compare_digest(mac.encode("utf-8"), other.encode("utf-8"))


def _moved_message(seq: int, genuine: int) -> str:
    return f"row seq {seq}: holds the entry signed as seq {genuine} (reordered or renumbered?)"
