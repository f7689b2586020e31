"""Column types that keep money exact and time UTC-aware on every database."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine

SCALE = 4
_UNIT = Decimal(1).scaleb(-SCALE)


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal with four places: NUMERIC on PostgreSQL, a scaled BIGINT on SQLite.

    SQLite has no decimal type (NUMERIC becomes a binary float), so amounts are
    stored there as integers of 1/10,000; sums stay exact in SQL on both.
    """

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(24, SCALE, asdecimal=True))
        return dialect.type_descriptor(BigInteger())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("ExactDecimal refuses float; pass a Decimal")
        value = Decimal(value)
        if value != value.quantize(_UNIT):
            raise ValueError(f"{value} has more than {SCALE} decimal places")
        if dialect.name == "postgresql":
            return value
        return int(value.scaleb(SCALE))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return Decimal(value).quantize(_UNIT)
        return Decimal(int(value)).scaleb(-SCALE).quantize(_UNIT)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps; naive datetimes are refused on the way in."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass a UTC-aware datetime")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


Code = String(64)
