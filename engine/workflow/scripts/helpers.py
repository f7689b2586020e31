"""The pure business helpers diagram scripts may call (``to_decimal``, ``round_money``...).

They take and return plain values and never touch I/O; ``namespace.py`` hands them to diagram code.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


def to_decimal(value: object) -> Decimal:
    """Decimal from a Decimal, int or numeric string; floats are refused (they are not money)."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise TypeError(f"to_decimal() takes a Decimal, int or str, not {type(value).__name__}")
    if isinstance(value, str) and len(value) > 100:
        raise ValueError("to_decimal(): the string is too long to be an amount")
    result = value if isinstance(value, Decimal) else Decimal(value.strip() if isinstance(value, str) else value)
    if not result.is_finite():
        raise ValueError(f"to_decimal(): {value!r} is not a finite number")
    return result


def round_money(amount: object, places: int = 2) -> Decimal:
    """Round half up to ``places`` decimal places, as finance rounds amounts."""
    if not isinstance(places, int) or not 0 <= places <= 8:
        raise ValueError("round_money(): places must be an int from 0 to 8")
    return to_decimal(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def sum_amounts(lines: list[dict[str, Any]], key: str = "amount") -> Decimal:
    """Sum ``line[key]`` over expense lines as Decimal (strings and ints are converted)."""
    if not isinstance(lines, (list, tuple)):
        raise TypeError(f"sum_amounts() takes a list of lines, not {type(lines).__name__}")
    total = Decimal(0)
    for line in lines:
        if not isinstance(line, dict):
            raise TypeError(f"sum_amounts(): each line must be a dict, not {type(line).__name__}")
        total += to_decimal(line.get(key, 0))
    return total


def percent_of(amount: object, percent: object) -> Decimal:
    """``percent`` % of ``amount``, rounded to cents."""
    return round_money(to_decimal(amount) * to_decimal(percent) / 100)


def days_between(start: date, end: date) -> int:
    """Whole days from ``start`` to ``end`` (negative if ``end`` is earlier)."""
    if not isinstance(start, date) or not isinstance(end, date):
        raise TypeError("days_between() takes two dates")
    as_date = [d.date() if isinstance(d, datetime) else d for d in (start, end)]
    return (as_date[1] - as_date[0]).days


BUSINESS_HELPERS = {
    "to_decimal": to_decimal,
    "round_money": round_money,
    "sum_amounts": sum_amounts,
    "percent_of": percent_of,
    "days_between": days_between,
}
