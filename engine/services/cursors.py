"""Opaque keyset cursors: where a page ended, as a URL-safe string the next request hands back.

A cursor carries the last row's sort key and id, and what it was made for (a view, an order), so a
cursor of another listing is refused instead of silently skipping rows. Anything that does not decode
to exactly that is a ValueError with a clear message (the web app answers 400).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_CURSOR = 500
KINDS = ("datetime", "decimal", "int", "text")


def scope(*parts: object) -> str:
    """A short name for one listing (its view, order and filters), whatever the filters' length."""
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def encode(scope: str, key: datetime | Decimal | int | None, row_id: int | str) -> str:
    """A cursor after the row ``row_id`` whose sort key is ``key``, valid for listing ``scope``."""
    shown = key.isoformat() if isinstance(key, datetime) else str(key) if isinstance(key, Decimal) else key
    text = json.dumps([scope, shown, row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str, scope: str, kind: str, *, nullable: bool = False, id_type: type = int
           ) -> tuple[Any, Any]:
    """(sort key, row id) of a cursor made for ``scope``; ``kind`` is the key's type: datetime, decimal, int or
    text."""
    problem = "the cursor is not one this listing handed out; start again without it"
    if not isinstance(cursor, str) or not 0 < len(cursor) <= MAX_CURSOR:
        raise ValueError(problem)
    try:
        made_for, key, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error):
        raise ValueError(problem) from None
    if made_for != scope:
        raise ValueError("the cursor belongs to another view, filter or order; start again without it")
    if not isinstance(row_id, id_type) or isinstance(row_id, bool):
        raise ValueError(problem)
    if key is None and nullable:
        return None, row_id
    return _key(key, kind, problem), row_id


def _key(key: Any, kind: str, problem: str) -> Any:
    try:
        if kind == "datetime" and isinstance(key, str):
            found = datetime.fromisoformat(key)
            if found.tzinfo is not None:
                return found
        elif kind == "decimal" and isinstance(key, str) and Decimal(key).is_finite():
            return Decimal(key)
        elif kind == "int" and isinstance(key, int) and not isinstance(key, bool):
            return key
        elif kind == "text" and isinstance(key, str):
            return key
    except (ValueError, InvalidOperation):
        pass
    raise ValueError(problem)
