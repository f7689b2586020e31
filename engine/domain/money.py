"""Money: a Decimal amount with its ISO 4217 currency. Never a float."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from engine.domain.errors import CurrencyMismatch, InvalidAmount

_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Storage keeps four decimal places (engine/persistence/types.py); a finer amount
# would be silently rounded there, so it is refused here instead.
MAX_SCALE = 4


def to_decimal(value: object, *, field: str = "amount") -> Decimal:
    """Parse ``value`` (Decimal, int or str) into a finite Decimal; floats are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidAmount(f"{field}: {value!r} is a {type(value).__name__}; pass a Decimal or a string")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidAmount(f"{field}: {value!r} is not a number") from None
    if not amount.is_finite():
        raise InvalidAmount(f"{field}: {value!r} is not a finite number")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_SCALE and amount != amount.quantize(Decimal(1).scaleb(-MAX_SCALE)):
        raise InvalidAmount(f"{field}: {value!r} has more than {MAX_SCALE} decimal places")
    return amount


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))
        if not isinstance(self.currency, str) or not _CURRENCY.match(self.currency):
            raise InvalidAmount(f"currency {self.currency!r} is not a three-letter ISO 4217 code")

    @classmethod
    def of(cls, amount: object, currency: str) -> Money:
        return cls(to_decimal(amount), currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self} with {other}: currencies differ")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def is_positive(self) -> bool:
        return self.amount > 0

    def __str__(self) -> str:
        return f"{self.amount:,.2f} {self.currency}" if self.amount == self.amount.quantize(Decimal("0.01")) \
            else f"{self.amount:,} {self.currency}"
