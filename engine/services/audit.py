"""Audit use cases: load the key, verify the chain against the stored anchor, advance the anchor.

The services see rows as plain ``StoredEntry`` values and the anchor through ``AnchorStore``;
the CLI wires in engine.persistence (the table and the anchor file), so this module needs no
database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from engine.audit_key import load_audit_key
from engine.config import Settings
from engine.domain.audit import (
    Anchor,
    AuditAnchorInvalid,
    SealedAnchor,
    StoredEntry,
    VerifyResult,
    seal_anchor,
    seal_matches,
    verify_chain,
)

RowSource = Callable[[int | None], Iterable[StoredEntry]]
"""Rows in seq order from the given seq on (None: every row, unfiltered), read in one snapshot."""


class AnchorStore(Protocol):
    @property
    def location(self) -> str:
        """Where the anchor is kept, for messages."""

    def read(self) -> SealedAnchor | None:
        """The stored anchor, None if there is none; AuditAnchorInvalid if unreadable."""

    def replace(self, expected: SealedAnchor | None, new: SealedAnchor) -> bool:
        """Store ``new`` if the store still holds ``expected``; False if another process moved it."""


@dataclass
class AnchoredVerify:
    """A verification against the stored anchor, and what it did to the anchor."""

    result: VerifyResult
    location: str
    stored: Anchor | None = None  # the stored anchor the chain was checked against (None: none usable)
    written: Anchor | None = None  # the anchor this run stored: advanced, or created
    notes: list[str] = field(default_factory=list)  # warnings for stderr


def audit_key_from_env(
    settings: Settings, environ: Mapping[str, str] | None = None, *, create: bool = False,
    count_rows: Callable[[], int] | None = None,
) -> bytes:
    """The HMAC key (never stored in the database). Writers pass ``create``/``count_rows`` (see load_audit_key)."""
    return load_audit_key(settings, environ, create=create, count_rows=count_rows)


def verify(entries: Iterable[StoredEntry], key: bytes, *, anchor: Anchor | None = None) -> VerifyResult:
    """Recompute every MAC from the entries; with ``anchor``, also prove nothing was cut off the end."""
    return verify_chain(key, entries, anchor)


def verify_anchored(
    rows: RowSource, key: bytes, store: AnchorStore, *, also: Anchor | None = None, incremental: bool = False,
) -> AnchoredVerify:
    """Verify the chain against the stored anchor (and ``also``), then advance the anchor to the new head.

    ``incremental``: recompute only the rows from the stored anchor on (the worker's periodic
    check); a full run re-reads everything. The anchor is written only when everything verified,
    so a cut or rewritten chain never replaces a good anchor, and only by compare-and-swap, so it
    never moves backwards when several processes refresh it at once.
    """
    sealed, trouble = _read_stored(store, key)
    trusted = sealed.anchor if sealed is not None and trouble is None else None
    start = trusted if incremental else None
    anchors = [a for a in (trusted, also) if a is not None]
    result = verify_chain(key, rows(start.seq if start else None), anchors=anchors, start=start)
    outcome = AnchoredVerify(result, store.location, stored=trusted)
    if trouble is not None:
        result.add_problem(None, trouble)
    elif result.ok:
        _advance(outcome, key, store, sealed)
    return outcome


def _read_stored(store: AnchorStore, key: bytes) -> tuple[SealedAnchor | None, str | None]:
    """The stored anchor and, if it cannot be trusted, why (it is then not used, and the run fails)."""
    try:
        sealed = store.read()
    except AuditAnchorInvalid as exc:
        return None, str(exc)
    if sealed is not None and not seal_matches(key, sealed):
        return sealed, (f"anchor {store.location} (seq {sealed.anchor.seq}) is not sealed with this key: "
                        "edited, or written with another key")
    return sealed, None


def _advance(outcome: AnchoredVerify, key: bytes, store: AnchorStore, sealed: SealedAnchor | None) -> None:
    head = outcome.result.head
    if sealed is not None and head.seq <= sealed.anchor.seq:
        return  # nothing new since the anchor
    try:
        moved = store.replace(sealed, SealedAnchor(head, seal_anchor(key, head)))
    except OSError as exc:
        outcome.notes.append(f"could not write the audit anchor {store.location}: {exc.strerror or exc}")
        return
    if not moved:
        return  # another process advanced it meanwhile; keep theirs rather than risk going backwards
    outcome.written = head
    if sealed is None and head.seq > 0:
        outcome.notes.append(
            f"warning: there was no audit anchor at {store.location} although the log holds {head.seq} row(s), "
            "so rows cut off before now cannot be detected; the chain verifies, anchor created at seq "
            f"{head.seq} (if an anchor existed before, compare with its exported copy)"
        )


def describe(result: VerifyResult) -> list[str]:
    """Human-readable lines for a result: the problems (first bad one first), then the verdict."""
    lines = [f"HINT {result.hint}"] if result.hint else []
    lines += [f"PROBLEM {p}" for p in result.problems]
    hidden = result.problem_count - len(result.problems)
    if hidden > 0:
        lines.append(f"... and {hidden} more problem(s) not listed")
    if result.ok:
        anchored = ", anchor matches" if result.anchor_checked else ""
        lines.append(f"audit verify: OK: {result.rows} rows checked, head {result.head}{anchored}")
    else:
        at = f" at seq {result.first_bad_seq}" if result.first_bad_seq is not None else ""
        lines.append(f"audit verify: FAILED{at} ({result.problem_count} problem(s)): {result.rows} rows checked")
    return lines
