"""How the API writes money, times and cursors in JSON.

Money is a string of plain decimal digits (``"1280.50"``), never a JSON number, so no client parses it into
a float; its currency is a field beside it. Times are ISO 8601 in UTC with a ``Z``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import marshmallow as ma

from engine.domain.money import minor_units

MONEY_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
CURSOR_MAX = 500


class Money(ma.fields.String):
    """A Decimal written as plain text at its currency's places (``"1200.00"``, not the stored ``1200.0000``);
    read as text, which the engine parses with its currency. ``currency_field`` names the currency beside it."""

    currency_field = "currency"

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": MONEY_PATTERN, "example": "1280.50", **kwargs.pop("metadata", {})}
        super().__init__(validate=ma.validate.Regexp(MONEY_PATTERN, error="plain decimal text such as 1280.50"),
                         metadata=metadata, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
        currency = obj.get(self.currency_field) if isinstance(obj, dict) else getattr(obj, self.currency_field, None)
        exact = Decimal(1).scaleb(-minor_units(currency if isinstance(currency, str) else "CNY"))
        if amount.is_finite() and amount == amount.quantize(exact):  # never round: only drop stored zeros
            amount = amount.quantize(exact)
        return format(amount, "f")


class UtcTime(ma.fields.DateTime):
    """An aware datetime written in UTC with a trailing Z (a naive one from the database is UTC already)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):  # an engine result that went through JSON (Outcome.open_tasks)
            value = datetime.fromisoformat(value)
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


class Cursor(ma.fields.String):
    """An opaque paging cursor: whatever the previous page's ``next_cursor`` was."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=ma.validate.Length(1, CURSOR_MAX), **kwargs)


class DecimalText(ma.fields.String):
    """A Decimal that is not money (a percentage, a ratio), written as plain text: ``"10.00"``, ``"0.4375"``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(metadata={"pattern": MONEY_PATTERN, **kwargs.pop("metadata", {})}, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format(Decimal(str(value)), "f")
