"""The SAP emulator's answers in SAP's shapes, seen over raw HTTP (no budgetflow client in between)."""

from __future__ import annotations

import pytest
import requests
from lxml import etree

from connectors.emulators.base import Running
from connectors.emulators.sap import ODATA_SET, PASSWORD, SOAP_PATH, USER, SapEmulator

AUTH = (USER, PASSWORD)
NS = {"soap-env": "http://schemas.xmlsoap.org/soap/envelope/", "n0": "http://sap.com/xi/SAPSCORE/SFIN"}
ITEM = """<Item><ReferenceDocumentItem>{n}</ReferenceDocumentItem><GLAccount>{account}</GLAccount>
  <AmountInTransactionCurrency currencyCode="{currency}">{amount}</AmountInTransactionCurrency>
  <DebitCreditCode>{code}</DebitCreditCode>{assignment}</Item>"""


def envelope(items: str, *, company: str = "1010", doc_type: str = "SA", reference: str = "EC-2026-000001") -> bytes:
    return f"""<soap-env:Envelope xmlns:soap-env="{NS['soap-env']}"><soap-env:Body>
<n0:JournalEntryBulkCreateRequest xmlns:n0="{NS['n0']}">
 <MessageHeader><ID>m1</ID><CreationDateTime>2026-09-11T08:00:00Z</CreationDateTime></MessageHeader>
 <JournalEntryCreateRequest>
  <MessageHeader><ID>m1</ID><CreationDateTime>2026-09-11T08:00:00Z</CreationDateTime></MessageHeader>
  <JournalEntry>
   <OriginalReferenceDocumentType>BKPFF</OriginalReferenceDocumentType><OriginalReferenceDocument/>
   <BusinessTransactionType>RFBU</BusinessTransactionType><AccountingDocumentType>{doc_type}</AccountingDocumentType>
   <DocumentReferenceID>{reference}</DocumentReferenceID><CreatedByUser>{USER}</CreatedByUser>
   <CompanyCode>{company}</CompanyCode><DocumentDate>2026-09-11</DocumentDate><PostingDate>2026-09-11</PostingDate>
   {items}
  </JournalEntry>
 </JournalEntryCreateRequest>
</n0:JournalEntryBulkCreateRequest></soap-env:Body></soap-env:Envelope>""".encode()


def item(n: int, account: str, amount: str, code: str, *, currency: str = "CNY", cost_center: str = "") -> str:
    assignment = f"<AccountAssignment><CostCenter>{cost_center}</CostCenter></AccountAssignment>" if cost_center else ""
    return ITEM.format(n=n, account=account, amount=amount, code=code, currency=currency, assignment=assignment)


BALANCED = item(1, "6602010000", "100.00", "S") + item(2, "2241000000", "-100.00", "H")


def post(running, body: bytes, auth=AUTH) -> requests.Response:
    return requests.post(running.url + SOAP_PATH, data=body, auth=auth, timeout=5,
                         headers={"Content-Type": "text/xml; charset=utf-8"})


def confirmation(response: requests.Response) -> etree._Element:
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/xml")
    found = etree.fromstring(response.content).find(
        "soap-env:Body/n0:JournalEntryBulkCreateConfirmation/JournalEntryCreateConfirmation", NS)
    assert found is not None
    return found


def log_items(response: requests.Response) -> list[tuple[str, str, str, str]]:
    answer = confirmation(response)
    assert answer.findtext("JournalEntryCreateConfirmation/AccountingDocument") == "0000000000"
    assert answer.findtext("Log/MaximumLogItemSeverityCode") == "3"
    return [(i.findtext("TypeID"), i.findtext("SeverityCode"), i.findtext("ReferenceObjectNodeSequenceID") or "",
             i.findtext("Note")) for i in answer.findall("Log/Item")]


def test_a_posted_entry_is_confirmed_with_a_ten_digit_document(running):
    answer = confirmation(post(running, envelope(BALANCED)))
    entry = answer.find("JournalEntryCreateConfirmation")
    assert [entry.findtext(x) for x in ("AccountingDocument", "CompanyCode", "FiscalYear")] == [
        "1000000001", "1010", "2026"]
    assert answer.findtext("Log/MaximumLogItemSeverityCode") == "1"
    assert answer.findtext("Log/Item/Note").startswith("Document posted successfully: BKPFF 1000000001")


def test_the_same_request_twice_posts_twice(running):
    """SAP has no idempotency: nothing in the journal entry service dedupes on DocumentReferenceID."""
    first, second = (confirmation(post(running, envelope(BALANCED))) for _ in range(2))
    numbers = [a.findtext("JournalEntryCreateConfirmation/AccountingDocument") for a in (first, second)]
    assert numbers == ["1000000001", "1000000002"]
    assert [v.reference for v in running.app.book.all()] == ["EC-2026-000001"] * 2


