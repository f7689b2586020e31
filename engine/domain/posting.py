"""Posting rules, and the voucher (凭证) they make of a claim: balanced always, in the ERP's own codes.

A claim line carries an expense subject, an amount including tax and the tax on its invoice. Its voucher:

- one debit per (expense account, dimensions): the subject's GL account for the configured ERP, with the
  amount net of deductible input VAT; a subject whose VAT may not be deducted (meals, entertainment) or that
  has none takes the whole amount;
- one debit on the input VAT account (进项税额) for the deductible tax, when there is any;
- one credit on the payable account (其他应付款) for the total the employee is owed.

Lines of the same account and dimensions are merged (finance reads one line per account, as the ERP prints
it). Amounts are in the claim's currency, rounded to its minor units; the credit is the sum of the rounded
debits, so the voucher balances whatever the rounding. A missing mapping is a ``PostingInvalid`` that names the
claim line and what to fix; nothing half-built reaches the ERP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.erp import DIMENSIONS, VoucherDraft, VoucherLine
from engine.domain.errors import InvalidAmount
from engine.domain.money import parse_amount

ERPS = ("local", "kingdee", "yonyou_u8", "yonbip", "sap")
# Which expense_subjects.csv column holds each ERP's GL account (U8 and YonBIP share Yonyou's chart; the local
# ERP books on the Kingdee chart, the demo's default).
GL_COLUMN = {"local": "gl_kingdee", "kingdee": "gl_kingdee", "yonyou_u8": "gl_yonyou", "yonbip": "gl_yonyou",
             "sap": "gl_sap"}
DEDUCTIBLE = frozenset({"deductible", "passenger_transport"})
SUMMARY_FIELDS = ("document_no", "applicant", "applicant_name", "subjects", "total", "currency")
DEFAULT_SUMMARY = "报销 {document_no} {applicant_name} {subjects}"


@dataclass(frozen=True)
class PostingRule:
    """One row of the data dictionary's ``posting_rules.csv``: how claims are posted to one ERP."""

    erp: str  # one of ERPS
    book: str  # account book (账簿) / SAP company code
    voucher_type: str  # Kingdee voucher group (PRE001 记), Yonyou voucher type, SAP document type (SA)
    payable_account: str  # what the company owes the employee until paid (其他应付款)
    vat_input_account: str | None  # deductible input VAT (应交税费-进项税额); None: no subject deducts VAT
    summary: str = DEFAULT_SUMMARY  # the voucher's explanation; placeholders from SUMMARY_FIELDS
    expense_dimensions: tuple[str, ...] = ("department", "cost_center")  # from DIMENSIONS
    payable_dimensions: tuple[str, ...] = ("employee",)
    book_currency: str = "CNY"


# The built-in local ERP posts on the Kingdee chart of the demo when the dictionary has no rule for it.
LOCAL_RULE = PostingRule("local", "LOCAL", "记", "2241", "2221.01.01")


@dataclass(frozen=True)
class SubjectAccount:
    """An expense subject as posting needs it: its GL account in the configured ERP, and its VAT treatment."""

    account: str | None
    tax_treatment: str
    name: str = ""


@dataclass(frozen=True)
class Applicant:
    """The applicant's codes in the ERP, by neutral dimension name (department, cost_center, employee, vendor)."""

    code: str
    name: str
    dimensions: Mapping[str, str]


@dataclass(frozen=True)
class DraftFacts:
    """What one claim's voucher reads from the data dictionary besides the rule and the chart (one look-up)."""

    applicant: Applicant
    minor_units: int | None  # of the claim's currency; None: the dictionary does not know it
    attachments: int  # the claim's receipts and e-invoices


class PostingInvalid(InvalidAmount):
    """The claim cannot be posted as the rules stand; ``errors`` name each field, line and what to fix."""

    def __init__(self, errors: Sequence[dict[str, Any]]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"line {e['line']} {e['field']}: {e['message']}" if e["line"] else
                                   f"{e['field']}: {e['message']}" for e in self.errors))


