"""The ``local`` ERP: balanced vouchers in a table of our own database, one per idempotency key.

It speaks the same ErpClient interface as the vendor connectors, so the outbox,
retries and crash tests exercise the real path. Storage is injected (connectors
import nothing from the engine): the engine passes a VoucherStore.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from connectors.base import ConnectorError
from connectors.erp import BookedVoucher, PostedVoucher, VoucherDraft


class VoucherStore(Protocol):
    def find(self, idempotency_key: str) -> PostedVoucher | None: ...

    def insert(self, draft: VoucherDraft, idempotency_key: str) -> PostedVoucher:
        """Insert in its own transaction, or return the voucher already stored under the key (``replayed``)."""

    def between(self, start: date, end: date) -> Sequence[BookedVoucher]: ...


class LocalErp:
    name = "local"

    def __init__(self, store: VoucherStore) -> None:
        self.store = store

    def post_voucher(self, draft: VoucherDraft, *, idempotency_key: str,
                     resolve_first: bool = False) -> PostedVoucher:
        # The insert looks the key up in the same transaction, so every post resolves first.
        if not draft.is_balanced():
            raise ConnectorError("ERP_POST_FAILED", f"voucher for {draft.document_no} does not balance")
        if not draft.lines:
            raise ConnectorError("ERP_POST_FAILED", f"voucher for {draft.document_no} has no lines")
        return self.store.insert(draft, idempotency_key)

    def find_voucher(self, *, idempotency_key: str) -> PostedVoucher | None:
        return self.store.find(idempotency_key)

    def list_vouchers(self, *, start: date, end: date) -> Sequence[BookedVoucher]:
        return self.store.between(start, end)
