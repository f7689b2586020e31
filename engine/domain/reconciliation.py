"""Reconciliation: what budgetflow posted against what the ERP's book holds, and budget against actuals.

Four kinds of difference, each a ``Difference`` that names the claim, the voucher and what disagrees:

- ``missing``: a voucher budgetflow posted is not in the ERP (deleted, or posted to another book);
- ``changed``: it is there, but its lines are not what was posted (an amount or an account edited in the ERP);
- ``duplicated``: the ERP holds more than one voucher for one claim: two under budgetflow's reference, or one
  entered by hand with the same date, accounts and amounts;
- ``actuals``: for an (expense account, cost center), the budget consumed in budgetflow differs from the
  ERP's actuals. The ERP's actuals are gross: the expense lines plus the input VAT budgetflow split off them
  (which the ERP books on its own account), so both sides count what the budget controls.

A clean book gives no difference at all.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from connectors.erp import BookedVoucher, VoucherLine

Signature = tuple[tuple[str, Decimal, Decimal], ...]
ActualsKey = tuple[str, str]  # (expense account, cost center or "")


@dataclass(frozen=True)
class PostedRecord:
    """A voucher as budgetflow posted it (and recorded it)."""

    erp: str
    key: str
    document_no: str
    voucher_no: str
    posting_date: date
    currency: str
    total: Decimal
    lines: tuple[VoucherLine, ...]
    paid_on: date | None = None
    vat_by_account: Mapping[str, Decimal] | None = None  # input VAT split off each expense account


@dataclass(frozen=True)
class Difference:
    kind: str  # missing, changed, duplicated, actuals
    detail: str
    document_no: str = ""
    voucher_no: str = ""  # the ERP's, where there is one (several: comma-separated)
    account: str = ""
    cost_center: str = ""
    expected: str = ""  # budgetflow's side
    found: str = ""  # the ERP's side

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare_vouchers(ours: Sequence[PostedRecord], theirs: Sequence[BookedVoucher]) -> list[Difference]:
    """Missing, changed and duplicated vouchers (see the module docstring)."""
    by_reference: dict[str, list[BookedVoucher]] = defaultdict(list)
    for voucher in theirs:
        by_reference[voucher.reference].append(voucher)
    by_hand = Counter((v.posting_date, signature(v.lines)) for v in by_reference.get("", []))
    hand_numbers = defaultdict(list)
    for voucher in by_reference.get("", []):
        hand_numbers[(voucher.posting_date, signature(voucher.lines))].append(voucher.voucher_no)
    differences = []
    for record in ours:
        found = by_reference.get(record.key, [])
        numbers = ", ".join(v.voucher_no for v in found)
        if not found:
            differences.append(Difference("missing", f"voucher {record.voucher_no} is not in the ERP",
                                          record.document_no, record.voucher_no, expected=str(record.total)))
            continue
        if len(found) > 1:
            differences.append(Difference("duplicated", f"{len(found)} vouchers in the ERP carry {record.key}",
                                          record.document_no, numbers, expected="1", found=str(len(found))))
        copies = by_hand.get((record.posting_date, signature(record.lines)), 0)
        if copies:
            differences.append(Difference("duplicated", "a voucher entered by hand has the same date, accounts "
                                          "and amounts", record.document_no,
                                          ", ".join(hand_numbers[(record.posting_date, signature(record.lines))]),
                                          expected="1", found=str(1 + copies)))
        changed = next((v for v in found if signature(v.lines) != signature(record.lines)), None)
        if changed is not None:
            differences.append(_changed(record, changed))
    return differences


def compare_actuals(consumed: Mapping[ActualsKey, Decimal], actuals: Mapping[ActualsKey, Decimal]) -> list[Difference]:
    """One ``actuals`` difference per (account, cost center) where the two sides disagree."""
    differences = []
    for account, cost_center in sorted(set(consumed) | set(actuals)):
        ours = consumed.get((account, cost_center), Decimal(0))
        theirs = actuals.get((account, cost_center), Decimal(0))
        if ours != theirs:
            differences.append(Difference("actuals", f"budget consumed {_money(ours)}, ERP actuals {_money(theirs)} "
                                          f"(difference {_money(theirs - ours)})", account=account,
                                          cost_center=cost_center, expected=_money(ours), found=_money(theirs)))
    return differences


def erp_actuals(theirs: Iterable[BookedVoucher], expense_accounts: set[str],
                vat_of: Mapping[str, Mapping[str, Decimal]]) -> dict[ActualsKey, Decimal]:
    """The ERP's gross actuals per (expense account, cost center): expense lines net of credits, plus the input
    VAT budgetflow split off them (``vat_of``: reference -> account -> VAT) for the vouchers it posted."""
    totals: dict[ActualsKey, Decimal] = defaultdict(Decimal)
    for voucher in theirs:
        for key, amount in _gross(voucher.lines, expense_accounts, vat_of.get(voucher.reference, {})).items():
            totals[key] += amount
    return dict(totals)


def budget_actuals(ours: Sequence[PostedRecord], consumed: Mapping[str, Mapping[ActualsKey, Decimal]],
                   expense_accounts: set[str]) -> dict[ActualsKey, Decimal]:
    """The actuals the budget expects per (expense account, cost center), for the claims budgetflow posted.

    A claim consumes its total on one budget line (its header's subject), while its voucher books each invoice
    line on that line's subject's account; so each claim's consumption is spread as its posted voucher spread
    it, and whatever the ledger consumed beyond (or short of) the voucher's total stays on the budget line's own
    account: that is a difference between the budget and the books, and reported as one.
    """
    totals: dict[ActualsKey, Decimal] = defaultdict(Decimal)
    for record in ours:
        posted = _gross(record.lines, expense_accounts, record.vat_by_account or {})
        ledger = consumed.get(record.document_no, {})
        for key, amount in posted.items():
            totals[key] += amount
        rest = sum(ledger.values(), Decimal(0)) - sum(posted.values(), Decimal(0))
        if rest:
            totals[next(iter(sorted(ledger))) if ledger else ("", "")] += rest
    return dict(totals)


def _gross(lines: Iterable[VoucherLine], expense_accounts: set[str],
           vat: Mapping[str, Decimal]) -> dict[ActualsKey, Decimal]:
    totals: dict[ActualsKey, Decimal] = defaultdict(Decimal)
    vat_left = dict(vat)
    for line in lines:
        if line.account in expense_accounts:
            key = (line.account, line.dimension("cost_center") or "")
            totals[key] += line.debit - line.credit + vat_left.pop(line.account, Decimal(0))
    return dict(totals)


def _money(amount: Decimal) -> str:
    """Plain text at two places where that loses nothing (the ledger keeps four)."""
    cents = amount.quantize(Decimal("0.01"))
    return str(cents if cents == amount else amount.normalize())


def signature(lines: Iterable[VoucherLine]) -> Signature:
    """What a voucher books, independent of line order and memo text: (account, debit, credit), sorted."""
    return tuple(sorted((x.account, x.debit.normalize(), x.credit.normalize()) for x in lines))


def _changed(record: PostedRecord, found: BookedVoucher) -> Difference:
    posted, held = Counter(signature(record.lines)), Counter(signature(found.lines))
    first = next(iter(sorted((posted - held) + (held - posted))))
    return Difference("changed", f"the ERP's voucher {found.voucher_no} books {found.total} where "
                      f"{record.total} was posted", record.document_no, found.voucher_no, account=first[0],
                      expected=str(record.total), found=str(found.total))


def report(erp: str, start: date, end: date, ours: int, theirs: int,
           differences: Sequence[Difference]) -> dict[str, Any]:
    return {"erp": erp, "start": start.isoformat(), "end": end.isoformat(),
            "vouchers": {"budgetflow": ours, "erp": theirs},
            "differences": [d.as_dict() for d in differences]}
