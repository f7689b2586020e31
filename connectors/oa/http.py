"""What the three OA clients share: one requests session with timeouts, the token cache, and the retry rule.

Tokens: each vendor issues an access token for about two hours and throttles whoever asks too often, so a
token is cached (in production in the database, shared by every web and worker process: the engine passes
its own ``TokenCache``) and refreshed ``REFRESH_MARGIN_S`` before it expires. A call the vendor refuses for an
expired or invalid token drops the cached token and is retried once with a fresh one. A call the vendor
throttles waits (the vendor's reset hint, else a capped exponential delay) and is retried up to
``THROTTLE_RETRIES`` times; after that it fails as retryable, and the outbox retries it later.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

import requests

from connectors.base import ConnectorError

TIMEOUT = (3.05, 10.0)  # seconds: connect, read; every call has both
REFRESH_MARGIN_S = 300.0
THROTTLE_RETRIES = 3
THROTTLE_CAP_S = 5.0

T = TypeVar("T")


class TokenCache(Protocol):
    def get(self, key: str, now: float) -> str | None:
        """The cached token under ``key`` if it is still good at ``now`` (margin included), else None."""

    def put(self, key: str, token: str, expires_at: float) -> None:
        """Cache ``token`` until ``expires_at`` (epoch seconds)."""

    def drop(self, key: str, token: str) -> None:
        """Forget ``token`` (the vendor refused it), unless another process already replaced it."""


class MemoryTokenCache:
    """A TokenCache for one process (tests, the demo)."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, now: float) -> str | None:
        with self._lock:
            found = self._tokens.get(key)
        return found[0] if found and found[1] - REFRESH_MARGIN_S > now else None

    def put(self, key: str, token: str, expires_at: float) -> None:
        with self._lock:
            self._tokens[key] = (token, expires_at)

    def drop(self, key: str, token: str) -> None:
        with self._lock:
            if self._tokens.get(key, ("",))[0] == token:
                del self._tokens[key]


class TokenRefused(Exception):
    """The vendor said the access token is expired or invalid."""


class Throttled(Exception):
    """The vendor said slow down; ``retry_after``: its hint in seconds, if it gave one."""

    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__("throttled")
        self.retry_after = retry_after


# Query parameters that carry a secret: some vendors' APIs take the token (or the secret, or a sign-in code) in
# the URL, and urllib3 logs request lines at DEBUG; werkzeug logs the emulators' served lines.
SECRET_PARAMS = re.compile(r"((?:access_token|appsecret|corpsecret|code)=)[^&\s\"']+")


def mask_secret_params(text: str) -> str:
    return SECRET_PARAMS.sub(r"\1***", text)


class RedactSecretParams(logging.Filter):
    """Masks secret query parameters in a logger's records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(mask_secret_params(a) if isinstance(a, str) else a for a in record.args)
        return True


def redact_secret_params(logger_name: str) -> None:
    """Mask the token, secret and code query parameters in the records of ``logger_name`` (once)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactSecretParams) for f in logger.filters):
        logger.addFilter(RedactSecretParams())


def new_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = "budgetflow"
    return session


def with_retries(call: Callable[[], T], *, refresh: Callable[[], None], vendor: str,
                 sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``call``: once more after ``refresh`` if the token was refused, up to THROTTLE_RETRIES more after
    waits if throttled; a vendor that stays throttled fails as retryable (``OA_THROTTLED``)."""
    refreshed, throttled = False, 0
    while True:
        try:
            return call()
        except TokenRefused:
            if refreshed:
                raise ConnectorError("OA_AUTH_FAILED", f"{vendor} refused a fresh access token; check the app's "
                                     "credentials and permissions", retryable=False) from None
            refresh()
            refreshed = True
        except Throttled as exc:
            throttled += 1
            if throttled > THROTTLE_RETRIES:
                raise ConnectorError("OA_THROTTLED", f"{vendor} kept throttling the call", retryable=True) from None
            hint = exc.retry_after if exc.retry_after is not None else 0.25 * 2 ** throttled
            sleep(min(THROTTLE_CAP_S, max(0.0, hint)))
        except requests.Timeout:
            raise ConnectorError("OA_TIMEOUT", f"{vendor} did not answer in time", retryable=True) from None
        except requests.ConnectionError:
            raise ConnectorError("OA_UNREACHABLE", f"{vendor} could not be reached", retryable=True) from None
