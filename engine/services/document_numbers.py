"""Starting a document under a number the engine hands out: ``TA-2026-000001``.

Prefixes: ``TA`` (travel applications, however approved), ``EC`` (expense_claim); any other process the
first letters of the words of its id (``purchase_request`` -> ``PR``). The year is the UTC year of the
start. A number is taken in a short transaction of its own, under the counter's row lock, so concurrent
starts never collide; a start that is then refused (an inactive applicant, an undeployed process, bad start
data) leaves its number unused.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from engine.persistence.types import utcnow
from engine.services import processes
from engine.services.ports import UnitOfWorkFactory
from engine.services.steps import NotAllowed, Outcome

PREFIXES = {"travel_application": "TA", "travel_application_oa": "TA", "oa_travel_application": "TA",
            "expense_claim": "EC"}
MAX_PREFIX = 8


def document_prefix(process_id: str) -> str:
    """The number prefix of ``process_id``'s documents."""
    if process_id in PREFIXES:
        return PREFIXES[process_id]
    initials = "".join(word[0] for word in re.split(r"[^A-Za-z0-9]+", process_id) if word).upper()
    return initials[:MAX_PREFIX] or "DOC"


def next_document_number(uow_factory: UnitOfWorkFactory, process_id: str, *, now: datetime | None = None) -> str:
    """Take the next number for a ``process_id`` document (committed at once, never handed out twice)."""
    prefix, year = document_prefix(process_id), (now or utcnow()).year
    with uow_factory() as uow:
        number = uow.numbers.next(prefix, year)
        uow.commit()
    return f"{prefix}-{year}-{number:06d}"


def start_document(uow_factory: UnitOfWorkFactory, *, process_id: str, applicant: str,
                   data: dict[str, Any] | None = None, application_no: str | None = None,
                   message: tuple[str, dict[str, Any]] | None = None,
                   actor: str | None = None) -> tuple[str, Outcome]:
    """Start a new ``process_id`` document for ``applicant`` under the next number; (number, outcome).

    Everything ``processes.start`` checks still holds (active applicant, deployed process, plain start data
    without engine variables, a claim's application); ``process_id`` must be plain text first.
    """
    if not isinstance(process_id, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]{0,99}", process_id):
        raise NotAllowed(f"process {process_id!r}: not a process id")
    number = next_document_number(uow_factory, process_id)
    return number, processes.start(uow_factory, process_id=process_id, applicant=applicant, business_key=number,
                                   data=data, application_no=application_no, message=message, actor=actor)
