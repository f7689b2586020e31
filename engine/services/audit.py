"""Audit use cases: load the key, verify the chain (``budgetflow audit verify|head``).

The services see rows as plain ``StoredEntry`` values; the CLI streams them from
engine.persistence.audit_repository, so this module needs no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from engine.audit_key import load_audit_key
from engine.config import Settings
from engine.domain.audit import Anchor, StoredEntry, VerifyResult, verify_chain


def audit_key_from_env(
    settings: Settings, environ: Mapping[str, str] | None = None, *, create: bool = False
) -> bytes:
    """The HMAC key (never stored in the database). Writers pass ``create=True`` in development."""
    return load_audit_key(settings, environ, create=create)


def verify(entries: Iterable[StoredEntry], key: bytes, *, anchor: Anchor | None = None) -> VerifyResult:
    """Recompute every MAC from the entries; with ``anchor``, also prove nothing was cut off the end."""
    return verify_chain(key, entries, anchor)


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
        lines.append(f"audit verify: FAILED at seq {result.first_bad_seq} ({result.problem_count} problem(s)): "
                     f"{result.rows} rows checked")
    return lines