@pytest.mark.parametrize(("items", "kwargs", "expected"), [
    (item(1, "6602999999", "100.00", "S") + item(2, "2241000000", "-100.00", "H"), {},
     ("153(F5)", "3", "1", "GL account 6602999999 does not exist in company code 1010")),
    (BALANCED, {"company": "9999"}, ("165(F5)", "3", "", "Company code 9999 does not exist")),
    (BALANCED, {"doc_type": "QQ"}, ("814(F5)", "3", "", "Document type QQ is not defined")),
    (item(1, "6602010000", "100.00", "S") + item(2, "2241000000", "-90.00", "H"), {},
     ("702(F5)", "3", "", "Balance in transaction currency CNY: 10.00")),
    (item(1, "6602010000", "100.00", "H") + item(2, "2241000000", "-100.00", "H"), {},
     ("040(F5)", "3", "1", "Debit/credit code H does not match the sign of amount 100.00")),
    (item(1, "6602010000", "0.00", "S") + BALANCED, {}, ("041(F5)", "3", "1", "Enter an amount in the item")),
    (item(1, "6602010000", "100.00", "S") + item(2, "2241000000", "-100.00", "H", currency="USD"), {},
     ("043(F5)", "3", "2", "Currency USD differs from the entry's currency CNY")),
])
def test_each_refusal_is_an_error_item_in_the_log(running, items, kwargs, expected):
    assert expected in log_items(post(running, envelope(items, **kwargs)))
    assert running.app.book.all() == []


def test_an_unknown_cost_center_is_refused_when_the_emulator_has_a_list():
    with Running(SapEmulator(cost_centers=["10101101"])) as running:
        body = envelope(item(1, "6602010000", "1.00", "S", cost_center="10109999")
                        + item(2, "2241000000", "-1.00", "H"))
        assert log_items(post(running, body)) == [("248(KI)", "3", "1", "Cost center 10109999 does not exist on "
                                                   "09/11/2026")]


@pytest.mark.parametrize(("body", "text"), [
    (b"<not xml", "XML syntax error"),
    (envelope(BALANCED).replace(b"JournalEntryBulkCreateRequest", b"SomethingElse"), "JournalEntryBulkCreateRequest"),
    (envelope(BALANCED).replace(b"<CompanyCode>1010</CompanyCode>", b""), "CompanyCode"),
    (envelope(item(1, "", "1.00", "S")), "Item 1: required element GLAccount"),
    (envelope(BALANCED.replace("100.00", "1OO")), "not a decimal"),
    (envelope(BALANCED, reference="EC-2026-000000001"), "DocumentReferenceID is longer than 16"),
])
def test_a_message_it_cannot_read_is_a_client_soap_fault(running, body, text):
    response = post(running, body)
    assert response.status_code == 500
    fault = etree.fromstring(response.content).find("soap-env:Body/soap-env:Fault", NS)
    assert fault.findtext("faultcode") == "soap-env:Client"
    assert fault.findtext("faultstring").startswith("Deserialization failed") and text in fault.findtext("faultstring")
    assert running.app.book.all() == []


def test_a_server_error_is_a_server_soap_fault(running):
    running.app.erp_faults.error_5xx_ratio = 1.0
    response = post(running, envelope(BALANCED))
    fault = etree.fromstring(response.content).find("soap-env:Body/soap-env:Fault", NS)
    assert response.status_code == 500 and fault.findtext("faultcode") == "soap-env:Server"
    assert fault.findtext("faultstring").startswith("Web service processing error")


def test_bad_credentials_are_http_401_with_sap_logon_page(running):
    for response in (post(running, envelope(BALANCED), auth=(USER, "wrong")),
                     requests.get(running.url + ODATA_SET, auth=(USER, "wrong"), timeout=5),
                     requests.get(running.url + ODATA_SET, timeout=5)):
        assert response.status_code == 401 and "Logon failed" in response.text
        assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert running.app.book.all() == []


def test_odata_rows_filter_and_page_like_sap(running):
    running.app.max_page = 3
    for _ in range(3):
        post(running, envelope(BALANCED))
    post(running, envelope(BALANCED, reference="OTHER"))
    query = {"$filter": "DocumentReferenceID eq 'EC-2026-000001' and CompanyCode eq '1010'", "$format": "json"}

    first = requests.get(running.url + ODATA_SET, params=query, auth=AUTH, timeout=5).json()["d"]
    second = requests.get(first["__next"], auth=AUTH, timeout=5).json()["d"]

    assert len(first["results"]) == 3 and len(second["results"]) == 3 and "__next" not in second
    row = first["results"][1]
    assert {k: row[k] for k in ("AccountingDocument", "AccountingDocumentItem", "GLAccount", "DebitCreditCode",
                                "AmountInTransactionCurrency", "TransactionCurrency", "PostingDate",
                                "DocumentReferenceID", "ClearingDate")} == {
        "AccountingDocument": "1000000001", "AccountingDocumentItem": "000002", "GLAccount": "2241000000",
        "DebitCreditCode": "H", "AmountInTransactionCurrency": "-100.00", "TransactionCurrency": "CNY",
        "PostingDate": "/Date(1789084800000)/", "DocumentReferenceID": "EC-2026-000001", "ClearingDate": None}
    window = requests.get(running.url + ODATA_SET, auth=AUTH, timeout=5, params={
        **query, "$top": "2", "$skip": "5"}).json()["d"]
    assert [r["AccountingDocument"] for r in window["results"]] == ["1000000003"]
    dated = requests.get(running.url + ODATA_SET, auth=AUTH, timeout=5, params={
        "$filter": "PostingDate ge datetime'2026-09-12T00:00:00'", "$format": "json"}).json()["d"]
    assert dated["results"] == []


def test_odata_errors_are_sap_gateway_errors(running):
    bad = requests.get(running.url + ODATA_SET, auth=AUTH, timeout=5, params={"$filter": "GLAccount ne '1'"})
    assert bad.status_code == 400 and bad.json()["error"]["message"]["value"].startswith("Invalid filter")
    running.app.erp_faults.down_until = running.app.clock.now() + 60
    down = requests.get(running.url + ODATA_SET, auth=AUTH, timeout=5)
    assert down.status_code == 503 and down.json()["error"]["code"] == "SY/530"
