"""What the emulated Kingdee holds besides the book: its codes, chart, closed period, sessions and switches."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from werkzeug.wrappers import Response

from connectors.emulators.base import Clock
from connectors.emulators.erp_base import ErpEmulator
from connectors.emulators.kingdee import replies
from connectors.emulators.kingdee.model import (
    ACCT_ID,
    APP_ID,
    APP_SECRET,
    BOOK,
    DEMO_ACCOUNTS,
    FLEX,
    ID_BASE,
    STATUS_OF,
    USER_NAME,
)
from connectors.erp import BookedVoucher


class KingdeeState(ErpEmulator):
    book_prefix = "GLV"

    def __init__(self, clock: Clock | None = None, *, accounts: Iterable[str] = DEMO_ACCOUNTS, seed: int = 7,
                 flex: Mapping[str, str] = FLEX, books: Iterable[str] = (BOOK,),
                 closed_through: date | None = None) -> None:
        super().__init__(clock, accounts=accounts, seed=seed)
        self.acct_id = ACCT_ID
        self.users = {USER_NAME}
        self.apps = {APP_ID: APP_SECRET}  # AppID -> app secret
        self.flex = dict(flex)  # neutral name -> flex slot, the account set's configuration
        self.books = set(books)
        self.closed_through = closed_through  # periods up to this date are closed (结账)
        self.sessions: dict[str, float] = {}  # session id -> last use, on the emulator's clock
        self.logins = 0
        self.refuse: dict[str, str] = {}  # op (Submit, Audit, ...) -> the message it is refused with, for tests

    # -- the book's vouchers as Kingdee sees them ---------------------------------------------------------------

    def voucher_id(self, voucher: BookedVoucher) -> int:
        return ID_BASE + int(voucher.voucher_no[len(self.book_prefix):])

    def by_id(self, voucher_id: int) -> BookedVoucher | None:
        return self.book.get(f"{self.book_prefix}{voucher_id - ID_BASE:08d}")

    @staticmethod
    def document_status(voucher: BookedVoucher) -> str:
        """A, B or C; a voucher entered by hand (through the control endpoint) counts as audited."""
        return STATUS_OF.get(voucher.status, "C")

    def server_error(self) -> Response:
        return replies.server_error()
