"""One canonical form for identifiers that come from people and other systems.

Invoice codes and numbers, OA user ids and ERP codes are typed, pasted from PDFs and
exported from other systems: the same invoice arrives as ``0123``, ``０１２３`` (full-width),
``0123\u200b`` (a zero-width space) or ``0123\u3000`` (an ideographic space). Compared as
given they are different invoices, and the same invoice is paid twice. Every identifier is
therefore put into one form before it is compared or stored:

1. Unicode NFKC: full-width and other compatibility forms become their plain characters;
2. format characters (category Cf: zero-width spaces and joiners, the BOM, direction marks)
   and every kind of space are removed: identifiers have no spaces;
3. control characters (NUL, newlines, ...), surrogates, private-use and unassigned code points
   are refused: they are never part of an identifier, and NUL breaks PostgreSQL text;
4. case: folded for comparison keys such as invoice numbers, upper-cased for ERP codes, kept for
   OA user ids (DingTalk ids are case-sensitive), as the caller asks.
"""

from __future__ import annotations

import unicodedata

from engine.domain.errors import BudgetflowError

CASES = ("fold", "upper", "keep")
_REFUSED_CATEGORIES = {"Cc": "a control character", "Cs": "a surrogate", "Co": "a private-use character",
                       "Cn": "an unassigned code point"}
_REMOVED_CATEGORIES = {"Cf", "Zs", "Zl", "Zp"}


class InvalidIdentifier(BudgetflowError):
    code = "INVALID_IDENTIFIER"


def canonical_identifier(value: object, *, field: str, case: str = "fold", max_length: int = 64,
                         required: bool = True) -> str:
    """``value`` in its canonical form (see the module docstring); raises InvalidIdentifier naming ``field``."""
    if case not in CASES:
        raise ValueError(f"case must be one of {CASES}")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # an invoice number sent as a JSON number
    if not isinstance(value, str):
        raise InvalidIdentifier(f"{field}: expected text, got a {type(value).__name__}")
    if len(value) > max_length * 4:  # before normalising: NFKC of a huge string is work for nothing
        raise InvalidIdentifier(f"{field}: longer than {max_length} characters")
    text = _without_spaces(unicodedata.normalize("NFKC", value), field)
    if case == "fold":
        text = unicodedata.normalize("NFKC", text.casefold())
    elif case == "upper":
        text = unicodedata.normalize("NFKC", text.upper())
    if len(text) > max_length:
        raise InvalidIdentifier(f"{field}: longer than {max_length} characters")
    if required and not text:
        raise InvalidIdentifier(f"{field}: must not be empty")
    return text


def _without_spaces(text: str, field: str) -> str:
    kept = []
    for position, char in enumerate(text, start=1):
        category = unicodedata.category(char)
        if category in _REFUSED_CATEGORIES:
            raise InvalidIdentifier(f"{field}: character {position} is {_REFUSED_CATEGORIES[category]} "
                                    f"(U+{ord(char):04X}); identifiers may not contain it")
        if category not in _REMOVED_CATEGORIES:
            kept.append(char)
    return "".join(kept)


def identifier_key(value: str) -> str:
    """A comparison key for identifiers stored with their case kept (OA user ids): equal iff the same id."""
    return canonical_identifier(value, field="identifier", case="fold", max_length=len(value) + 1, required=False)
