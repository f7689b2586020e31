"""One OA form value, converted by its mapped type (engine/domain/oa_forms.py puts the values of a form together).

The OA suites report values their own way: DingTalk text for everything, Feishu numbers for amounts and
RFC 3339 times for dates, epoch milliseconds from date pickers, lists from multi-selects. Each converter takes
what came and returns the typed value, or raises ValueError with a message that quotes the value only through
``excerpt``. Money is read by the one money parser (``parse_amount``), never through a float.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal

from engine.domain.errors import InvalidAmount
from engine.domain.money import parse_amount, plain_decimal
from engine.domain.untrusted_text import excerpt, refused_character

MAX_TEXT = 2000
# The OA suites budgetflow speaks to are Chinese: their date pickers mean a calendar day in China Standard
# Time (UTC+8, no daylight saving). An epoch time for 1 March 00:00 there is still 28 February in UTC.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")
# The OA forms' money controls are in yuan: at most two decimal places, like CNY in the ledger.
MONEY_CURRENCY = "CNY"
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_LOCAL_TIME = re.compile(r"[ T]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?")
_OFFSET_TIME = re.compile(r"T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})")
_EPOCH_MS = re.compile(r"[0-9]{13}")  # 2001-09-09 to 2286-11-20: milliseconds, never seconds mistaken for them
_LIST_SEPARATOR = ", "
# A textarea's line breaks and tabs are text; every other character no cell may hold is refused.
_TEXT_LAYOUT = str.maketrans("", "", "\n\r\t")


def to_text(value: object) -> str:
    """Text: stripped, at most MAX_TEXT characters; a multi-select's options joined with ", "."""
    if isinstance(value, list | tuple):
        text = _LIST_SEPARATOR.join(to_text(item) for item in value if not is_blank(item))
    elif isinstance(value, str):
        text = value.strip()
    elif isinstance(value, int | Decimal) and not isinstance(value, bool):
        text = format(value, "f") if isinstance(value, Decimal) else str(value)
    else:
        raise ValueError(f"a {type(value).__name__} is not text")
    if (found := refused_character(text.translate(_TEXT_LAYOUT))) is not None:
        raise ValueError(f"{excerpt(text)} contains {found}")
    if len(text) > MAX_TEXT:
        raise ValueError(f"is {len(text)} characters long; at most {MAX_TEXT} allowed")
    return text


def to_money(value: object) -> Decimal:
    """An amount in yuan, zero or more, at most two decimal places: ``"1234.5"`` is 1234.50."""
    shown = _shown(value)
    try:
        return parse_amount(_without_zero_places(value), currency=MONEY_CURRENCY, field="value",
                            sign="non_negative")
    except InvalidAmount as exc:
        raise ValueError(f"{shown} is not an amount ({_money_reason(str(exc))})") from None


def _without_zero_places(value: object) -> object:
    """``"4871.5000"`` (the ledger keeps four places) as ``"4871.50"``: trailing zeros are no precision lost;
    a value with a real third place is left as it is, and refused."""
    text = str(value).strip() if isinstance(value, str | Decimal) else None
    if text is None or "." not in text or not text.replace(".", "", 1).lstrip("-").isdigit():
        return value
    whole, places = text.split(".")
    return f"{whole}.{places.rstrip('0').ljust(2, '0')}" if len(places) > 2 else value


def _money_reason(message: str) -> str:
    if "decimal place" in message:
        return "at most 2 decimal places"
    if "negative" in message:
        return "it is negative"
    if "too large" in message:
        return "more than 14 digits before the point"
    return "plain digits and one '.', e.g. 1280.50"


def to_number(value: object) -> Decimal:
    """A plain decimal number: digits, one '.', an optional '-'; no exponent or separators."""
    try:
        return plain_decimal(value, "value")
    except InvalidAmount:
        raise ValueError(f"{_shown(value)} is not a number (plain digits and one '.', e.g. 3 or 2.5)") from None


def to_date(value: object, calendar: tzinfo = CHINA_STANDARD_TIME) -> date:
    """A calendar day from ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM[:SS]``, RFC 3339 with an offset (Feishu) or epoch
    milliseconds (a number or 13 digits); times with an offset or epochs are read in ``calendar``."""
    if isinstance(value, datetime):
        return value.astimezone(calendar).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"a {type(value).__name__} is not a date")
    text = value.strip()
    try:
        return _parse_date_text(text, calendar)
    except ValueError:
        raise ValueError(f"{excerpt(text)} is not a date (YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS] or epoch "
                         "milliseconds)") from None


def _parse_date_text(text: str, calendar: tzinfo) -> date:
    if _EPOCH_MS.fullmatch(text):
        return datetime.fromtimestamp(int(text) // 1000, tz=calendar).date()
    day = _DATE.match(text)
    if day is None:
        raise ValueError(text)
    rest = text[day.end():]
    if _OFFSET_TIME.fullmatch(rest):
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(calendar).date()
    if rest and not _valid_local_time(rest):
        raise ValueError(text)
    return date(int(day[1]), int(day[2]), int(day[3]))


def _valid_local_time(rest: str) -> bool:
    clock = _LOCAL_TIME.fullmatch(rest)
    return clock is not None and int(clock[1]) < 24 and int(clock[2]) < 60 and int(clock[3] or 0) < 60


def is_blank(value: object) -> bool:
    """No value: None, blank text or an empty list (an OA reports an untouched control either way)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple) and all(is_blank(item) for item in value)


def _shown(value: object) -> str:
    return excerpt(value if isinstance(value, str) else repr(value))
