"""Receipts through the API: the file is the body, checked by the engine; read back by whoever may see the
document; a claim's receipts name them."""

from __future__ import annotations

from tests.web.api.conftest import trip_for_approval
from tests.web.api.state import snapshot

APPLICANT, MANAGER, STRANGER = "E0017", "E0005", "E0019"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def a_document(api) -> str:
    guid = trip_for_approval(api.container)
    return str(api.get(f"/tasks/{guid}", MANAGER).get_json()["document_no"])


def upload(api, number: str, code: str, data: bytes, content_type: str, filename: str = "receipt.pdf"):
    return api.post(f"/documents/{number}/attachments?filename={filename}", code, data=data,
                    content_type=content_type)


def test_the_applicant_attaches_a_receipt_and_those_who_see_the_document_read_it(api):
    number = a_document(api)
    added = upload(api, number, APPLICANT, PDF, "application/pdf", "../../taxi 发票.pdf")
    assert added.status_code == 201, added.get_json()
    meta = added.get_json()
    assert meta["filename"] == "taxi 发票.pdf" and meta["size"] == len(PDF) and meta["uploaded_by"] == APPLICANT
    with api.get(f"/attachments/{meta['id']}", MANAGER) as file:
        assert file.status_code == 200 and file.data == PDF and file.mimetype == "application/pdf"
        assert file.headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    assert api.get(f"/attachments/{meta['id']}", STRANGER).status_code == 404
    assert api.get("/attachments/" + "A" * 32, APPLICANT).status_code == 404
    listed = api.get(f"/documents/{number}", APPLICANT).get_json()["attachments"]
    assert [a["id"] for a in listed] == [meta["id"]]


def test_refused_files_change_nothing(api):
    number = a_document(api)
    before = snapshot(api.container)
    assert upload(api, number, APPLICANT, PNG, "application/pdf").get_json()["code"] == "ATTACHMENT_REJECTED"
    assert upload(api, number, APPLICANT, b"MZ\x90\x00", "application/x-msdownload").status_code == 415
    assert upload(api, number, APPLICANT, b"", "application/pdf").status_code == 422
    assert upload(api, number, APPLICANT, b"%PDF-" + b"x" * (10 * 1024 * 1024), "application/pdf").status_code == 422
    assert upload(api, number, APPLICANT, b"%PDF-" + b"x" * (12 * 1024 * 1024), "application/pdf").status_code == 413
    assert upload(api, number, STRANGER, PDF, "application/pdf").status_code == 403
    assert upload(api, "NO-SUCH-1", APPLICANT, PDF, "application/pdf").status_code in (403, 404)
    assert api.post(f"/documents/{number}/attachments", APPLICANT, data=PDF,
                    content_type="application/pdf").status_code == 422  # no filename
    assert snapshot(api.container) == before


CLAIM = {"subject": "TRAVEL", "purpose": "Shanghai trip", "currency": "CNY", "period": "2026",
         "lines": [{"subject": "TRAVEL", "amount": "320.00", "tax": "0.00", "invoice_code": "011002300111",
                    "invoice_number": "20000001"}]}


def test_a_claim_names_its_receipts_and_only_its_own(api):
    other = a_document(api)
    foreign = upload(api, other, APPLICANT, PDF, "application/pdf").get_json()["id"]
    started = api.post("/documents", APPLICANT, json={"process_id": "expense_claim"})
    assert started.status_code == 201
    number = started.get_json()["document_no"]
    [fill] = started.get_json()["outcome"]["open_tasks"]
    receipt = upload(api, number, APPLICANT, PDF, "application/pdf").get_json()["id"]
    before = snapshot(api.container)
    refused = api.post(f"/tasks/{fill['task_guid']}/complete", APPLICANT, json={"data": {**CLAIM,
                                                                                      "receipts": [foreign]}})
    assert refused.status_code == 422 and "receipts" in refused.get_json()["message"]
    assert snapshot(api.container) == before
    done = api.post(f"/tasks/{fill['task_guid']}/complete", APPLICANT, json={"data": {**CLAIM, "receipts": [receipt]}})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["open_tasks"][0]["bpmn_id"] == "approve_by_manager"
