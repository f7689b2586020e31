"""Money: a Decimal amount with its ISO 4217 currency. Never a float."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from engine.domain.errors import CurrencyMismatch, InvalidAmount

_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Plain decimal text: ASCII digits, one optional '.', an optional leading '-'. Written with [0-9], not \d,
# because \d also matches full-width and other Unicode digits ("１０００"); no exponent, no separators.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
MAX_INTEGER_DIGITS = 14  # 100 trillion: beyond any amount, inside every storage type (SQLite keeps 4 places in 63 bits)
# ISO 4217 minor units of the currencies whose exponent is not 2; every other code has 2.
_MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
    "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3, "CLF": 4, "UYW": 4,
}
SIGNS = ("positive", "non_negative", "any")
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


def minor_units(currency: str) -> int:
    """Decimal places of ``currency`` (ISO 4217): 2 for CNY and USD, 0 for JPY, 3 for KWD."""
    return _MINOR_UNITS.get(currency, 2)


def parse_amount(value: object, *, currency: str = "CNY", field: str = "amount", sign: str = "positive",
                 places: int | None = None) -> Decimal:
    """The one parser for money coming in (forms, master data, the API, connectors).

    Accepts plain decimal text (``"1280.5"``, ``"-3"``), an int or a finite Decimal; a JSON float
    only when its shortest text is plain (``1280.5``, never ``1e16``). Refuses exponents, thousands
    separators, '_', full-width digits, a '+' sign, spaces inside, more decimal places than the
    currency has (``places`` overrides, e.g. from the data dictionary) and more than
    ``MAX_INTEGER_DIGITS`` integer digits. Returns the amount at exactly the currency's places.
    """
    if sign not in SIGNS:
        raise ValueError(f"sign must be one of {SIGNS}")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise InvalidAmount(f"{field}: currency {currency!r} is not a three-letter ISO 4217 code")
    places = minor_units(currency) if places is None else places
    amount = plain_decimal(value, field)
    digits, exponent = amount.as_tuple().digits, amount.as_tuple().exponent
    assert isinstance(exponent, int)  # finite by construction
    if -exponent > places and amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise InvalidAmount(f"{field}: {_shown(value)} has more than {places} decimal place(s) ({currency})")
    if -exponent > places:
        raise InvalidAmount(f"{field}: {_shown(value)} has trailing zeros beyond {currency}'s {places} decimal place(s)"
                            f"; write {amount.quantize(Decimal(1).scaleb(-places))}")
    if len(digits) + exponent > MAX_INTEGER_DIGITS:
        raise InvalidAmount(f"{field}: {_shown(value)} is too large (more than {MAX_INTEGER_DIGITS} integer digits)")
    if sign == "positive" and amount <= 0:
        raise InvalidAmount(f"{field}: {_shown(value)} must be more than zero")
    if sign == "non_negative" and amount < 0:
        raise InvalidAmount(f"{field}: {_shown(value)} must not be negative")
    return amount.quantize(Decimal(1).scaleb(-places)) + 0  # + 0 turns -0 into 0


def format_amount(amount: Decimal, currency: str) -> str:
    """The canonical text of an amount: plain digits at exactly the currency's places (``"1280.50"``)."""
    return str(amount.quantize(Decimal(1).scaleb(-minor_units(currency))))


def plain_decimal(value: object, field: str) -> Decimal:
    """The plain-text rule of ``parse_amount`` alone (no currency, sign or scale): for percentages and rates."""
    if isinstance(value, bool):
        raise InvalidAmount(f"{field}: {value!r} is not an amount")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidAmount(f"{field}: {value} is not a finite number")
        return value
    if isinstance(value, float):
        value = repr(value)  # the shortest text that reads back as this float: what a JSON client sent
    if not isinstance(value, str):
        raise InvalidAmount(f"{field}: expected plain decimal text such as \"1280.50\", got a {type(value).__name__}")
    text = value.strip(" \t")
    if len(text) > 40 or not _PLAIN_DECIMAL.fullmatch(text):
        raise InvalidAmount(f"{field}: {_shown(value)} is not plain decimal text (digits and one '.', "
                            "no exponent, separators, spaces or full-width digits), e.g. \"1280.50\"")
    return Decimal(text)


def _shown(value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


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
