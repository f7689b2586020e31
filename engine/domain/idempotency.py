"""Idempotency keys: the document and step an operation comes from.

The first execution under a key stores its result; a repeat with the same
parameters returns that result and books nothing; a repeat with different
parameters is an error (Stripe's rule), because it means two different requests
claim to be the same one. Refusals (validation, insufficient budget) store
nothing: they booked nothing, so a retry after the cause is fixed may succeed.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

MAX_KEY_LENGTH = 200


def _canonical(value: object) -> object:
    if isinstance(value, Decimal):
        # 1.0 and 1.00 are the same amount: normalise so they fingerprint alike.
        return format(value.normalize(), "f")
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def fingerprint(operation: str, **params: object) -> str:
    """A stable digest of an operation and its parameters."""
    canonical = {name: _canonical(value) for name, value in params.items()}
    body = json.dumps({"op": operation, **canonical}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def validate_key(key: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise ValueError("an idempotency key is required (the document and step the operation comes from)")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"idempotency key longer than {MAX_KEY_LENGTH} characters: {key[:40]}…")
    return key
