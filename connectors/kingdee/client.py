"""``KingdeeClient``: post a voucher Save → Submit → Audit, once per key, and read the book back.

Exactly once, without vendor idempotency: the key rides in every entry's explanation (see
``connectors/kingdee/voucher.py``), and ``resolve_first`` looks it up before posting. A voucher found saved
(FDocumentStatus A) or submitted (B) is finished (Submit, Audit) and returned as ``replayed``; one found
audited (C) is returned as it is.

A definite refusal at Submit or Audit undoes the Save, so nothing half-posted stays in the book: a submitted
voucher is first taken back (``CancelAssign``, 撤销; Kingdee deletes only saved vouchers), then deleted. A
transport failure after the Save succeeded is always reported ``ambiguous``: the voucher exists, so the retry
must come with ``resolve_first`` to find and finish it rather than save a second one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

import requests

from connectors.base import ConnectorError
from connectors.erp import POST_FAILED, UNAVAILABLE, BookedVoucher, PostedVoucher, VoucherDraft
from connectors.kingdee import query
from connectors.kingdee.settings import KingdeeSettings
from connectors.kingdee.status import VENDOR, refusal, response_status, saved_entity, succeeded
from connectors.kingdee.transport import Transport
from connectors.kingdee.voucher import check_key, save_body

log = logging.getLogger(__name__)


def _today() -> date:
    return datetime.now(UTC).date()


class KingdeeClient:
    name = "kingdee"

    def __init__(self, settings: KingdeeSettings, *, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time, today: Callable[[], date] = _today) -> None:
        self.settings = settings
        self.transport = Transport(settings, session=session, clock=clock)
        self._today = today

    def __repr__(self) -> str:
        return f"KingdeeClient(base_url={self.settings.base_url!r}, acct_id={self.settings.acct_id!r})"

    def post_voucher(self, draft: VoucherDraft, *, idempotency_key: str,
                     resolve_first: bool = False) -> PostedVoucher:
        check_key(idempotency_key)
        if not draft.lines or not draft.is_balanced():
            raise ConnectorError(POST_FAILED, f"voucher for {draft.document_no} is empty or does not balance")
        if resolve_first:
            found = query.find(self.transport.call, idempotency_key, self.settings.page_size)
            if found is not None:
                log.info("Kingdee voucher %s already holds key %s (status %s)", found.number, idempotency_key,
                         found.status)
                return self._finish(found, draft.document_no, replayed=True)
        answer = self.transport.call("Save", save_body(draft, idempotency_key, self.settings, self._today()))
        status = response_status(answer) or {}
        if not succeeded(status):
            raise refusal("Save", status, scrub=(self.settings.app_secret,))
        voucher_id, number = saved_entity(status)
        return self._finish(query.Found(voucher_id, number, "A"), draft.document_no, replayed=False)

    def find_voucher(self, *, idempotency_key: str) -> PostedVoucher | None:
        check_key(idempotency_key)
        found = query.find(self.transport.call, idempotency_key, self.settings.page_size)
        return None if found is None else PostedVoucher(found.number, idempotency_key, replayed=True)

    def list_vouchers(self, *, start: date, end: date) -> Sequence[BookedVoucher]:
        return query.booked(self.transport.call, self.settings, start, end)

    # -- finishing and undoing ---------------------------------------------------------------------------------

    def _finish(self, voucher: query.Found, document_no: str, *, replayed: bool) -> PostedVoucher:
        """Submit and audit ``voucher`` as far as it still needs."""
        if voucher.status in ("A", "D"):
            self._step("Submit", voucher, submitted=False)
        if voucher.status in ("A", "B", "D"):
            self._step("Audit", voucher, submitted=True)
        return PostedVoucher(voucher.number, document_no, replayed=replayed)

    def _step(self, op: str, voucher: query.Found, *, submitted: bool) -> None:
        try:
            answer = self.transport.call(op, _ids(voucher))
        except ConnectorError as exc:
            if exc.code != UNAVAILABLE:
                raise
            raise ConnectorError(UNAVAILABLE, f"{exc} during {op} of saved voucher {voucher.number}: retry with "
                                 "the look-up to finish it", retryable=True, ambiguous=True, vendor=VENDOR) from exc
        status = response_status(answer) or {}
        if not succeeded(status):
            refused = refusal(op, status, scrub=(self.settings.app_secret,), context=f" of voucher {voucher.number}")
            self._undo(voucher, submitted=submitted, reason=refused)
            raise refused

    def _undo(self, voucher: query.Found, *, submitted: bool, reason: ConnectorError) -> None:
        """Take the refused voucher out of the book; if Kingdee will not (or does not answer), raise the refusal
        naming the voucher left behind: the refusal stands either way, so it is never reported retryable."""
        for op in ["CancelAssign", "Delete"] if submitted else ["Delete"]:
            try:
                status = response_status(self.transport.call(op, _ids(voucher))) or {}
                left = "" if succeeded(status) else str(refusal(op, status, scrub=(self.settings.app_secret,)))
            except ConnectorError as exc:
                left = str(exc)
            if left:
                raise ConnectorError(POST_FAILED, f"{reason}; and voucher {voucher.number} could not be removed "
                                     f"({left}): delete it in Kingdee by hand", retryable=False,
                                     errors=reason.payload.get("errors", []), vendor=VENDOR) from reason
        log.info("Kingdee voucher %s deleted after its refusal", voucher.number)


def _ids(voucher: query.Found) -> dict[str, object]:
    return {"formid": "GL_VOUCHER", "data": {"Ids": str(voucher.voucher_id)}}
