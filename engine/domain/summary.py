"""What a document is about, in four columns the inbox can show and sort by: subject, amount, currency, purpose.

Copied from a run's data at every save. Data is whatever the forms and scripts left, so nothing here
trusts it: a value of the wrong type or shape is left out (None) rather than stored or raised.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.domain.errors import InvalidAmount
from engine.domain.money import parse_amount

_CURRENCY = re.compile(r"[A-Z]{3}")
SUBJECT_MAX, PURPOSE_MAX = 32, 200


@dataclass(frozen=True)
class DocumentSummary:
    subject: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    purpose: str | None = None


def summarize(data: Mapping[str, Any]) -> DocumentSummary:
    """The summary of a run's ``data``: keys subject, amount (else total), currency, purpose."""
    currency = data.get("currency")
    currency = currency if isinstance(currency, str) and _CURRENCY.fullmatch(currency) else None
    subject = data.get("subject")
    purpose = data.get("purpose")
    return DocumentSummary(
        subject=subject if isinstance(subject, str) and 0 < len(subject) <= SUBJECT_MAX else None,
        amount=_amount(data.get("amount"), currency) or _amount(data.get("total"), currency),
        currency=currency,
        purpose=purpose[:PURPOSE_MAX] if isinstance(purpose, str) and purpose else None)


def _amount(value: object, currency: str | None) -> Decimal | None:
    if value is None or isinstance(value, bool | float):
        return None
    try:  # the forms' money text; the currency's places when it is known, storage's four otherwise
        return parse_amount(value, currency=currency or "XXX", sign="non_negative", places=None if currency else 4)
    except InvalidAmount:
        return None
