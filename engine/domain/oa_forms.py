"""OA form mappings: which OA form control holds which document field, and the values moved across.

A mapping comes from the data dictionary's ``oa_forms.csv`` (docs/master-data.md), one per OA template:

- ``in`` (mode 1): approvals of the template finished in the OA start process ``process_id``; ``incoming``
  turns the OA's form values into the document's fields;
- ``out`` (mode 2): the process's ``oa/CreateApproval`` creates approvals of the template; ``outgoing``
  gives each mapped control its typed value from the document.

Both list *every* problem in one OaFormInvalid, each naming the vendor, the template, the OA control and the
document field, so whoever fixes the mapping or the OA template sees all of it at once.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import tzinfo

from engine.domain.errors import OaFormInvalid
from engine.domain.money import format_amount
from engine.domain.oa_form_values import (
    CHINA_STANDARD_TIME,
    MONEY_CURRENCY,
    is_blank,
    to_date,
    to_money,
    to_number,
    to_text,
)
from engine.domain.untrusted_text import excerpt

FIELD_TYPES = ("text", "money", "number", "date", "ignore")
VENDORS = ("dingtalk", "wecom", "feishu")
DIRECTIONS = ("in", "out")


@dataclass(frozen=True)
class OaFormField:
    field: str  # the document field; blank for an ``ignore`` control
    oa_field: str  # the OA control: DingTalk component name, WeCom control id, Feishu widget id
    type: str
    required: bool


@dataclass(frozen=True)
class OaForm:
    vendor: str
    template: str
    direction: str
    process_id: str
    fields: tuple[OaFormField, ...]


def control_key(name: str) -> str:
    """How OA control names are compared: NFKC (金额（元） is 金额(元)), case folded, outer spaces dropped.

    The dictionary refuses two controls of one template with the same key, so matching this loosely never
    makes two controls one; it only spares a mapping from failing on the width of a parenthesis.
    """
    return unicodedata.normalize("NFKC", name).casefold().strip()


def incoming(form: OaForm, values: Mapping[str, object], *,
             calendar: tzinfo = CHINA_STANDARD_TIME) -> dict[str, object]:
    """The document's fields from the OA's form ``values`` (OA control → value as the OA reported it).

    Text comes back stripped, money and numbers as plain decimal text (``"1234.50"``), dates as
    ``"YYYY-MM-DD"`` (epoch times read in ``calendar``). OaFormInvalid lists every problem: a required
    control missing or blank, a value of the wrong type, a control the mapping does not name.
    """
    problems: list[str] = []
    given = _match_controls(form, values, problems)
    document: dict[str, object] = {}
    for mapped in form.fields:
        if mapped.type == "ignore":
            continue
        value = given.get(mapped.oa_field)
        if is_blank(value):
            if mapped.required:
                problems.append(f"{_where(form, mapped)}: is required but the OA form left it blank or missing")
            continue
        try:
            document[mapped.field] = _INCOMING[mapped.type](value, calendar)
        except ValueError as exc:
            problems.append(f"{_where(form, mapped)}: {exc}")
    if problems:
        raise OaFormInvalid(problems)
    return document


def _match_controls(form: OaForm, values: Mapping[str, object], problems: list[str]) -> dict[str, object]:
    """The value of each mapped control (by its ``oa_field``); unmapped controls that hold a value are problems."""
    mapped = {control_key(f.oa_field): f.oa_field for f in form.fields}
    given: dict[str, object] = {}
    for control, value in values.items():
        name = mapped.get(control_key(str(control)))
        if name is None:
            if not is_blank(value):
                problems.append(f"{form.vendor} template {form.template}: unmapped OA field {excerpt(str(control))}: "
                                "map it or mark it ignore in oa_forms.csv")
        elif name in given:  # 金额(元) and 金额（元） both sent: which one is meant cannot be told
            problems.append(f"{form.vendor} template {form.template}: OA field {excerpt(str(control))} is given "
                            f"twice (also as {excerpt(name)})")
        else:
            given[name] = value
    return given


def outgoing(form: OaForm, data: Mapping[str, object]) -> list[tuple[OaFormField, object]]:
    """Each mapped control in order with its value from the document's variables ``data``: text as str,
    money and numbers as Decimal, dates as ``datetime.date``. A missing optional field is left out;
    OaFormInvalid lists every required field missing and every value of the wrong type."""
    problems: list[str] = []
    controls: list[tuple[OaFormField, object]] = []
    for mapped in form.fields:
        if mapped.type == "ignore":
            continue
        value = data.get(mapped.field)
        if is_blank(value):
            if mapped.required:
                problems.append(f"{_where(form, mapped)}: is required but the document has no {mapped.field}")
            continue
        try:
            controls.append((mapped, _OUTGOING[mapped.type](value)))
        except ValueError as exc:
            problems.append(f"{_where(form, mapped)}: {exc}")
    if problems:
        raise OaFormInvalid(problems)
    return controls


def _where(form: OaForm, mapped: OaFormField) -> str:
    """``dingtalk template PROC-X: 金额(元) (amount)``: where a problem is, in the mapping's own words."""
    return f"{form.vendor} template {form.template}: {mapped.oa_field} ({mapped.field})"


_INCOMING: dict[str, Callable[[object, tzinfo], object]] = {
    "text": lambda value, _calendar: to_text(value),
    "money": lambda value, _calendar: format_amount(to_money(value), MONEY_CURRENCY),
    "number": lambda value, _calendar: format(to_number(value), "f"),
    "date": lambda value, calendar: to_date(value, calendar).isoformat(),
}
_OUTGOING: dict[str, Callable[[object], object]] = {
    "text": to_text,
    "money": to_money,
    "number": to_number,
    "date": to_date,  # the document's "YYYY-MM-DD" text, or a date
}
