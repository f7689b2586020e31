"""Build the expense voucher (凭证) of a claim: debit each expense account, credit the employee payable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from connectors.erp import VoucherDraft, VoucherLine
from engine.domain.errors import InvalidAmount
from engine.domain.money import parse_amount

PAYABLE_ACCOUNT = "2241"  # other payables: what the company owes the employee until paid


def build_voucher(*, document_no: str, currency: str, applicant_vendor: str | None,
                  lines: Sequence[Mapping[str, Any]], accounts: Mapping[str, str]) -> VoucherDraft:
    """One debit line per claim line on its subject's GL account, one credit for the total; balanced."""
    debits = []
    for n, line in enumerate(lines, start=1):
        if not isinstance(line, Mapping):
            raise InvalidAmount(f"{document_no} line {n}: not a claim line")
        subject = str(line.get("subject", ""))
        amount = parse_amount(line.get("amount"), currency=currency, field=f"{document_no} line {n} amount")
        account = accounts.get(subject)
        if not account:
            raise InvalidAmount(f"{document_no} line {n}: expense subject {subject!r} has no GL account")
        debits.append(VoucherLine(account, amount, Decimal(0), f"{document_no} {subject}"))
    total = sum((d.debit for d in debits), Decimal(0))
    credit = VoucherLine(PAYABLE_ACCOUNT, Decimal(0), total, f"{document_no} payable {applicant_vendor or ''}".strip())
    return VoucherDraft(document_no, currency, (*debits, credit))
