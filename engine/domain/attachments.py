"""What a file attached to a document may be: a receipt or an e-invoice, checked by its content, not its name.

Accepted: PDF, PNG, JPEG, OFD (the Chinese fixed-layout e-invoice format, a ZIP package) and XML (the
fully digital e-invoice, 全电发票), at most 10 MiB. The declared content type must match what the first bytes
say the file is. A filename is kept for display only: its folders, control characters and anything past 200
characters are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from engine.domain.errors import BudgetflowError

MAX_BYTES = 10 * 1024 * 1024
MAX_FILENAME = 200
ATTACHMENT_ID = re.compile(r"[A-Za-z0-9_-]{16,40}")  # the shape of an id add_attachment hands out
# content type -> the kind of file its first bytes must show
TYPES = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpeg", "application/ofd": "ofd",
         "application/xml": "xml", "text/xml": "xml"}
_MAGIC = ((b"%PDF-", "pdf"), (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"PK\x03\x04", "ofd"))


class AttachmentRejected(BudgetflowError):
    """A file that may not be attached (the message says why)."""

    code = "ATTACHMENT_REJECTED"


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str


def sniff(data: bytes) -> str | None:
    """The kind of file ``data`` is by its first bytes: pdf, png, jpeg, ofd (a ZIP), xml; None if none of them."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return "xml" if head.startswith(b"<?xml") or re.match(rb"<[A-Za-z]", head) else None


def clean_filename(name: object) -> str:
    """A filename safe to show and to send back in a download: no folders, no control characters, bounded."""
    text = unicodedata.normalize("NFC", name if isinstance(name, str) else "")
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if len(text) > MAX_FILENAME:
        stem, dot, ext = text.rpartition(".")
        text = (stem[:MAX_FILENAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else text[:MAX_FILENAME]
    return text or "attachment"


def check_file(filename: object, content_type: object, data: object) -> CheckedFile:
    """The file's clean name and content type; AttachmentRejected naming what is wrong."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise AttachmentRejected("file: empty or not a file", field="file")
    if len(data) > MAX_BYTES:
        raise AttachmentRejected(f"file: {len(data):,} bytes; at most {MAX_BYTES // (1024 * 1024)} MiB", field="file")
    declared = content_type.split(";")[0].strip().lower() if isinstance(content_type, str) else ""
    if declared not in TYPES:
        raise AttachmentRejected(f"content_type: {declared or 'none'} is not accepted; one of "
                                 f"{', '.join(sorted(TYPES))}", field="content_type")
    found = sniff(bytes(data[:64]))
    if found != TYPES[declared]:
        raise AttachmentRejected(f"file: declared {declared} but its content is "
                                 f"{'a ' + found.upper() + ' file' if found else 'none of the accepted kinds'}",
                                 field="file")
    return CheckedFile(clean_filename(filename), declared)
