"""The data dictionary's vocabulary and column layouts: what each CSV column may hold.

Every parser takes the cell's stripped text (never empty: blanks are handled by the
column's ``required``/``default``; characters no cell may hold were refused before) and
returns the typed value, or raises ValueError with a message that completes
``FILE:ROW:FIELD: ...`` and quotes the cell only through ``excerpt``.

Identifiers (codes, GL accounts, ERP and OA ids, currencies, periods) are put into their
canonical form first (``canonical_identifier``: full-width forms folded, invisible format
characters dropped; upper-cased, except OA ids, which keep their case) and only then
matched against their documented pattern. Amounts and percentages follow the plain-text
rule of ``parse_amount``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from connectors.erp import DIMENSIONS
from engine.domain.budget import ControlMode
from engine.domain.budget_line import period_kind
from engine.domain.errors import InvalidAmount
from engine.domain.identifiers import InvalidIdentifier, canonical_identifier
from engine.domain.lanes import FALLBACKS, RULES
from engine.domain.money import MAX_SCALE, plain_decimal
from engine.domain.oa_forms import DIRECTIONS, FIELD_TYPES, VENDORS
from engine.domain.posting import DEFAULT_SUMMARY, ERPS, SUMMARY_FIELDS, PostingRule
from engine.domain.untrusted_text import excerpt

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
# Each org unit's department in each OA suite: the org sync places people by it (engine/services/oa_org_sync.py).
OA_DEPT_FIELDS = ("dingtalk_dept_id", "wecom_dept_id", "feishu_dept_id")

# Patterns are written with ASCII classes ([0-9], not \d: \d also matches Arabic-Indic and full-width
# digits) and are matched in full against the canonical form (see _identifier).
_CODE = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,63}")
_CURRENCY = re.compile(r"[A-Z]{3}")
VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_GL_NUMBERED = re.compile(r"[0-9]+(?:\.[0-9]+)*")  # Kingdee 6602.01, Yonyou 660201
_GL_SAP = re.compile(r"[0-9A-Z]{1,10}")  # SAP G/L accounts: up to ten characters
_OA_USER_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._@-]{0,99}")  # DingTalk userid, WeCom userid
_FEISHU_OPEN_ID = re.compile(r"ou_[0-9A-Za-z]{1,97}")
_NUMERIC_DEPT_ID = re.compile(r"0|[1-9][0-9]{0,18}")  # DingTalk dept_id and WeCom department id: whole numbers
_FEISHU_DEPT_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,63}")  # department_id: "od-..." or a custom id
_SPACE = re.compile(r"\s")
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_CODE_RULE = "A-Z, 0-9, '.', '_' or '-', at most 64 characters"
_NOT_A_FIELD = "value"  # canonical_identifier names the field in its messages; here the column already does


# ---------------------------------------------------------------- field parsers


def _canonical(text: str, *, case: str, max_length: int, what: str) -> str:
    """``text`` in canonical identifier form: NFKC, invisible format characters dropped, case as asked.

    canonical_identifier would also drop spaces; a visible space inside a code is refused instead, because
    joining ``SALES N`` into ``SALESN`` would make a key nobody wrote.
    """
    if _SPACE.search(text):
        raise ValueError(f"{excerpt(text)} is not {what}: it contains a space")
    try:
        return canonical_identifier(text, field=_NOT_A_FIELD, case=case, max_length=max_length)
    except InvalidIdentifier as exc:
        reason = str(exc).removeprefix(f"{_NOT_A_FIELD}: ")
        raise ValueError(f"{excerpt(text)} is not {what}: {reason}") from None


def _identifier(pattern: re.Pattern[str], what: str, *, case: str = "upper",
                max_length: int = 64) -> Callable[[str], str]:
    """A parser for an identifier column: canonical form first, then the documented pattern."""
    def parse(text: str) -> str:
        value = _canonical(text, case=case, max_length=max_length, what=what)
        if not pattern.fullmatch(value):
            raise ValueError(f"{excerpt(text)} is not {what}")
        return value
    return parse


_code = _identifier(_CODE, f"a code ({_CODE_RULE})")
_erp_code = _identifier(_CODE, f"an ERP code ({_CODE_RULE})")
_currency = _identifier(_CURRENCY, "a three-letter ISO 4217 code")


def _text(limit: int) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if len(text) > limit:
            raise ValueError(f"is {len(text)} characters long; at most {limit} allowed")
        return text
    return parse


def _boolean(text: str) -> bool:
    try:
        return _BOOLEANS[text.lower()]
    except KeyError:
        raise ValueError(f"{excerpt(text)} is not true or false") from None


def _minor_units(text: str) -> int:
    if text not in {"0", "1", "2", "3", "4"}:
        raise ValueError(f"{excerpt(text)} is not a whole number from 0 to 4")
    return int(text)


def _roles(text: str) -> tuple[str, ...]:
    roles = tuple(r.strip() for r in text.split(";") if r.strip())
    unknown = [r for r in roles if r not in KNOWN_ROLES]
    if unknown:
        shown = ", ".join(r if _CODE.fullmatch(r.upper()) else excerpt(r, 20) for r in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise ValueError(f"unknown role(s) {shown}{more}; known roles: {', '.join(sorted(KNOWN_ROLES))}")
    if len(set(roles)) != len(roles):
        raise ValueError(f"a role is listed twice in {excerpt(text)}")
    if not roles:
        raise ValueError("at least one role is required")
    return roles


def _tax_treatment(text: str) -> str:
    if text not in TAX_TREATMENTS:
        raise ValueError(f"{excerpt(text)} is not one of {', '.join(TAX_TREATMENTS)}")
    return text


def _period(text: str) -> str:
    period = _canonical(text, case="upper", max_length=16, what="a period (YYYY, YYYY-Qn or YYYY-MM)")
    period_kind(period)  # its ValueError already says what a period looks like
    return period


def _plain(text: str, field: str) -> Decimal:
    try:
        return plain_decimal(text, field)
    except InvalidAmount as exc:
        raise ValueError(str(exc).removeprefix(f"{field}: ")) from None


def _amount(text: str) -> str:
    """Plain decimal text, kept as written: its places and sign are checked against the line's currency
    (``checks.py``), once the currencies file has been read."""
    _plain(text, "amount")
    return text


def _tolerance(text: str) -> Decimal:
    pct = _plain(text, "tolerance_pct")
    exponent = pct.as_tuple().exponent  # an int: _plain refused NaN and infinity
    if isinstance(exponent, int) and -exponent > MAX_SCALE:
        raise ValueError(f"{text} has more than {MAX_SCALE} decimal places")
    if not Decimal(0) <= pct <= Decimal(100):
        raise ValueError(f"{text} is not a percentage from 0 to 100")
    return pct


def _control_mode(text: str) -> ControlMode:
    try:
        return ControlMode(text)
    except ValueError:
        raise ValueError(f"{excerpt(text)} is not one of FORBID, WARN, IGNORE") from None


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


# OA ids keep their case (DingTalk userids are case-sensitive); uniqueness compares identifier_key.
_OA_ID_PARSERS = {
    "dingtalk_userid": _identifier(_OA_USER_ID, "a DingTalk userid (letters, digits, '.', '_', '-' or '@', "
                                   "at most 100 characters)", case="keep", max_length=100),
    "wecom_userid": _identifier(_OA_USER_ID, "a WeCom userid (letters, digits, '.', '_', '-' or '@', "
                                "at most 100 characters)", case="keep", max_length=100),
    "feishu_open_id": _identifier(_FEISHU_OPEN_ID, "a Feishu open_id (ou_ then letters or digits, at most 100 "
                                  "characters)", case="keep", max_length=100),
}
_OA_DEPT_PARSERS = {
    "dingtalk_dept_id": _identifier(_NUMERIC_DEPT_ID, "a DingTalk dept_id (a whole number without leading zeros, "
                                    "e.g. 1 for the root)", case="keep", max_length=19),
    "wecom_dept_id": _identifier(_NUMERIC_DEPT_ID, "a WeCom department id (a whole number without leading zeros, "
                                 "e.g. 1 for the top)", case="keep", max_length=19),
    "feishu_dept_id": _identifier(_FEISHU_DEPT_ID, "a Feishu department_id (letters, digits, '_' or '-', at most 64 "
                                  "characters, e.g. od-4e6ac4d14bcd5071a37a39de902c7141 or a custom id)",
                                  case="keep", max_length=64),
}
_email = _identifier(_EMAIL, "an e-mail address", case="keep", max_length=200)
# Each ERP chart's GL account, by its expense_subjects.csv column; posting_rules.csv's accounts are read by the
# parser of their ERP's column (engine/domain/posting.py GL_COLUMN).
GL_PARSERS: dict[str, Callable[[str], str]] = {
    "gl_kingdee": _identifier(_GL_NUMBERED, "a Kingdee account like 6602.01"),
    "gl_yonyou": _identifier(_GL_NUMBERED, "a Yonyou account like 660201"),
    "gl_sap": _identifier(_GL_SAP, "an SAP G/L account like 6602010000"),
}
_NAME, _ACTIVE = Column("name", _text(200)), _optional("active", _boolean, default=True)
LAYOUTS: dict[str, tuple[Column, ...]] = {
    "currencies.csv": (
        Column("code", _currency), Column("name", _text(100)),
        _optional("minor_units", _minor_units, default=2),
    ),
    "org_units.csv": (
        Column("code", _code), _NAME, _optional("name_en", _text(200)), _optional("parent_code", _code),
        _optional("manager_code", _code), _ACTIVE,
        *(_optional(name, _OA_DEPT_PARSERS[name]) for name in OA_DEPT_FIELDS),
    ),
    "employees.csv": (
        Column("code", _code), _NAME, _optional("email", _email),
        Column("org_unit_code", _code), Column("roles", _roles),
        *(_optional(name, _OA_ID_PARSERS[name]) for name in OA_ID_FIELDS),
        _optional("erp_employee_code", _erp_code), _optional("erp_vendor_code", _erp_code), _ACTIVE,
    ),
    "expense_subjects.csv": (
        Column("code", _code), _NAME, _optional("name_en", _text(200)),
        *(_optional(name, parse) for name, parse in GL_PARSERS.items()),
        Column("tax_treatment", _tax_treatment), _ACTIVE,
    ),
    "cost_centers.csv": (Column("code", _code), _NAME, Column("org_unit_code", _code), _ACTIVE,
                         _optional("owner", _code)),
    "budget_lines.csv": (
        Column("period", _period), _optional("org_unit_code", _code), _optional("cost_center_code", _code),
        Column("subject_code", _code), _optional("project", _code), Column("amount", _amount),
        Column("currency", _currency),
        Column("control_mode", _control_mode), _optional("tolerance_pct", _tolerance, default=Decimal(0)),
        _optional("owner", _code),
    ),
}

# ---------------------------------------------------------------- OA form mappings (optional file)

# Patterns of engine/domain/oa_forms.py's mappings: an OA template id keeps its case (DingTalk processCode
# PROC-..., WeCom template_id, Feishu approval_code); a BPMN process id; a document field name.
_OA_TEMPLATE = re.compile(r"[!-~]{1,128}")  # visible ASCII, no spaces
_PROCESS_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_DOCUMENT_FIELD = re.compile(r"[a-z_][a-z0-9_]{0,63}")


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"{excerpt(text)} is not one of {', '.join(choices)}")
        return text
    return parse


def _pattern(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if not pattern.fullmatch(text):
            raise ValueError(f"{excerpt(text)} is not {what}")
        return text
    return parse


OA_FORMS = "oa_forms.csv"
LAYOUTS[OA_FORMS] = (
    Column("vendor", _one_of(VENDORS)),
    Column("template", _identifier(_OA_TEMPLATE, "an OA template id (letters, digits and ASCII punctuation, at "
                                   "most 128 characters)", case="keep", max_length=128)),
    Column("direction", _one_of(DIRECTIONS)),
    Column("process_id", _pattern(_PROCESS_ID, "a process id (a letter or '_', then letters, digits or '_', "
                                  "at most 128 characters)")),
    _optional("field", _pattern(_DOCUMENT_FIELD, "a document field (a-z, 0-9 and '_', not starting with a "
                                "digit, at most 64 characters)")),
    Column("oa_field", _text(128)),
    Column("type", _one_of(FIELD_TYPES)),
    _optional("required", _boolean, default=False),
)

# ---------------------------------------------------------------- ERP posting rules (optional file)

# An ERP's voucher type: Kingdee voucher group PRE001, Yonyou 01 or 记 (a Chinese character is its usual name),
# SAP document type SA.
_VOUCHER_TYPE = re.compile(r"[A-Z0-9\u4e00-\u9fff][A-Z0-9.\u4e00-\u9fff_-]{0,63}")
_FORMATTER = string.Formatter()


def _account(text: str) -> str:
    """A GL account in canonical form; its pattern depends on the row's ERP (posting_rule_checks.py)."""
    return _canonical(text, case="upper", max_length=64, what="a GL account")


