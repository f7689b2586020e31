"""The YonBIP (用友 YonBIP / BIP 财务云) voucher client: post once per key, look up by key, list by date.

Calls go to the tenant's gateway with ``?access_token=``; every answer is HTTP 200 with a string ``code``
("200" success) except an unknown path (HTTP 404, code 310404) and an outage (HTTP 5xx). Platform codes:
310001 (no token) and 310036 (illegal or expired token) fetch a new token and retry once; the EFI read APIs
answer an illegal token with the text ``非法token`` instead (handled the same); 310037 (the app may not call
the API) is refused credentials; 310032/310039/310042/310046 (rate limits) are retryable UNAVAILABLE, nothing
done; 310504 (the gateway timed out waiting for the service) is retryable UNAVAILABLE and, for addVoucher,
ambiguous: the service may have saved the voucher.

Exactly once: ``businessId`` carries the key, and YonBIP refuses a second voucher with the same businessId.
The emulator answers that repeat with code "999" and a message naming the key and the existing voucher
(``businessId[EC-2026-000123]已存在,凭证ID:...``; the real wording is unverified); the client reads that
voucher back (``queryVoucherById``, else the query by businessId) and returns it as ``replayed``. A tenant
that answers a repeat with code "200" and the first voucher would be returned the same voucher, not marked
replayed. With ``resolve_first`` the client looks the key up before posting anyway: it costs one query on a
retry only, and it does not depend on the tenant enforcing businessId.

Read-back: ``POST /yonbip/EFI/openapi/voucher/queryVoucherById {"voucherId"}`` (documented) and, for the
look-up by key and the list by date, ``POST /yonbip/EFI/openapi/voucher/queryVouchers {accbookCode,
businessId, makeTimeStart, makeTimeEnd, pageIndex (from 1), pageSize}`` answering ``data {recordList,
pageIndex, pageCount, recordCount}`` (unverified: a plausible query API; the tenant's API list names the
real one).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import requests

from connectors.base import ConnectorError
from connectors.erp import POST_FAILED, BookedVoucher, PostedVoucher, VoucherDraft
from connectors.erp_http import new_session, unavailable
from connectors.yonyou.errors import CachedToken, TokenRefused, credentials_refused, refused, with_token
from connectors.yonyou.wire import bad_answer, parse, redact, send, to_json
from connectors.yonyou.yonbip_auth import YonBipAuth, YonBipCredentials
from connectors.yonyou.yonbip_wire import DUPLICATE, booked, field_errors, voucher_body

VENDOR = "YonBIP"
ADD_PATH = "/yonbip/fi/ficloud/openapi/voucher/addVoucher"
BY_ID_PATH = "/yonbip/EFI/openapi/voucher/queryVoucherById"
QUERY_PATH = "/yonbip/EFI/openapi/voucher/queryVouchers"
TOKEN_REFUSED = frozenset({"310001", "310036"})
RATE_LIMITED = frozenset({"310032", "310039", "310042", "310046"})
redact("urllib3.connectionpool")


@dataclass(frozen=True)
class YonBipConfig:
    credentials: YonBipCredentials = field(repr=False)
    book: str  # accbookCode when the draft names none
    voucher_type: str
    src_system: str
    dimensions: Mapping[str, str]
    timeout: tuple[float, float]
    page_size: int


def today_utc() -> date:
    return datetime.now(UTC).date()


class YonBipClient:
    name = "yonbip"

    def __init__(self, config: YonBipConfig, *, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time, today: Callable[[], date] = today_utc) -> None:
        self.config = config
        self._session = session or new_session()
        self._auth = YonBipAuth(config.credentials, self._session, timeout=config.timeout, clock=clock)
        self._token = CachedToken(self._auth.fetch_token, clock)
        self._today = today

    def __repr__(self) -> str:
        return f"YonBipClient(tenant={self.config.credentials.tenant_id!r}, book={self.config.book!r})"

    # --- the ErpClient interface ---------------------------------------------------------------------------

    def post_voucher(self, draft: VoucherDraft, *, idempotency_key: str,
                     resolve_first: bool = False) -> PostedVoucher:
        if resolve_first:
            found = self.find_voucher(idempotency_key=idempotency_key)
            if found:
                return PostedVoucher(found.voucher_no, draft.document_no, replayed=True)
        cfg = self.config
        body = voucher_body(draft, idempotency_key, book=cfg.book, voucher_type=cfg.voucher_type,
                            src_system=cfg.src_system, dimensions=cfg.dimensions, today=self._today())
        answer = self._call(ADD_PATH, body, posting=True)
        if str(answer.get("code")) == "200":
            voucher_id = (answer.get("data") or {}).get("voucherId")
            if not voucher_id:
                raise bad_answer(VENDOR, "code 200 without data.voucherId", ambiguous=True)
            return PostedVoucher(str(voucher_id), draft.document_no)
        message = str(answer.get("message", ""))
        duplicate = DUPLICATE.search(message)
        if duplicate:
            return PostedVoucher(self._existing(idempotency_key, duplicate["id"]), draft.document_no, replayed=True)
        raise refused(VENDOR, f"code {answer.get('code')}: {message}", field_errors(message))

    def find_voucher(self, *, idempotency_key: str) -> PostedVoucher | None:
        page = self._page({"businessId": idempotency_key, "pageIndex": 1, "pageSize": 10})
        found = [r for r in page.get("recordList") or [] if str(r.get("businessId")) == idempotency_key]
        return PostedVoucher(str(found[0]["voucherId"]), idempotency_key, replayed=True) if found else None

    def list_vouchers(self, *, start: date, end: date) -> Sequence[BookedVoucher]:
        vouchers: list[BookedVoucher] = []
        index = 1
        while True:
            page = self._page({"accbookCode": self.config.book, "makeTimeStart": start.isoformat(),
                               "makeTimeEnd": end.isoformat(), "pageIndex": index,
                               "pageSize": self.config.page_size})
            records = page.get("recordList") or []
            vouchers += [booked(r, self.config.dimensions) for r in records]
            if not records or index >= int(page.get("pageCount") or 0):
                return vouchers
            index += 1

    # --- read-back -----------------------------------------------------------------------------------------

    def _existing(self, key: str, voucher_id: str | None) -> str:
        """The voucher YonBIP holds under ``key`` after it refused a repeat of it."""
        if voucher_id:
            answer = self._call(BY_ID_PATH, {"voucherId": voucher_id}, posting=False)
            record = answer.get("data") if str(answer.get("code")) == "200" else None
            if isinstance(record, dict) and str(record.get("businessId")) == key:
                return str(record.get("voucherId") or voucher_id)
        found = self.find_voucher(idempotency_key=key)
        if found is None:
            raise bad_answer(VENDOR, f"businessId {key} exists, but no query finds its voucher")
        return found.voucher_no

    def _page(self, query: dict[str, Any]) -> dict[str, Any]:
        answer = self._call(QUERY_PATH, query, posting=False)
        if str(answer.get("code")) != "200":
            raise ConnectorError(POST_FAILED, f"{VENDOR} refused the voucher query: code {answer.get('code')}: "
                                 f"{str(answer.get('message', ''))[:200]}", retryable=False, vendor=VENDOR)
        data = answer.get("data")
        if not isinstance(data, dict):
            raise bad_answer(VENDOR, "a voucher query without data")
        return data

    # --- one call ------------------------------------------------------------------------------------------

    def _call(self, path: str, body: dict[str, Any], *, posting: bool) -> dict[str, Any]:
        def attempt(token: str) -> dict[str, Any]:
            response = send(self._session, "POST", self._auth.gateway_url() + path, vendor=VENDOR,
                            timeout=self.config.timeout, params={"access_token": token},
                            data=to_json(body).encode(), headers={"Content-Type": "application/json;charset=utf-8"})
            return self._answer(response, path, posting=posting)

        return with_token(self._token, attempt, vendor=VENDOR)

    def _answer(self, response: requests.Response, path: str, *, posting: bool) -> dict[str, Any]:
        """The answer, or the error its platform code means; business codes are left to the caller."""
        if "json" not in response.headers.get("Content-Type", "") and "非法token" in response.content.decode(
                "utf-8", "replace")[:100]:
            raise TokenRefused()
        if response.status_code == 404:  # code 310404: nothing ran
            raise ConnectorError(POST_FAILED, f"{VENDOR} has no API {path} (HTTP 404): check auth_url and the "
                                 "tenant's licensed services", retryable=False, vendor=VENDOR)
        answer = parse(response, vendor=VENDOR, ambiguous=posting)
        if not isinstance(answer, dict):
            raise bad_answer(VENDOR, f"HTTP {response.status_code} without its JSON object", ambiguous=posting)
        code = str(answer.get("code", ""))
        if code in TOKEN_REFUSED:
            raise TokenRefused()
        if code in RATE_LIMITED:
            raise unavailable(VENDOR, f"throttled the call (code {code})", ambiguous=False)
        if code == "310504":
            raise unavailable(VENDOR, "timed out at its gateway (code 310504)", ambiguous=posting)
        if code == "310037":
            raise credentials_refused(VENDOR, "code 310037: the app may not call this API; grant it in the "
                                      "open platform")
        return answer
