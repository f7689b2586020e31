"""A local Yonyou (用友) tenant: YonBIP's and U8 OpenAPI's voucher APIs in front of one book.

YonBIP (every answer HTTP 200 with a string ``code`` unless noted):

- ``GET /open-auth/dataCenter/getGatewayAddress?tenantId`` -> ``code "00000", data {gatewayUrl, tokenUrl}``
  (both this emulator's address); an unknown tenant -> code "10004";
- ``GET /open-auth/selfAppAuth/base/v1/getAccessToken?appKey&timestamp&signature`` (HMAC-SHA256 of
  "appKey<key>timestamp<ms>" under the app secret, base64) -> ``data {access_token, expire: 7200}``; an
  unknown appKey -> "10018", a wrong signature -> "10019"; the timestamp's age is not checked;
- ``POST /yonbip/fi/ficloud/openapi/voucher/addVoucher?access_token`` -> ``code "200", data {voucherId,
  voucherStatus "01"}``; a refused voucher -> ``code "404", message "凭证保存不成功,..."`` naming body fields as
  ``bodies[i].field`` (``i`` from 0); a businessId already booked -> ``code "999"`` naming the first voucher;
- ``POST /yonbip/EFI/openapi/voucher/queryVoucherById {voucherId}`` and ``queryVouchers {accbookCode,
  businessId, makeTimeStart, makeTimeEnd, pageIndex, pageSize <= 500}`` -> ``data {recordList, pageIndex,
  pageCount, recordCount}``; these two answer an illegal token with the text ``非法token``;
- token refusals 310001 (none) and 310036 (unknown or expired: 7200 s on the emulator's clock, or the
  ``expire_tokens`` fault: a token serves one call); 310039 under the ``throttle_every`` fault; an unknown
  path HTTP 404 with code 310404; a server error (``error_5xx_ratio``, ``down_for``) HTTP 503 with code "503".

U8 OpenAPI (answers carry a string ``errcode``, "0" success):

- ``GET /system/token?from_account&app_key&app_secret`` -> ``token {id, expiresIn: 7200}``;
- ``POST /api/voucher/add?from_account&to_account&app_key&token&ds_sequence&biz_id&sync`` -> ``{id, tradeid}``;
  a refused voucher -> errcode 20002 ``凭证保存失败:第N行(field)...``; a biz_id already booked answers the
  first voucher again;
- ``GET /api/voucherdetails/batch_get?...&coutno_id`` or ``&date_begin&date_end``, ``page_index``,
  ``rows_per_page`` (<= 1000) -> ``{voucherdetails: [one row per entry], page_count, row_count}``;
- refusals 30001 (accounts), 30002 (app key), 30003 (app secret), 30004 (token), 30009 (throttled); a server
  error HTTP 500 with errcode 99999.

Both check a voucher the same way (``checks``): book, voucher type and date present, the book known, every
account in the chart, one side per line, amounts to the cent, auxiliary fields the tenant has, debits equal
credits in the book's currency. ``queued_codes``: platform codes (YonBIP's 310504, say) the next API calls
answer after the token check. ``dedupe=False`` turns the businessId / biz_id dedupe off (a negative control).
The shared ``/_emulator/book`` and ``/_emulator/erp-faults`` endpoints drive the book and the ERP faults.

The package, one idea a module: ``model`` (credentials, books, chart, auxiliary fields), ``replies`` (the two
envelopes), ``checks`` (what a voucher must satisfy), ``state`` (tokens, the key index, the server-error
shape), ``yonbip_shapes`` and ``u8_shapes`` (each API's bodies, records and refusal wording), ``yonbip`` and
``u8`` (the endpoints) and ``app`` (the routes).
"""

from connectors.emulators.yonyou.app import YonyouEmulator
from connectors.emulators.yonyou.model import (
    APP_KEY,
    APP_SECRET,
    DEMO_ACCOUNTS,
    FROM_ACCOUNT,
    TENANT_ID,
    TO_ACCOUNT,
    TOKEN_TTL,
    U8_APP_KEY,
    U8_APP_SECRET,
    U8_BOOKS,
    YONBIP_BOOKS,
)

__all__ = ["APP_KEY", "APP_SECRET", "DEMO_ACCOUNTS", "FROM_ACCOUNT", "TENANT_ID", "TOKEN_TTL", "TO_ACCOUNT",
           "U8_APP_KEY", "U8_APP_SECRET", "U8_BOOKS", "YONBIP_BOOKS", "YonyouEmulator"]