def build_voucher(*, document_no: str, currency: str, lines: Sequence[Mapping[str, Any]], rule: PostingRule,
                  subjects: Mapping[str, SubjectAccount], applicant: Applicant, minor_units: int = 2,
                  attachments: int = 0, posting_date: date | None = None) -> VoucherDraft:
    """The balanced voucher of a claim (see the module docstring), or PostingInvalid naming every problem."""
    if currency != rule.book_currency:
        raise PostingInvalid([_problem(None, "currency", f"the claim is in {currency} and {rule.erp}'s book "
                                       f"{rule.book} in {rule.book_currency}; claims in another currency cannot be "
                                       "posted yet")])
    quantum = Decimal(1).scaleb(-minor_units)
    debits: dict[tuple[str, tuple[tuple[str, str], ...]], Decimal] = {}
    memos: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
    problems: list[dict[str, Any]] = []
    expense_dims = _dimensions(applicant, rule.expense_dimensions)
    for n, line in enumerate(lines, start=1):
        found = _line_debits(n, line, currency, minor_units, rule, subjects, problems, document_no)
        for account, amount, memo in found:
            key = (account, () if account == rule.vat_input_account else expense_dims)
            debits[key] = debits.get(key, Decimal(0)) + amount
            memos.setdefault(key, memo)
    if not lines:
        problems.append(_problem(None, "lines", "the claim has no lines to post"))
    if problems:
        raise PostingInvalid(problems)
    voucher_lines = [VoucherLine(account, _round(amount, quantum), Decimal(0), memos[(account, dims)], dims)
                     for (account, dims), amount in debits.items() if _round(amount, quantum)]
    total = sum((x.debit for x in voucher_lines), Decimal(0))
    summary = _summary(rule.summary, document_no, applicant, currency, total, lines, subjects)
    voucher_lines.append(VoucherLine(rule.payable_account, Decimal(0), total, summary,
                                     _dimensions(applicant, rule.payable_dimensions)))
    return VoucherDraft(document_no, currency, tuple(voucher_lines), posting_date=posting_date, summary=summary,
                        attachments=attachments, book=rule.book, voucher_type=rule.voucher_type)


def _line_debits(n: int, line: Mapping[str, Any], currency: str, places: int, rule: PostingRule,
                 subjects: Mapping[str, SubjectAccount], problems: list[dict[str, Any]],
                 document_no: str) -> list[tuple[str, Decimal, str]]:
    """(account, amount, memo) debits of claim line ``n``: the expense net of deductible VAT, and the VAT."""
    if not isinstance(line, Mapping):
        problems.append(_problem(n, "line", "is not a claim line"))
        return []
    code = str(line.get("subject", ""))
    subject = subjects.get(code)
    try:
        amount = parse_amount(line.get("amount"), currency=currency, field="amount", places=places)
        tax = parse_amount(line.get("tax") or "0", currency=currency, field="tax", sign="non_negative",
                           places=places)
    except InvalidAmount as exc:
        problems.append(_problem(n, "amount", str(exc)))
        return []
    if subject is None or not subject.account:
        problems.append(_problem(n, "subject", f"expense subject {code!r} has no GL account for {rule.erp}: set "
                                 f"{GL_COLUMN.get(rule.erp, 'its GL column')} in expense_subjects.csv"))
        return []
    if tax > amount:
        problems.append(_problem(n, "tax", f"tax {tax} is more than the amount {amount}"))
        return []
    memo = f"{document_no} {subject.name or code}".strip()
    if tax and subject.tax_treatment in DEDUCTIBLE:
        if not rule.vat_input_account:
            problems.append(_problem(n, "tax", f"{code} deducts input VAT but posting_rules.csv has no "
                                     f"vat_input_account for {rule.erp}"))
            return []
        return [(subject.account, amount - tax, memo), (rule.vat_input_account, tax, f"{document_no} 进项税额")]
    return [(subject.account, amount, memo)]


def _dimensions(applicant: Applicant, names: Sequence[str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((name, applicant.dimensions[name]) for name in names
                        if name in DIMENSIONS and applicant.dimensions.get(name)))


def _round(amount: Decimal, quantum: Decimal) -> Decimal:
    return amount.quantize(quantum, rounding=ROUND_HALF_UP)


def _summary(template: str, document_no: str, applicant: Applicant, currency: str, total: Decimal,
             lines: Sequence[Mapping[str, Any]], subjects: Mapping[str, SubjectAccount]) -> str:
    names = dict.fromkeys((subjects[str(x.get("subject"))].name or str(x.get("subject"))) for x in lines
                          if isinstance(x, Mapping) and str(x.get("subject")) in subjects)
    values = {"document_no": document_no, "applicant": applicant.code, "applicant_name": applicant.name,
              "subjects": "、".join(names), "total": str(total), "currency": currency}
    return " ".join(template.format_map(values).split())[:200]


def _problem(line: int | None, field: str, message: str) -> dict[str, Any]:
    return {"field": field, "line": line, "message": message}


def input_vat_by_account(lines: Sequence[Mapping[str, Any]], subjects: Mapping[str, SubjectAccount],
                         rule: PostingRule) -> dict[str, Decimal]:
    """The deductible input VAT split off each expense account (reconciliation adds it back to compare the
    ERP's actuals with the gross amounts the budget consumed). Call it on lines build_voucher accepted."""
    vat: dict[str, Decimal] = {}
    for line in lines:
        subject = subjects.get(str(line.get("subject", "")))
        tax = Decimal(str(line.get("tax") or "0"))
        if subject is not None and subject.account and tax and subject.tax_treatment in DEDUCTIBLE \
                and rule.vat_input_account:
            vat[subject.account] = vat.get(subject.account, Decimal(0)) + tax
    return vat
