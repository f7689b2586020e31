"""Receipts and e-invoices: checked by content, attached by who is involved, read by who may see the document,
and named by a claim's receipts field only when they belong to that claim."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.domain.attachments import MAX_BYTES, AttachmentRejected, check_file, clean_filename, sniff
from engine.domain.forms import FormInvalid
from engine.persistence.audit_table import AuditLog
from engine.services.attachments import add_attachment, attachment, attachments_of
from engine.services.steps import NotAllowed
from tests.flows.support import APPLICANT, MANAGER

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
OFD = b"PK\x03\x04" + b"\0" * 32
XML = b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?><EInvoice/>'


@pytest.mark.parametrize(("data", "kind"), [(PDF, "pdf"), (PNG, "png"), (b"\xff\xd8\xff\xe0JFIF", "jpeg"),
                                            (OFD, "ofd"), (XML, "xml"), (b"  <Invoice/>", "xml"),
                                            (b"MZ\x90\0", None), (b"hello", None)])
def test_files_are_known_by_their_first_bytes(data, kind):
    assert sniff(data) == kind


@pytest.mark.parametrize(("name", "clean"), [
    ("../../etc/passwd", "passwd"), ("C:\\Users\\me\\发票.pdf", "发票.pdf"), ("a\x00b\r\nc.pdf", "abc.pdf"),
    ("", "attachment"), (None, "attachment"), ("...", "attachment"), ("x" * 300 + ".pdf", "x" * 196 + ".pdf")])
def test_filenames_lose_folders_control_characters_and_length(name, clean):
    assert clean_filename(name) == clean


@pytest.mark.parametrize(("content_type", "data", "field"), [
    ("application/pdf", PNG, "declared application/pdf but its content is a PNG file"),
    ("image/png", b"GIF89a", "none of the accepted kinds"), ("application/zip", OFD, "content_type"),
    ("application/pdf", b"", "empty"), ("application/pdf", PDF + b"\0" * MAX_BYTES, "at most 10 MiB"),
    (None, PDF, "content_type")])
def test_a_file_is_refused_saying_why(content_type, data, field):
    with pytest.raises(AttachmentRejected, match=field):
        check_file("x.pdf", content_type, data)


def test_declared_type_parameters_and_case_do_not_matter():
    assert check_file("f.xml", "Text/XML; charset=utf-8", XML).content_type == "text/xml"


def test_the_applicant_attaches_and_who_sees_the_document_reads(flow):
    instance = flow.start("expense_claim")
    number = flow.instance(instance).business_key
    first = add_attachment(flow.app.uow, document_no=number, uploader=APPLICANT, filename="../发票 1.pdf",
                           content_type="application/pdf", data=PDF)
    second = add_attachment(flow.app.uow, document_no=number, uploader=APPLICANT, filename="e.ofd",
                            content_type="application/ofd", data=OFD)
    meta, data = attachment(flow.app.reader, first, APPLICANT)
    assert data == PDF and (meta["filename"], meta["size"], meta["document_no"]) == ("发票 1.pdf", len(PDF), number)
    assert len(first) >= 32 and first != second
    assert [m["id"] for m in attachments_of(flow.app.reader, number)] == [first, second]
    assert attachment(flow.app.reader, first, "E0014") is not None  # auditor
    assert attachment(flow.app.reader, first, "E0018") is None
    assert attachment(flow.app.reader, "no-such-attachment-id", APPLICANT) is None
    with flow.app.engine.connect() as conn:
        assert "attachment.added" in conn.execute(select(AuditLog.action)).scalars().all()


def test_strangers_may_not_attach_and_are_audited(flow):
    instance = flow.start("expense_claim")
    number = flow.instance(instance).business_key
    for who in ("E0018", MANAGER):  # a colleague; the manager before any task of theirs is open
        with pytest.raises(NotAllowed, match="may not attach"):
            add_attachment(flow.app.uow, document_no=number, uploader=who, filename="x.pdf",
                           content_type="application/pdf", data=PDF)
    with pytest.raises(NotAllowed, match="no document"):
        add_attachment(flow.app.uow, document_no="EC-0000-000000", uploader=APPLICANT, filename="x.pdf",
                       content_type="application/pdf", data=PDF)
    assert attachments_of(flow.app.reader, number) == []
    with flow.app.engine.connect() as conn:
        assert conn.execute(select(AuditLog.action)).scalars().all().count("access.refused") == 3


def claim_form(flow, receipts):
    return {"subject": "TRAVEL", "purpose": "Shanghai trip", "currency": "CNY", "period": "2026",
            "lines": flow.lines("1280.50"), "receipts": receipts}


def test_a_claim_names_its_own_receipts_only(flow):
    instance = flow.start("expense_claim")
    number = flow.instance(instance).business_key
    other = flow.start("expense_claim")
    foreign = add_attachment(flow.app.uow, document_no=flow.instance(other).business_key, uploader=APPLICANT,
                             filename="x.pdf", content_type="application/pdf", data=PDF)
    mine = add_attachment(flow.app.uow, document_no=number, uploader=APPLICANT, filename="r.png",
                          content_type="image/png", data=PNG)
    with pytest.raises(FormInvalid, match=rf"receipts\[1\]: {foreign} is not an attachment of {number}"):
        flow.act(instance, claim_form(flow, [mine, foreign]))
    with pytest.raises(FormInvalid, match=r"receipts\[0\]"):
        flow.act(instance, claim_form(flow, ["x"]))
    flow.act(instance, claim_form(flow, [mine]))
    assert flow.task_data(instance, "approve_by_manager")["receipts"] == [mine]
    add_attachment(flow.app.uow, document_no=number, uploader=MANAGER, filename="note.pdf",
                   content_type="application/pdf", data=PDF)  # the approver may add one now
