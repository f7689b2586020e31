"""Yonyou (用友) voucher connectors: YonBIP (``connector = "yonbip"``) and U8 OpenAPI (``"yonyou_u8"``).

``connect_yonbip(settings)`` reads (docs/erp/yonyou.md has an example table of each):

- ``tenant_id``, ``app_key``, ``app_secret`` (required): the tenant and its self-built app (自建应用);
- ``book`` (required): the account book code (``accbookCode``) when a voucher names none;
- ``auth_url``: where the tenant's data centre is asked for (default ``https://apigateway.yonyoucloud.com``);
- ``voucher_type`` (default ``"01"``): ``voucherTypeCode`` when a voucher names none;
- ``src_system_code`` (default ``"figl"``, the vendor's example): ``srcSystemCode``, the source system;
- ``dimensions``: neutral dimension -> ``filedCode``, default cost_center ``costcenter``, department ``dept``,
  employee ``staff``, vendor ``supplier``, project ``project`` (the tenant's auxiliary codes: unverified);
- ``timeout_seconds`` (default 30), ``page_size`` (default 100, at most 500) for queries.

``connect_u8(settings)`` reads:

- ``from_account``, ``to_account``, ``app_key``, ``app_secret`` (required): the app's and the enterprise's
  accounts and the app's key and secret;
- ``book`` (required): ``ds_sequence``, the account set (账套) when a voucher names none;
- ``enter`` (required): the U8 user named as maker (制单人);
- ``base_url`` (default ``https://api.yonyouup.com``), ``voucher_type`` (default ``"记"``),
  ``book_currency`` (default ``"CNY"``: vouchers in another currency carry their amounts in both);
- ``dimensions``: neutral dimension -> entry field, default cost_center ``self_define1``, department
  ``dept_id``, employee ``person_id``, vendor ``supplier_id``, project ``item_id``;
- ``timeout_seconds`` (default 30), ``page_size`` (rows per query page, default 200, at most 1000).

Both factories also take ``session`` and ``clock`` (tests and the demo inject them).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from connectors.erp_registry import ErpFactory
from connectors.yonyou import settings as read
from connectors.yonyou.u8_client import U8Client, U8Config
from connectors.yonyou.yonbip_auth import YonBipCredentials
from connectors.yonyou.yonbip_client import YonBipClient, YonBipConfig

YONBIP_DIMENSIONS = {"cost_center": "costcenter", "department": "dept", "employee": "staff", "vendor": "supplier",
                     "project": "project"}
U8_DIMENSIONS = {"cost_center": "self_define1", "department": "dept_id", "employee": "person_id",
                 "vendor": "supplier_id", "project": "item_id"}


def connect_yonbip(settings: Mapping[str, Any], *, session: requests.Session | None = None,
                   clock: Callable[[], float] = time.time) -> YonBipClient:
    credentials = YonBipCredentials(
        auth_url=read.optional(settings, "auth_url", "https://apigateway.yonyoucloud.com").rstrip("/"),
        tenant_id=read.required(settings, "tenant_id"), app_key=read.required(settings, "app_key"),
        app_secret=read.required(settings, "app_secret"))
    config = YonBipConfig(
        credentials=credentials, book=read.required(settings, "book"),
        voucher_type=read.optional(settings, "voucher_type", "01"),
        src_system=read.optional(settings, "src_system_code", "figl"),
        dimensions=read.dimensions(settings, YONBIP_DIMENSIONS), timeout=read.timeout(settings),
        page_size=read.page_size(settings, 100, 500))
    return YonBipClient(config, session=session, clock=clock)


def connect_u8(settings: Mapping[str, Any], *, session: requests.Session | None = None,
               clock: Callable[[], float] = time.time) -> U8Client:
    config = U8Config(
        base_url=read.optional(settings, "base_url", "https://api.yonyouup.com").rstrip("/"),
        from_account=read.required(settings, "from_account"), to_account=read.required(settings, "to_account"),
        app_key=read.required(settings, "app_key"), app_secret=read.required(settings, "app_secret"),
        book=read.required(settings, "book"), voucher_type=read.optional(settings, "voucher_type", "记"),
        enter=read.required(settings, "enter"), book_currency=read.optional(settings, "book_currency", "CNY"),
        dimensions=read.dimensions(settings, U8_DIMENSIONS), timeout=read.timeout(settings),
        page_size=read.page_size(settings, 200, 1000))
    return U8Client(config, session=session, clock=clock)


# Both factories as the registry calls them (mypy checks each client against the ErpClient protocol here).
FACTORIES: dict[str, ErpFactory] = {"yonbip": connect_yonbip, "yonyou_u8": connect_u8}

__all__ = ["FACTORIES", "U8Client", "YonBipClient", "connect_u8", "connect_yonbip"]
