"""What the Yonyou clients share on the wire: exact amounts, JSON with Decimal numbers, secrets kept out of logs.

Both APIs take the access token (U8's token request even the app secret) in the query string, and urllib3
writes request lines to its debug log: ``redact`` masks those parameters in a logger's records.
"""

from __future__ import annotations

import json
import logging
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import requests

from connectors import erp_http
from connectors.base import ConnectorError
from connectors.erp import POST_FAILED, UNAVAILABLE

CENT = Decimal("0.01")
SECRET_QUERY = re.compile(r"((?:access_token|token|app_secret|appSecret|signature)=)[^&\s\"']+")


def cents(amount: Decimal) -> Decimal:
    """``amount`` with exactly two decimals; more precision than a cent would be rounded by the ERP, so it is
    refused here instead of posted different from what budgetflow booked."""
    if not isinstance(amount, Decimal):
        raise TypeError("amounts are Decimal")
    exact = amount.quantize(CENT)
    if exact != amount:
        raise ConnectorError(POST_FAILED, f"amount {amount} has more than two decimals", retryable=False,
                             errors=[])
    return exact


def converted(amount: Decimal, rate: Decimal) -> Decimal:
    """An amount in the book's currency: the voucher currency's amount times the rate, to the cent."""
    return (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def to_json(value: Any) -> str:
    """JSON text with each Decimal written as a number exactly as it stands (``1200.00``), never via float."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def decimal(value: Any, *, vendor: str) -> Decimal:
    """A number or numeric string from the vendor's answer, as Decimal."""
    try:
        return Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation:
        raise bad_answer(vendor, f"an amount that is not a number: {str(value)[:40]!r}") from None


def parse(response: requests.Response, *, vendor: str, ambiguous: bool) -> Any:
    """The answer's JSON, numbers as Decimal."""
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        raise bad_answer(vendor, f"HTTP {response.status_code} and something that is not JSON",
                         ambiguous=ambiguous) from None


def bad_answer(vendor: str, what: str, *, ambiguous: bool = False) -> ConnectorError:
    return ConnectorError(UNAVAILABLE, f"{vendor} answered {what}", retryable=True, ambiguous=ambiguous,
                          vendor=vendor)


def send(session: requests.Session, method: str, url: str, *, vendor: str, timeout: tuple[float, float],
         **kwargs: Any) -> requests.Response:
    """``erp_http.send``, plus the rarer transport failures (a broken chunked answer...) as ambiguous
    UNAVAILABLE, without their text: it may quote the URL, and the URL carries the token."""
    try:
        return erp_http.send(session, method, url, vendor=vendor, timeout=timeout, **kwargs)
    except ConnectorError:
        raise
    except requests.RequestException as exc:
        raise erp_http.unavailable(vendor, f"broke off the answer ({type(exc).__name__})", ambiguous=True) from None


def mask(text: str) -> str:
    return SECRET_QUERY.sub(r"\1***", text)


class RedactQuery(logging.Filter):
    """Masks the token, secret and signature query parameters in a logger's records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(mask(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = mask(record.msg)
        return True


def redact(logger_name: str) -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactQuery) for f in logger.filters):
        logger.addFilter(RedactQuery())
