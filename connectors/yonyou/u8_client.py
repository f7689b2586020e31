"""The Yonyou U8 OpenAPI (V12 and later) voucher client: post once per key, look up by key, list by date.

Every call carries ``from_account`` (the calling app's account), ``to_account`` (the enterprise's),
``app_key`` and ``token`` in the query, and ``ds_sequence`` (which account set, 账套: the book). The token
comes from ``GET /system/token?from_account&app_key&app_secret`` as ``{"errcode": "0", "token": {"id",
"expiresIn"}}`` and is cached. Answers are JSON with a string ``errcode`` ("0" success). Codes used here
(unverified: the emulator's, U8 publishes no complete table): 30001/30002/30003 refused accounts, app key or
secret; 30004 an invalid or expired token (a new token, one retry); 30009 throttled (retryable); 20002 the
voucher failed validation; HTTP 5xx an outage (retryable).

Exactly once: ``biz_id`` maps 1:1 to the voucher, so resubmitting a key yields the same voucher (U8 answers
it as a success, so the client cannot tell it was a repeat). ``sync=1`` makes the add synchronous (the
default is asynchronous: the answer would carry no voucher). ``reserve2`` also carries the key, and the
read-back filters on it (``voucherdetails/batch_get?coutno_id=``): with ``resolve_first`` the client looks
the key up before posting and returns that voucher as ``replayed``. Listing by date is a ``batch_get`` with
``date_begin``/``date_end`` and ``page_index``/``rows_per_page`` (unverified: plausible parameters), read to
the last page and grouped by voucher.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import requests

from connectors.base import ConnectorError
from connectors.erp import POST_FAILED, BookedVoucher, PostedVoucher, VoucherDraft
from connectors.erp_http import new_session, unavailable
from connectors.yonyou.errors import CachedToken, TokenRefused, credentials_refused, refused, with_token
from connectors.yonyou.u8_wire import booked, field_errors, voucher_body
from connectors.yonyou.wire import bad_answer, parse, redact, send, to_json
from connectors.yonyou.yonbip_client import today_utc

VENDOR = "Yonyou U8"
TOKEN_LIFETIME_S = 7200.0
CREDENTIALS = {"30001": "the from_account or to_account", "30002": "the app key", "30003": "the app secret"}
TOKEN_REFUSED = "30004"  # noqa: S105 (an error code, not a password)
THROTTLED = "30009"
redact("urllib3.connectionpool")


@dataclass(frozen=True)
class U8Config:
    base_url: str
    from_account: str
    to_account: str
    app_key: str
    app_secret: str = field(repr=False)
    book: str = ""  # ds_sequence when the draft names none
    voucher_type: str = "记"
    enter: str = ""  # the U8 user named as the voucher's maker (制单人)
    book_currency: str = "CNY"
    dimensions: Mapping[str, str] = field(default_factory=dict)
    timeout: tuple[float, float] = (3.05, 30.0)
    page_size: int = 200


class U8Client:
    name = "yonyou_u8"

    def __init__(self, config: U8Config, *, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time, today: Callable[[], date] = today_utc) -> None:
        self.config = config
        self._session = session or new_session()
        self._token = CachedToken(self._fetch_token, clock)
        self._today = today

    def __repr__(self) -> str:
        return f"U8Client(to_account={self.config.to_account!r}, book={self.config.book!r})"

    # --- the ErpClient interface ---------------------------------------------------------------------------

    def post_voucher(self, draft: VoucherDraft, *, idempotency_key: str,
                     resolve_first: bool = False) -> PostedVoucher:
        if resolve_first:
            found = self.find_voucher(idempotency_key=idempotency_key)
            if found:
                return PostedVoucher(found.voucher_no, draft.document_no, replayed=True)
        cfg = self.config
        body = voucher_body(draft, idempotency_key, voucher_type=cfg.voucher_type, enter=cfg.enter,
                            book_currency=cfg.book_currency, dimensions=cfg.dimensions, today=self._today())
        answer = self._call("POST", "/api/voucher/add", {
            "ds_sequence": draft.book or cfg.book, "biz_id": idempotency_key, "sync": "1"}, body, posting=True)
        if answer.get("errcode") == "0":
            if not answer.get("id"):
                raise bad_answer(VENDOR, "errcode 0 without the voucher's id", ambiguous=True)
            return PostedVoucher(str(answer["id"]), draft.document_no)
        errmsg = str(answer.get("errmsg", ""))
        raise refused(VENDOR, f"errcode {answer.get('errcode')}: {errmsg}", field_errors(errmsg))

    def find_voucher(self, *, idempotency_key: str) -> PostedVoucher | None:
        rows = self._page({"coutno_id": idempotency_key, "page_index": "1", "rows_per_page": "100"})[0]
        found = [r for r in rows if str(r.get("coutno_id")) == idempotency_key]
        return PostedVoucher(str(found[0]["ino_id"]), idempotency_key, replayed=True) if found else None

    def list_vouchers(self, *, start: date, end: date) -> Sequence[BookedVoucher]:
        rows: list[dict[str, Any]] = []
        index = 1
        while True:
            page, pages = self._page({"date_begin": start.isoformat(), "date_end": end.isoformat(),
                                      "page_index": str(index), "rows_per_page": str(self.config.page_size)})
            rows += page
            if not page or index >= pages:
                break
            index += 1
        vouchers: dict[str, list[dict[str, Any]]] = {}  # a voucher's rows may straddle two pages
        for row in rows:
            vouchers.setdefault(str(row.get("ino_id")), []).append(row)
        return [booked(v, self.config.dimensions, self.config.book_currency) for v in vouchers.values()]

    def _page(self, query: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
        answer = self._call("GET", "/api/voucherdetails/batch_get", {"ds_sequence": self.config.book, **query},
                            None, posting=False)
        if answer.get("errcode") != "0":
            raise ConnectorError(POST_FAILED, f"{VENDOR} refused the voucher query: errcode "
                                 f"{answer.get('errcode')}: {str(answer.get('errmsg', ''))[:200]}",
                                 retryable=False, vendor=VENDOR)
        rows = answer.get("voucherdetails") or []
        if not isinstance(rows, list):
            raise bad_answer(VENDOR, "voucherdetails that is not a list")
        return [r for r in rows if isinstance(r, dict)], int(str(answer.get("page_count") or 0))

    # --- the token and one call ----------------------------------------------------------------------------

    def _fetch_token(self) -> tuple[str, float]:
        cfg = self.config
        answer = self._json(send(self._session, "GET", cfg.base_url + "/system/token", vendor=VENDOR,
                                 timeout=cfg.timeout, params={"from_account": cfg.from_account,
                                                              "app_key": cfg.app_key, "app_secret": cfg.app_secret}),
                            posting=False)
        if answer.get("errcode") != "0":
            raise credentials_refused(VENDOR, f"errcode {answer.get('errcode')}: "
                                      f"{CREDENTIALS.get(str(answer.get('errcode')), 'the app key or secret')} "
                                      "may be wrong")
        token = answer.get("token") or {}
        if not isinstance(token, dict) or not token.get("id"):
            raise bad_answer(VENDOR, "the token request without token.id")
        return str(token["id"]), float(token.get("expiresIn") or TOKEN_LIFETIME_S)

    def _call(self, method: str, path: str, query: dict[str, str], body: dict[str, Any] | None, *,
              posting: bool) -> dict[str, Any]:
        cfg = self.config

        def attempt(token: str) -> dict[str, Any]:
            params = {"from_account": cfg.from_account, "to_account": cfg.to_account, "app_key": cfg.app_key,
                      "token": token, **query}
            extra: dict[str, Any] = {} if body is None else {
                "data": to_json(body).encode(), "headers": {"Content-Type": "application/json;charset=utf-8"}}
            answer = self._json(send(self._session, method, cfg.base_url + path, vendor=VENDOR, timeout=cfg.timeout,
                                     params=params, **extra), posting=posting)
            errcode = answer.get("errcode")
            if errcode == TOKEN_REFUSED:
                raise TokenRefused()
            if errcode == THROTTLED:
                raise unavailable(VENDOR, f"throttled the call (errcode {errcode})", ambiguous=False)
            if errcode in CREDENTIALS:
                raise credentials_refused(VENDOR, f"errcode {errcode}: {CREDENTIALS[errcode]} may be wrong")
            return answer

        return with_token(self._token, attempt, vendor=VENDOR)

    @staticmethod
    def _json(response: requests.Response, *, posting: bool) -> dict[str, Any]:
        answer = parse(response, vendor=VENDOR, ambiguous=posting)
        if not isinstance(answer, dict):
            raise bad_answer(VENDOR, f"HTTP {response.status_code} without its JSON object", ambiguous=posting)
        answer["errcode"] = str(answer.get("errcode", ""))
        return answer
