"""``SapClient``: budgetflow's ErpClient for SAP S/4HANA (SOAP to post, OData to read back).

SAP has no idempotency: the same journal entry sent twice is posted twice. Exactly once therefore rests on
the key in ``DocumentReferenceID`` and on the caller: after an ambiguous failure (``ambiguous=True``: the
entry may exist) the retry passes ``resolve_first=True``, and the client looks the key up through OData first
and answers the entry it finds (``replayed``) instead of posting again. SAP posts synchronously in one
transaction, so there is never a half-done entry to finish.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

import requests

from connectors.erp import BookedVoucher, PostedVoucher, VoucherDraft
from connectors.erp_http import new_session
from connectors.sap import odata
from connectors.sap.confirmation import read_confirmation
from connectors.sap.request import check_key, journal_entry_request
from connectors.sap.settings import SapSettings
from connectors.sap.soap import JournalEntryService

log = logging.getLogger(__name__)


class SapClient:
    name = "sap"

    def __init__(self, settings: SapSettings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.session = session or new_session()
        self._soap = JournalEntryService(settings, self.session)  # sets the session's Basic auth
        self._items = odata.JournalEntryItems(settings, self.session)

    def __repr__(self) -> str:
        return f"SapClient(base_url={self.settings.base_url!r}, user={self.settings.user!r})"

    def post_voucher(self, draft: VoucherDraft, *, idempotency_key: str,
                     resolve_first: bool = False) -> PostedVoucher:
        check_key(idempotency_key)
        company_code = draft.book or self.settings.book
        if resolve_first:
            existing = self._find(idempotency_key, company_code)
            if existing is not None:
                return PostedVoucher(existing.voucher_no, draft.document_no, replayed=True)
        answer = self._soap.post(journal_entry_request(draft, idempotency_key, self.settings))
        confirmed = read_confirmation(answer)
        log.info("SAP posted %s for %s in company code %s", confirmed.accounting_document, idempotency_key,
                 confirmed.company_code or company_code)
        return PostedVoucher(confirmed.accounting_document, draft.document_no)

    def find_voucher(self, *, idempotency_key: str) -> PostedVoucher | None:
        found = self._find(idempotency_key, self.settings.book)
        return None if found is None else PostedVoucher(found.voucher_no, found.reference)

    def list_vouchers(self, *, start: date, end: date) -> Sequence[BookedVoucher]:
        rows = self._items.matching(odata.by_posting_date(start, end, self.settings.book))
        return odata.vouchers(rows, self.settings.dimensions)

    def _find(self, key: str, company_code: str) -> BookedVoucher | None:
        """The entry under ``key``; the first if several (a duplicate entered by hand, or posted by a retry
        without the look-up), which is logged for finance to reverse."""
        found = odata.vouchers(self._items.matching(odata.by_reference(key, company_code)),
                               self.settings.dimensions)
        if len(found) > 1:
            log.warning("SAP holds %d journal entries under %s in company code %s: %s", len(found), key,
                        company_code, ", ".join(v.voucher_no for v in found))
        return found[0] if found else None
