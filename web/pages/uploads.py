"""Files sent with a form (receipts): stored through the engine first, their ids put in the form's field.

The engine checks the uploader, the size, the type by its first bytes and the name
(``attachments.add_attachment``); a refused file becomes a problem shown at its field, and the files
stored before it stay listed on the page (kept by id), so nothing has to be chosen twice.
"""

from __future__ import annotations

from engine.domain.errors import BudgetflowError
from engine.services import attachments
from web.forms.parse import Parsed
from web.pages.common import me, writer

MAX_READ = 10 * 1024 * 1024 + 1  # one byte over the engine's limit, so it can say "too large"


def store_uploads(document_no: str, parsed: Parsed) -> list[str]:
    """Store every uploaded file and add its id to its field; returns problems ("receipts: ...")."""
    problems = []
    for path, upload in parsed.uploads:
        data = upload.stream.read(MAX_READ)
        try:
            stored = attachments.add_attachment(writer(), document_no=document_no, uploader=me().code,
                                                filename=upload.filename or "upload",
                                                content_type=upload.mimetype or "application/octet-stream",
                                                data=data)
        except BudgetflowError as exc:
            problems.append(f"{path}: {upload.filename}: {exc}")
            continue
        parsed.data.setdefault(path, []).append(stored)
    return problems