def _summary(text: str) -> str:
    """A voucher summary template: ``{name}`` placeholders from SUMMARY_FIELDS, ``{{``/``}}`` for braces.

    Placeholders are plain names: no ``{total:>9999}`` (a format spec could make any length of text), no
    ``{applicant.attr}`` (``format_map`` would read attributes).
    """
    _text(200)(text)
    try:
        parts = list(_FORMATTER.parse(text))
    except ValueError:
        raise ValueError(f"{excerpt(text)} has a '{{' or '}}' without its pair; write {{{{ or }}}} for a brace "
                         "itself") from None
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        shown = excerpt("{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}")
        if name not in SUMMARY_FIELDS:
            raise ValueError(f"unknown placeholder {shown}; placeholders: "
                             f"{', '.join('{' + field + '}' for field in SUMMARY_FIELDS)}")
        if spec or conversion:
            raise ValueError(f"placeholder {shown} has a format; write {{{name}}}")
    return text


def _dimension_names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(";") if name.strip())
    unknown = [name for name in names if name not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimension(s) {', '.join(excerpt(name, 20) for name in unknown[:5])}; "
                         f"dimensions: {', '.join(DIMENSIONS)}")
    if len(set(names)) != len(names):
        raise ValueError(f"a dimension is listed twice in {excerpt(text)}")
    if not names:
        raise ValueError(f"names no dimension; dimensions: {', '.join(DIMENSIONS)}")
    return names


