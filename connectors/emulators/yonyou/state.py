"""What the Yonyou emulator holds besides the shared book: tokens, the businessId/biz_id index, the tenant."""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from werkzeug.wrappers import Request, Response

from connectors.emulators.base import Clock
from connectors.emulators.erp_base import ErpEmulator
from connectors.emulators.yonyou.checks import ParsedVoucher
from connectors.emulators.yonyou.model import (
    DEMO_ACCOUNTS,
    TOKEN_TTL,
    U8_BOOKS,
    U8_DIMENSIONS,
    YONBIP_BOOKS,
    YONBIP_DIMENSIONS,
    Token,
)
from connectors.emulators.yonyou.replies import u8, yonbip
from connectors.erp import BookedVoucher, VoucherLine


class YonyouState(ErpEmulator):
    """One Yonyou tenant reachable through YonBIP's and U8's APIs, one book behind both.

    ``dedupe`` (default on): a second voucher under a businessId / biz_id already in the book is not created
    (YonBIP refuses it naming the first, U8 answers the first). Off, the emulator creates it: the negative
    control that shows the dedupe, not luck, keeps a retried post single.
    """

    book_prefix = "YY"

    def __init__(self, clock: Clock | None = None, *, accounts: Iterable[str] = DEMO_ACCOUNTS, seed: int = 7,
                 dedupe: bool = True, yonbip_dimensions: Mapping[str, str] = YONBIP_DIMENSIONS,
                 u8_dimensions: Mapping[str, str] = U8_DIMENSIONS) -> None:
        super().__init__(clock, accounts=accounts, seed=seed)
        self.dedupe = dedupe
        self.yonbip_books, self.u8_books = set(YONBIP_BOOKS), set(U8_BOOKS)
        self.yonbip_dimensions, self.u8_dimensions = dict(yonbip_dimensions), dict(u8_dimensions)
        self.yonbip_tokens: dict[str, Token] = {}
        self.u8_tokens: dict[str, Token] = {}
        self.tokens_issued = {"yonbip": 0, "u8": 0}
        # Platform codes (YonBIP "310504", U8 "30009"...) the next API calls answer before reading the body.
        self.queued_codes: deque[str] = deque()
        self.gateway_path = ""  # appended to the gatewayUrl the data centre names ("/elsewhere": every API 404s)
        self._keys: dict[tuple[str, str], str] = {}  # (api, businessId or biz_id) -> voucher number
        self._serving = threading.local()  # which API this thread answers: the shape of a server error

    # --- tokens --------------------------------------------------------------------------------------------

    def issue_token(self, api: str) -> str:
        token = secrets.token_hex(16)
        with self.lock:
            self._tokens(api)[token] = Token(self.clock.now() + TOKEN_TTL, fragile=self.faults.expire_tokens)
            self.tokens_issued[api] += 1
        return token

    def token_good(self, api: str, token: str) -> bool:
        with self.lock:
            held = self._tokens(api).get(token)
            return held is not None and held.good(self.clock.now())

    def next_queued_code(self) -> str | None:
        with self.lock:
            return self.queued_codes.popleft() if self.queued_codes else None

    def _tokens(self, api: str) -> dict[str, Token]:
        return self.yonbip_tokens if api == "yonbip" else self.u8_tokens

    # --- the book ------------------------------------------------------------------------------------------

    def commit(self, api: str, voucher: ParsedVoucher, *, key: str, reference: str,
               dimensions: Mapping[str, str], extra: dict[str, Any]) -> tuple[BookedVoucher, bool]:
        """The voucher booked, and whether it was already there under ``key`` (then nothing is booked)."""
        assert voucher.posting_date is not None  # checked before
        with self.lock:
            earlier = self.book.get(self._keys.get((api, key), "")) if key and self.dedupe else None
            if earlier is not None:
                return earlier, True
            lines = [VoucherLine(x.account, x.debit, x.credit, x.memo,
                                 tuple(sorted((dimensions[f], code) for f, code in x.dimensions)))
                     for x in voucher.lines]
            booked = self.book.add(reference=reference, posting_date=voucher.posting_date,
                                   currency=voucher.currency, lines=lines, status="saved", extra={
                                       **extra, "api": api, "book": voucher.book, "voucher_type": voucher.voucher_type,
                                       "local": [(str(x.local_debit), str(x.local_credit)) for x in voucher.lines]})
            if key:
                self._keys[(api, key)] = booked.voucher_no
            return booked, False

    def in_book(self, voucher: BookedVoucher, book: str) -> bool:
        """Whether a query of ``book`` sees ``voucher``; one entered by hand names no book and is in every one."""
        return not book or voucher.extra.get("book", book) == book

    # --- faults in the vendor's shape ----------------------------------------------------------------------

    def serving(self, api: str) -> None:
        self._serving.api = api

    def server_error(self) -> Response:
        """YonBIP: HTTP 503 with its envelope; U8: HTTP 500 with errcode 99999. Nothing was committed."""
        if getattr(self._serving, "api", "") == "u8":
            return u8("99999", "系统内部错误,请稍后重试", status=500)
        return yonbip("503", "服务暂不可用,请稍后重试", status=503)

    def not_found(self, request: Request) -> Response:
        return yonbip("310404", f"API不存在: {request.path}", status=404)
