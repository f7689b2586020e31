"""The SAP emulator's business checks of a journal entry: what SAP answers with HTTP 200, AccountingDocument
0000000000 and error items in the Log (severity 3). Message ids and texts are modelled on SAP's (message
class and number in ``TypeID``) but are the emulator's: a live tenant's ids are unverified.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from decimal import Decimal

from connectors.emulators.sap.envelope import EntryIn, ItemIn, LogItem

DOCUMENT_TYPES = frozenset({"SA", "AB", "KR", "KZ", "DR", "DZ"})
ERROR = 3


def errors(entry: EntryIn, *, company_codes: Collection[str], cost_centers: Collection[str],
           rejected_account: Callable[[str], bool]) -> list[LogItem]:
    company = entry.header["CompanyCode"]
    found: list[LogItem] = []
    if company not in company_codes:
        found.append(LogItem("165(F5)", ERROR, f"Company code {company} does not exist"))
    doc_type = entry.header["AccountingDocumentType"]
    if doc_type not in DOCUMENT_TYPES:
        found.append(LogItem("814(F5)", ERROR, f"Document type {doc_type} is not defined"))
    for item in entry.items:
        found += _item_errors(item, company, entry, cost_centers, rejected_account)
    currency = entry.items[0].currency
    found += [LogItem("043(F5)", ERROR, f"Currency {item.currency} differs from the entry's currency {currency}",
                      item.sequence) for item in entry.items if item.currency != currency]
    found += _balance_errors(entry.items)
    return found


def _item_errors(item: ItemIn, company: str, entry: EntryIn, cost_centers: Collection[str],
                 rejected_account: Callable[[str], bool]) -> list[LogItem]:
    found = []
    if rejected_account(item.gl_account):
        found.append(LogItem("153(F5)", ERROR, f"GL account {item.gl_account} does not exist in company code "
                             f"{company}", item.sequence))
    cost_center = item.fields.get("CostCenter")
    if cost_centers and cost_center and cost_center not in cost_centers:
        found.append(LogItem("248(KI)", ERROR, f"Cost center {cost_center} does not exist on "
                             f"{entry.posting_date.strftime('%m/%d/%Y')}", item.sequence))
    if not item.amount:
        found.append(LogItem("041(F5)", ERROR, "Enter an amount in the item", item.sequence))
    elif item.debit_credit not in ("S", "H") or (item.amount > 0) != (item.debit_credit == "S"):
        found.append(LogItem("040(F5)", ERROR, f"Debit/credit code {item.debit_credit} does not match the sign "
                             f"of amount {item.amount}", item.sequence))
    return found


def _balance_errors(items: list[ItemIn]) -> list[LogItem]:
    """Balanced per transaction currency, and in company code currency when the items carry it."""
    balances: dict[str, Decimal] = {}
    local: dict[str, Decimal] = {}
    for item in items:
        balances[item.currency] = balances.get(item.currency, Decimal(0)) + item.amount
        if item.local is not None:
            local[item.local[1]] = local.get(item.local[1], Decimal(0)) + item.local[0]
    return [LogItem("702(F5)", ERROR, f"Balance in transaction currency {currency}: {balance:.2f}")
            for currency, balance in sorted(balances.items()) if balance] + [
        LogItem("703(F5)", ERROR, f"Balance in company code currency {currency}: {balance:.2f}")
        for currency, balance in sorted(local.items()) if balance]
