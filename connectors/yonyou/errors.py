"""The errors both Yonyou clients raise, and the one-refresh rule for a refused token."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from connectors.base import ConnectorError
from connectors.erp import POST_FAILED, FieldError

T = TypeVar("T")
REFRESH_MARGIN_S = 300.0  # fetch a new token this long before the old one expires


class TokenRefused(Exception):
    """The vendor said the access token is missing, expired or illegal."""


def refused(vendor: str, message: str, errors: list[FieldError]) -> ConnectorError:
    """The ERP refused the voucher and will refuse it again as it is."""
    return ConnectorError(POST_FAILED, f"{vendor} refused the voucher: {message}", retryable=False,
                          errors=[e.as_dict() for e in errors], vendor=vendor)


def credentials_refused(vendor: str, detail: str) -> ConnectorError:
    """Bad credentials: never retried (a wrong secret stays wrong), and the secret is never quoted."""
    return ConnectorError(POST_FAILED, f"{vendor} refused the credentials ({detail}): check the credentials "
                          "in the ERP settings", retryable=False, errors=[], vendor=vendor)


class CachedToken:
    """One access token: fetched when missing or ``REFRESH_MARGIN_S`` from expiry, dropped when refused.

    ``fetch`` returns (token, lifetime in seconds); ``clock`` is injected so tests move time instead of waiting.
    """

    def __init__(self, fetch: Callable[[], tuple[str, float]], clock: Callable[[], float] = time.time) -> None:
        self._fetch = fetch
        self._clock = clock
        self._token = ""
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            if not self._token or self._clock() >= self._expires_at - REFRESH_MARGIN_S:
                token, lifetime = self._fetch()
                self._token, self._expires_at = token, self._clock() + lifetime
            return self._token

    def drop(self, token: str) -> None:
        with self._lock:
            if self._token == token:
                self._token = ""


def with_token(token: CachedToken, call: Callable[[str], T], *, vendor: str) -> T:
    """``call(token)``; if the vendor refuses the token, once more with a fresh one (tokens expire early when
    the vendor restarts or another process fetched a new one)."""
    used = token.get()
    try:
        return call(used)
    except TokenRefused:
        token.drop(used)
    try:
        return call(token.get())
    except TokenRefused:
        raise credentials_refused(vendor, "a fresh access token was refused") from None
