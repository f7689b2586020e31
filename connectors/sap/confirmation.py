"""SAP's confirmation read: the accounting document, or SAP's refusal log as field errors.

SAP answers a refusal with HTTP 200: ``AccountingDocument`` ``0000000000`` and a ``Log`` whose
``MaximumLogItemSeverityCode`` is 3 (1 information, 2 warning, 3 error). Each error item becomes a
``FieldError``; the convention budgetflow reads (the emulator's, unverified against a live tenant, where the
message ids are SAP's own and may differ):

- the field comes from the item's ``TypeID``, SAP's language-independent message id ``<number>(<class>)``
  (the ``Note`` is in the communication user's logon language), through ``MESSAGE_FIELDS``; an id not in
  the table gives ``Item`` when the item names a line and ``JournalEntry`` otherwise;
- the line is ``ReferenceObjectNodeSequenceID`` (SAP's log field for the node a message is about): the
  journal entry item's ``ReferenceDocumentItem``, which budgetflow numbers 1, 2, ... like the voucher's lines.
  Empty means the header.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.erp import FieldError
from connectors.sap.request import refused

NO_DOCUMENT = "0000000000"
ERROR = 3
MESSAGE_FIELDS = {
    "153(F5)": "GLAccount",  # GL account does not exist in company code
    "165(F5)": "CompanyCode",  # company code does not exist
    "814(F5)": "AccountingDocumentType",  # document type is not defined
    "248(KI)": "CostCenter",  # cost center does not exist
    "702(F5)": "AmountInTransactionCurrency",  # balance in transaction currency is not zero
    "703(F5)": "AmountInCompanyCodeCurrency",  # balance in company code currency is not zero
    "040(F5)": "DebitCreditCode",  # debit/credit code and the amount's sign disagree
    "041(F5)": "AmountInTransactionCurrency",  # an item without an amount
}


@dataclass(frozen=True)
class Confirmed:
    accounting_document: str
    company_code: str
    fiscal_year: str


def read_confirmation(answer: Mapping[str, Any]) -> Confirmed:
    """The posted document; a refusal raises POST_FAILED with SAP's error items as field errors."""
    confirmations = answer.get("JournalEntryCreateConfirmation") or [{}]
    first = confirmations[0] or {}
    document = first.get("JournalEntryCreateConfirmation") or {}
    log = first.get("Log") or answer.get("Log") or {}
    number = str(document.get("AccountingDocument") or "")
    if number.strip("0") and _severity(log.get("MaximumLogItemSeverityCode")) < ERROR:
        return Confirmed(number, str(document.get("CompanyCode") or ""), str(document.get("FiscalYear") or ""))
    items = list(log.get("Item") or [])
    errors = [item for item in items if _severity(item.get("SeverityCode")) >= ERROR] or items
    field_errors = [field_error(item) for item in errors] or [
        FieldError("JournalEntry", None, "SAP posted nothing and logged no reason")]
    more = f" (and {len(field_errors) - 1} more)" if len(field_errors) > 1 else ""
    raise refused(f"refused the journal entry: {field_errors[0].message}{more}", *field_errors)


def field_error(item: Mapping[str, Any]) -> FieldError:
    sequence = str(item.get("ReferenceObjectNodeSequenceID") or "").strip()
    line = int(sequence) if sequence.isdigit() and int(sequence) > 0 else None
    fallback = "Item" if line else "JournalEntry"
    field = MESSAGE_FIELDS.get(str(item.get("TypeID") or "").strip(), fallback)
    return FieldError(field, line, str(item.get("Note") or "")[:300])


def _severity(code: Any) -> int:
    text = str(code or "").strip()
    return int(text) if text.isdigit() else 0
