"""What the ERP clients share: one requests session with timeouts, and transport failures mapped to errors.

A failed call is classified once, here, because exactly-once posting depends on it: a call that never
reached the ERP (connection refused, connect timeout) is safe to repeat; a call that may have reached it (read
timeout, connection dropped after the request was sent) is *ambiguous*: the voucher may exist, and the retry
must look it up before posting (``ErpClient.post_voucher(resolve_first=True)``).
"""

from __future__ import annotations

from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from connectors.base import ConnectorError
from connectors.erp import UNAVAILABLE

TIMEOUT = (3.05, 30.0)  # seconds: connect, read (a voucher save can take a while in a busy ERP)


def new_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = "budgetflow"
    return session


def send(session: requests.Session, method: str, url: str, *, vendor: str,
         timeout: tuple[float, float] = TIMEOUT, **kwargs: Any) -> requests.Response:
    """Send one request; transport failures and 5xx answers become retryable ``ERP_UNAVAILABLE`` errors."""
    try:
        response = session.request(method, url, timeout=timeout, **kwargs)
    except requests.ConnectTimeout as exc:
        raise unavailable(vendor, f"could not connect: {type(exc).__name__}", ambiguous=False) from exc
    except requests.ConnectionError as exc:
        raise unavailable(vendor, f"connection failed: {_reason(exc)}", ambiguous=not _never_sent(exc)) from exc
    except requests.Timeout as exc:
        raise unavailable(vendor, "no answer in time (the voucher may have been saved)", ambiguous=True) from exc
    # Kingdee answers gateway errors as HTTP 519 with a body its client reads; every other 5xx is an outage.
    if response.status_code >= 500 and response.status_code != 519:
        raise unavailable(vendor, f"answered HTTP {response.status_code}", ambiguous=False)
    return response


def unavailable(vendor: str, message: str, *, ambiguous: bool) -> ConnectorError:
    return ConnectorError(UNAVAILABLE, f"{vendor}: {message}", retryable=True, ambiguous=ambiguous, vendor=vendor)


def _never_sent(exc: requests.ConnectionError) -> bool:
    """Connection refused or no route: the request was never sent, so nothing can have been saved."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, NewConnectionError | ConnectionRefusedError):
            return True
        seen = seen.__context__ or seen.__cause__ or (seen.args[0] if seen.args and isinstance(
            seen.args[0], BaseException) else None)
    return False


def _reason(exc: requests.ConnectionError) -> str:
    """The innermost cause's text (``RemoteDisconnected(...)``, ``ConnectionRefusedError(...)``)."""
    seen: BaseException = exc
    while True:
        inner = getattr(seen, "reason", None) or (seen.args[0] if seen.args else None)
        if not isinstance(inner, BaseException):
            return f"{type(seen).__name__}: {seen}"[:200]
        seen = inner
