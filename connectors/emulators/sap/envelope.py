"""The SOAP side of the SAP emulator: the request envelope read with lxml, the confirmation and Faults written.

What a message must hold to be read at all (SAP's runtime answers a message it cannot deserialize with a SOAP
Fault, HTTP 500, faultcode ``soap-env:Client``): well-formed XML, a SOAP 1.1 envelope whose body is
``sfin:JournalEntryBulkCreateRequest``, the JournalEntry's required elements, and amounts and dates in XML
Schema's lexical forms. Everything else is the business check's (``connectors/emulators/sap/validation.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SFIN = "http://sap.com/xi/SAPSCORE/SFIN"
NSMAP = {"soap-env": SOAP_ENV, "n0": SFIN}
HEADER_REQUIRED = ("OriginalReferenceDocumentType", "BusinessTransactionType", "AccountingDocumentType",
                   "CreatedByUser", "CompanyCode", "DocumentDate", "PostingDate")
ITEM_REQUIRED = ("GLAccount", "AmountInTransactionCurrency", "DebitCreditCode")
MAX_LENGTH = {"DocumentReferenceID": 16, "DocumentHeaderText": 25, "DocumentItemText": 50}  # SAP's XSD facets
ASSIGNMENTS = ("CostCenter", "ProfitCenter", "FunctionalArea", "BusinessArea", "Segment", "OrderID", "WBSElement")


class Malformed(ValueError):
    """The message cannot be deserialized: answered with a Client Fault."""


@dataclass
class ItemIn:
    sequence: str  # ReferenceDocumentItem, or the item's position when the sender gave none
    gl_account: str
    amount: Decimal
    currency: str
    debit_credit: str
    text: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # AssignmentReference and the account assignments
    local: tuple[Decimal, str] | None = None  # AmountInCompanyCodeCurrency and its currency, when sent


@dataclass
class EntryIn:
    header: dict[str, str]
    posting_date: date
    items: list[ItemIn]


def read_request(body: bytes) -> EntryIn:
    """The first journal entry of a bulk request (budgetflow sends one per call; more are not emulated)."""
    try:
        envelope = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise Malformed(f"XML syntax error: {exc}") from None
    root = envelope.find("soap-env:Body/n0:JournalEntryBulkCreateRequest", NSMAP)
    if envelope.tag != f"{{{SOAP_ENV}}}Envelope" or root is None:
        raise Malformed("the body holds no {http://sap.com/xi/SAPSCORE/SFIN}JournalEntryBulkCreateRequest")
    entry = root.find("JournalEntryCreateRequest/JournalEntry")
    if entry is None:
        raise Malformed("JournalEntryCreateRequest/JournalEntry is missing")
    header = {str(child.tag): (child.text or "").strip() for child in entry if child.tag != "Item"}
    missing = [name for name in HEADER_REQUIRED if not header.get(name)]
    if missing:
        raise Malformed(f"JournalEntry: required element {missing[0]} is missing or empty")
    _check_lengths(header, "JournalEntry")
    items = [_item(node, n) for n, node in enumerate(entry.findall("Item"), start=1)]
    if not items:
        raise Malformed("JournalEntry: no Item")
    return EntryIn(header, _date(header["PostingDate"], "PostingDate"), items)


def _item(node: etree._Element, position: int) -> ItemIn:
    values = {str(child.tag): (child.text or "").strip() for child in node if child.tag != "AccountAssignment"}
    missing = [name for name in ITEM_REQUIRED if not values.get(name)]
    if missing:
        raise Malformed(f"Item {position}: required element {missing[0]} is missing or empty")
    _check_lengths(values, f"Item {position}")
    amount_node = node.find("AmountInTransactionCurrency")
    currency = amount_node.get("currencyCode", "") if amount_node is not None else ""
    if not currency:
        raise Malformed(f"Item {position}: AmountInTransactionCurrency has no currencyCode")
    amount = _decimal(values["AmountInTransactionCurrency"], f"Item {position}: AmountInTransactionCurrency")
    local_node = node.find("AmountInCompanyCodeCurrency")
    local = None if local_node is None else (
        _decimal(local_node.text or "", f"Item {position}: AmountInCompanyCodeCurrency"),
        local_node.get("currencyCode", ""))
    fields = {name: values[name] for name in ("AssignmentReference",) if values.get(name)}
    for child in node.findall("AccountAssignment/*"):
        if child.tag in ASSIGNMENTS and (child.text or "").strip():
            fields[str(child.tag)] = (child.text or "").strip()
    return ItemIn(values.get("ReferenceDocumentItem") or str(position), values["GLAccount"], amount, currency,
                  values["DebitCreditCode"], values.get("DocumentItemText", ""), fields, local)


def _decimal(text: str, name: str) -> Decimal:
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        raise Malformed(f"{name} is not a decimal") from None


def _check_lengths(values: dict[str, str], where: str) -> None:
    for name, limit in MAX_LENGTH.items():
        if len(values.get(name, "")) > limit:
            raise Malformed(f"{where}: {name} is longer than {limit} characters")


def _date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Malformed(f"{name} {text!r} is not an xsd:date") from None


def envelope(body: etree._Element) -> bytes:
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap-env": SOAP_ENV})
    etree.SubElement(root, f"{{{SOAP_ENV}}}Header")
    etree.SubElement(root, f"{{{SOAP_ENV}}}Body").append(body)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def fault(code: str, text: str) -> bytes:
    """A SOAP 1.1 Fault; ``code``: Client (the message is wrong) or Server (try again later)."""
    node = etree.Element(f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(node, "faultcode").text = f"soap-env:{code}"
    string = etree.SubElement(node, "faultstring")
    string.text = text
    string.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    return envelope(node)


@dataclass(frozen=True)
class LogItem:
    type_id: str  # SAP's message id, <number>(<class>)
    severity: int  # 1 information, 2 warning, 3 error
    note: str
    sequence: str = ""  # ReferenceObjectNodeSequenceID: the item's ReferenceDocumentItem, "" for the header


def confirmation(document: str, company_code: str, fiscal_year: str, log: list[LogItem]) -> bytes:
    """``JournalEntryBulkCreateConfirmation`` for one entry; ``document`` 0000000000 when nothing was posted."""
    root = etree.Element(f"{{{SFIN}}}JournalEntryBulkCreateConfirmation", nsmap={"n0": SFIN})
    message = etree.SubElement(root, "JournalEntryCreateConfirmation")
    confirmed = etree.SubElement(message, "JournalEntryCreateConfirmation")
    for name, value in (("AccountingDocument", document), ("CompanyCode", company_code),
                        ("FiscalYear", fiscal_year)):
        etree.SubElement(confirmed, name).text = value
    log_node = etree.SubElement(message, "Log")
    etree.SubElement(log_node, "MaximumLogItemSeverityCode").text = str(max(i.severity for i in log))
    for item in log:
        node = etree.SubElement(log_node, "Item")
        etree.SubElement(node, "TypeID").text = item.type_id
        etree.SubElement(node, "SeverityCode").text = str(item.severity)
        if item.sequence:
            etree.SubElement(node, "ReferenceObjectNodeSequenceID").text = item.sequence
        etree.SubElement(node, "Note").text = item.note
    return envelope(root)
