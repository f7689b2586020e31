"""The neutral voucher as Kingdee's ``GL_VOUCHER`` Save model, and where our idempotency key rides in it.

Kingdee has no idempotency field, so the key goes where ExecuteBillQuery can filter on it: every entry's
explanation (``FEXPLANATION``, 摘要) starts ``#<key> `` (``#EC-2026-000123 报销差旅费``). We chose the entry
explanation over a header extension field because every tenant has it without customisation; filtering a
voucher query on an entry field is unverified on a real tenant. A hand-entered explanation that happens to
start with ``#word `` would read back as that reference.

Amounts: ``FAMOUNTFOR`` is the line in the voucher's currency, ``FDEBIT``/``FCREDIT`` the book currency at
``FEXCHANGERATE``, as JSON numbers with two decimals (that these are book-currency amounts is unverified). When
a rate makes the rounded book amounts differ by a cent, the largest debit line absorbs it, so the voucher
Kingdee checks still balances.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.base import ConnectorError
from connectors.erp import POST_FAILED, FieldError, VoucherDraft, VoucherLine
from connectors.kingdee.settings import KingdeeSettings
from connectors.kingdee.status import VENDOR

CENT = Decimal("0.01")
EXPLANATION_MAX = 255  # characters (unverified: the field's length on a real tenant)
REFERENCE = re.compile(r"#(\S+) (.*)", re.DOTALL)


def explanation(key: str, memo: str) -> str:
    """``#<key> <memo>``; never an empty memo, or a trimmed ``#<key>`` would escape the look-up's pattern."""
    return f"#{key} {memo.strip() or key}"[:EXPLANATION_MAX]


def split_explanation(text: str) -> tuple[str, str]:
    """(our key or "", the rest) of an entry's explanation."""
    found = REFERENCE.fullmatch(text or "")
    return (found.group(1), found.group(2)) if found else ("", text or "")


def check_key(key: str) -> None:
    if not key or len(key) > 80 or re.search(r"\s", key):
        raise ValueError(f"a Kingdee idempotency key is 1-80 characters without spaces, not {key!r}")


def save_body(draft: VoucherDraft, key: str, settings: KingdeeSettings, today: date) -> dict[str, Any]:
    """The Save request for ``draft`` (key casing as Kingdee spells it)."""
    currency = settings.currencies.get(draft.currency)
    if currency is None:
        raise _refused(FieldError("FCURRENCYID", None, f"no Kingdee currency code for {draft.currency}: "
                                  "add it to the currencies table of the ERP settings"))
    rate = draft.exchange_rate
    local = book_amounts(draft.lines, rate)
    entries = [_entry(n, line, local[n - 1], key, draft, currency, settings)
               for n, line in enumerate(draft.lines, start=1)]
    return {"formid": "GL_VOUCHER", "data": {"Model": {
        "FAccountBookID": {"FNumber": draft.book or settings.book},
        "FDate": (draft.posting_date or today).isoformat(),
        "FVOUCHERGROUPID": {"FNumber": draft.voucher_type or settings.voucher_group},
        "FVOUCHERGROUPNO": "", "FATTACHMENTS": draft.attachments, "FDocumentStatus": "", "FEntity": entries}}}


def _entry(n: int, line: VoucherLine, local: tuple[Decimal, Decimal], key: str, draft: VoucherDraft,
           currency: str, settings: KingdeeSettings) -> dict[str, Any]:
    entry: dict[str, Any] = {"FEXPLANATION": explanation(key, line.memo or draft.summary),
                             "FACCOUNTID": {"FNumber": line.account}}
    flex = {}
    for name, code in line.dimensions:
        if name not in settings.dimensions:
            raise _refused(FieldError("FDetailID", n, f"dimension {name!r} has no Kingdee flex field"))
        flex[f"FDETAILID__{settings.dimensions[name]}"] = {"FNumber": code}
    if flex:
        entry["FDetailID"] = flex
    return {**entry, "FCURRENCYID": {"FNumber": currency},
            "FEXCHANGERATETYPE": {"FNumber": settings.exchange_rate_type},
            "FEXCHANGERATE": draft.exchange_rate, "FAMOUNTFOR": _cents(line.debit or line.credit),
            "FDEBIT": local[0], "FCREDIT": local[1]}


def book_amounts(lines: tuple[VoucherLine, ...], rate: Decimal) -> list[tuple[Decimal, Decimal]]:
    """(debit, credit) of each line in the book's currency, to the cent, still balanced."""
    amounts = [(_cents(line.debit * rate), _cents(line.credit * rate)) for line in lines]
    difference = sum(d for d, _ in amounts) - sum(c for _, c in amounts)
    if difference and any(d for d, _ in amounts):
        largest = max(range(len(amounts)), key=lambda n: amounts[n][0])
        amounts[largest] = (amounts[largest][0] - difference, Decimal("0.00"))
    return amounts


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _refused(error: FieldError) -> ConnectorError:
    return ConnectorError(POST_FAILED, f"{VENDOR}: {error.field}: {error.message}", retryable=False,
                          errors=[error.as_dict()], vendor=VENDOR)
