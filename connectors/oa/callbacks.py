"""What every vendor's callback check shares: the refusal, the replay guard and what a checked callback is.

A callback is accepted only if its signature matches (compared in constant time), it decrypts for this
company's app, its timestamp is within ``WINDOW_SECONDS`` of now and its nonce was not seen before within
that window. Anything else raises ``CallbackRejected`` naming the reason and changes nothing; the caller
logs the reason (never the body or a secret) and answers the vendor with an error.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, Protocol

WINDOW_SECONDS = 300  # a callback stamped further than this from now is refused (and its nonce forgotten after)
MAX_BODY_BYTES = 64 * 1024  # no vendor's approval event comes near this


class CallbackRejected(ValueError):
    """``reason``: a short code (bad_signature, stale_timestamp, replayed_nonce, bad_padding, wrong_receiver,
    wrong_app, wrong_token, malformed, oversized, ...); the message says what was wrong, without secrets."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class NonceStore(Protocol):
    """Remembers the nonces of accepted callbacks for the window; shared by every web process in production
    (the engine keeps it in the database)."""

    def first_use(self, vendor: str, nonce: str, *, now: float, expires_at: float) -> bool:
        """Record ``nonce``; False if it was recorded before and has not expired."""


class MemoryNonceStore:
    """A NonceStore for one process (tests, the emulators)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def first_use(self, vendor: str, nonce: str, *, now: float, expires_at: float) -> bool:
        with self._lock:
            if len(self._seen) > 100_000:
                self._seen = {k: t for k, t in self._seen.items() if t > now}
            if self._seen.get((vendor, nonce), 0.0) > now:
                return False
            self._seen[(vendor, nonce)] = expires_at
            return True


def json_object(text: bytes, what: str) -> dict[str, Any]:
    """``text`` as a JSON object, else refused as malformed; ``what`` names it in the message."""
    try:
        found = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise CallbackRejected("malformed", f"{what} is not JSON") from None
    if not isinstance(found, dict):
        raise CallbackRejected("malformed", f"{what} is not a JSON object")
    return found


def check_window(timestamp_seconds: float, now: float) -> None:
    if abs(now - timestamp_seconds) > WINDOW_SECONDS:
        raise CallbackRejected("stale_timestamp", f"the callback's timestamp is more than {WINDOW_SECONDS} s from now")


def check_nonce(store: NonceStore, vendor: str, nonce: str, now: float) -> None:
    if not nonce or len(nonce) > 128:
        raise CallbackRejected("malformed", "the callback has no usable nonce")
    if not store.first_use(vendor, nonce, now=now, expires_at=now + 2 * WINDOW_SECONDS):
        raise CallbackRejected("replayed_nonce", "the callback's nonce was used before")


@dataclass(frozen=True)
class CheckedCallback:
    """A callback that passed every check.

    ``event_key`` identifies the vendor's event for de-duplication (the same change delivered again carries the
    same key); ``kind`` is the vendor's event type; ``payload`` the decrypted event; ``reply`` the body (and
    ``content_type``) the vendor expects back; ``handshake`` is True for URL verification, which has no effect.
    """

    vendor: str
    event_key: str
    kind: str
    payload: dict[str, Any]
    reply: bytes
    content_type: str = "text/plain; charset=utf-8"
    handshake: bool = False
