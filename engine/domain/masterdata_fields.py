"""The data dictionary's vocabulary and column layouts: what each CSV column may hold.

Every parser takes the cell's stripped text (never empty: blanks are handled by the
column's ``required``/``default``) and returns the typed value, or raises ValueError
with a message that completes ``FILE:ROW:FIELD: ...``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from engine.domain.budget import ControlMode
from engine.domain.budget_line import period_kind
from engine.domain.errors import InvalidAmount
from engine.domain.money import to_decimal

MANIFEST = "manifest.toml"
MANIFEST_KEYS = frozenset({"version", "company", "company_en", "description"})
KNOWN_ROLES = frozenset({"employee", "manager", "finance", "budget_admin", "process_designer", "auditor", "admin"})
# How an expense's input VAT is treated when it is posted (docs/master-data.md explains each).
TAX_TREATMENTS = {
    "deductible": "input VAT deductible against a special VAT invoice (增值税专用发票/数电专票)",
    "passenger_transport": "input VAT computed from passenger tickets and deductible (旅客运输服务)",
    "non_deductible": "input VAT may not be deducted (meals, entertainment: 餐饮服务、娱乐服务)",
    "none": "no VAT involved (allowances, subsidies, fees outside VAT)",
}
OA_ID_FIELDS = ("dingtalk_userid", "wecom_userid", "feishu_open_id")

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,63}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_GL_NUMBERED = re.compile(r"^\d+(\.\d+)*$")  # Kingdee 6602.01, Yonyou 660201
_GL_SAP = re.compile(r"^[0-9A-Z]{1,10}$")  # SAP G/L accounts: up to ten characters
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


# ---------------------------------------------------------------- field parsers


def _code(text: str) -> str:
    if not _CODE.match(text):
        raise ValueError(f"{text!r} is not a code (A-Z, 0-9, '.', '_' or '-', at most 64 characters)")
    return text


def _text(limit: int) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if len(text) > limit:
            raise ValueError(f"is {len(text)} characters long; at most {limit} allowed")
        return text
    return parse


def _pattern(regex: re.Pattern[str], what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if not regex.match(text):
            raise ValueError(f"{text!r} is not {what}")
        return text
    return parse


def _oa_id(text: str) -> str:
    if len(text) > 100 or any(ch.isspace() for ch in text):
        raise ValueError(f"{text!r} is not a user id (no spaces, at most 100 characters)")
    return text


def _boolean(text: str) -> bool:
    try:
        return _BOOLEANS[text.lower()]
    except KeyError:
        raise ValueError(f"{text!r} is not true or false") from None


def _minor_units(text: str) -> int:
    if text not in {"0", "1", "2", "3", "4"}:
        raise ValueError(f"{text!r} is not a whole number from 0 to 4")
    return int(text)


def _roles(text: str) -> tuple[str, ...]:
    roles = tuple(r.strip() for r in text.split(";") if r.strip())
    unknown = [r for r in roles if r not in KNOWN_ROLES]
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(unknown)}; known roles: {', '.join(sorted(KNOWN_ROLES))}")
    if len(set(roles)) != len(roles):
        raise ValueError(f"a role is listed twice in {text!r}")
    if not roles:
        raise ValueError("at least one role is required")
    return roles


def _tax_treatment(text: str) -> str:
    if text not in TAX_TREATMENTS:
        raise ValueError(f"{text!r} is not one of {', '.join(TAX_TREATMENTS)}")
    return text


def _period(text: str) -> str:
    period_kind(text)  # its ValueError already says what a period looks like
    return text


def _decimal(text: str) -> Decimal:
    try:
        return to_decimal(text)
    except InvalidAmount:
        raise ValueError(f"{text!r} is not a decimal number (digits and a '.', no thousands separators, "
                         "at most 4 decimal places)") from None


def _amount(text: str) -> Decimal:
    amount = _decimal(text)
    if amount < 0:
        raise ValueError(f"{text} is negative; a budget is zero or more")
    return amount


def _tolerance(text: str) -> Decimal:
    pct = _decimal(text)
    if not Decimal(0) <= pct <= Decimal(100):
        raise ValueError(f"{text} is not a percentage from 0 to 100")
    return pct


def _control_mode(text: str) -> ControlMode:
    try:
        return ControlMode(text)
    except ValueError:
        raise ValueError(f"{text!r} is not one of FORBID, WARN, IGNORE") from None


# ---------------------------------------------------------------- file layouts


@dataclass(frozen=True, slots=True)
class Column:
    """One CSV column: a blank cell is an error when ``required``, else it takes ``default``."""

    name: str
    parse: Callable[[str], object]
    required: bool = True
    default: object = None


def _optional(name: str, parse: Callable[[str], object], default: object = None) -> Column:
    return Column(name, parse, required=False, default=default)


_NAME, _ACTIVE = Column("name", _text(200)), _optional("active", _boolean, default=True)
LAYOUTS: dict[str, tuple[Column, ...]] = {
    "currencies.csv": (
        Column("code", _pattern(_CURRENCY, "a three-letter ISO 4217 code")), Column("name", _text(100)),
        _optional("minor_units", _minor_units, default=2),
    ),
    "org_units.csv": (
        Column("code", _code), _NAME, _optional("name_en", _text(200)), _optional("parent_code", _code),
        _optional("manager_code", _code), _ACTIVE,
    ),
    "employees.csv": (
        Column("code", _code), _NAME, _optional("email", _pattern(_EMAIL, "an e-mail address")),
        Column("org_unit_code", _code), Column("roles", _roles),
        *(_optional(name, _oa_id) for name in OA_ID_FIELDS),
        _optional("erp_employee_code", _text(64)), _optional("erp_vendor_code", _text(64)), _ACTIVE,
    ),
    "expense_subjects.csv": (
        Column("code", _code), _NAME, _optional("name_en", _text(200)),
        _optional("gl_kingdee", _pattern(_GL_NUMBERED, "a Kingdee account like 6602.01")),
        _optional("gl_yonyou", _pattern(_GL_NUMBERED, "a Yonyou account like 660201")),
        _optional("gl_sap", _pattern(_GL_SAP, "an SAP G/L account like 6602010000")),
        Column("tax_treatment", _tax_treatment), _ACTIVE,
    ),
    "cost_centers.csv": (Column("code", _code), _NAME, Column("org_unit_code", _code), _ACTIVE),
    "budget_lines.csv": (
        Column("period", _period), _optional("org_unit_code", _code), _optional("cost_center_code", _code),
        Column("subject_code", _code), _optional("project", _code), Column("amount", _amount),
        Column("currency", _pattern(_CURRENCY, "a three-letter ISO 4217 code")),
        Column("control_mode", _control_mode), _optional("tolerance_pct", _tolerance, default=Decimal(0)),
    ),
}
DICTIONARY_FILES = (MANIFEST, *LAYOUTS)