POSTING_RULES = "posting_rules.csv"
LAYOUTS[POSTING_RULES] = (
    Column("erp", _one_of(ERPS)),
    Column("book", _erp_code),
    Column("voucher_type", _identifier(_VOUCHER_TYPE, "a voucher type (A-Z, 0-9, Chinese characters, '.', '_' "
                                       "or '-', at most 64 characters)")),
    Column("payable_account", _account),
    _optional("vat_input_account", _account),
    _optional("summary", _summary, default=DEFAULT_SUMMARY),
    _optional("expense_dimensions", _dimension_names, default=PostingRule.expense_dimensions),
    _optional("payable_dimensions", _dimension_names, default=PostingRule.payable_dimensions),
    _optional("book_currency", _currency, default=PostingRule.book_currency),
)
# ---------------------------------------------------------------- lanes (optional file)

# A lane's name as diagrams write it (bpmn:lane name); the rule's parameter is checked by its rule
# (lane_checks.py).
_LANE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,63}")
LANES_FILE = "lanes.csv"
LAYOUTS[LANES_FILE] = (
    Column("lane", _pattern(_LANE_NAME, "a lane name (a-z, 0-9 and '_', not starting with a digit, at most 64 "
                            "characters)")),
    Column("rule", _one_of(tuple(RULES))),
    _optional("parameter", _text(200)),
    _optional("fallback", _one_of(tuple(f for f in FALLBACKS if f)), default=""),
    _optional("skip_prior_approvers", _boolean),
    _optional("description", _text(200)),
)

# Files a dictionary may leave out: a company that approves only in budgetflow maps no OA forms, one that
# posts no vouchers to an ERP has no posting rules, and one content with the built-in lanes has no lanes.csv.
OPTIONAL_FILES = frozenset({OA_FORMS, POSTING_RULES, LANES_FILE})
DICTIONARY_FILES = (MANIFEST, *LAYOUTS)

