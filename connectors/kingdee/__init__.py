"""Kingdee K/3 Cloud (金蝶云星空) vouchers over its WebAPI: ``connect(settings)`` gives the ``ErpClient``.

Settings (one TOML table; ``kingdee.md`` has an example):

- ``connector = "kingdee"``;
- ``base_url`` (required): the site, e.g. ``https://erp.example.com``; calls go to ``{base_url}/k3cloud/...``;
- ``acct_id`` (required): the data centre (账套) id; ``user_name`` (required): the integration user;
- ``app_id`` (required): the third-party app's AppID, ``<client id>_<32 characters>``; ``app_secret``
  (required): its secret, never logged;
- ``auth``: ``"signed"`` (default: the SDK 8.x signed headers on every call) or ``"session"``
  (``LoginByAppSecret`` and a session cookie, re-established when it expires);
- ``lcid`` (default 2052, simplified Chinese) and ``org_num`` (default 0): the SDK's locale and organisation;
- ``book`` (required): the account book number (``FAccountBookID``) when a voucher names none, and the book
  ``list_vouchers`` reads;
- ``voucher_group`` (default ``"PRE001"``, 记): the voucher group when a voucher names no type;
- ``exchange_rate_type`` (default ``"HLTX01_SYS"``, the fixed rate type);
- ``dimensions``: neutral dimension name → flex field, merged over the defaults
  ``{vendor = "FFLEX4", department = "FFLEX5", employee = "FFLEX7", cost_center = "FFLEX11",
  project = "FFLEX13"}``; each value is ``FFLEX4``..``FFLEX13`` or a tenant's own ``FF100001``;
- ``currencies``: ISO code → Kingdee currency number, merged over the presets (``CNY = "PRE001"``,
  ``USD = "PRE007"``, ...);
- ``timeout_seconds`` (default 30): how long to wait for an answer; ``page_size`` (default and most 2000):
  rows per ExecuteBillQuery page.

A missing or wrong key raises ``ErpSettingsInvalid`` naming it. Kingdee's own Python SDK is not used at run
time: it turns TLS verification off and waits 120 s per call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.erp import ErpClient
from connectors.kingdee.client import KingdeeClient
from connectors.kingdee.settings import KingdeeSettings, read_settings

__all__ = ["KingdeeClient", "KingdeeSettings", "connect", "read_settings"]


def connect(settings: Mapping[str, Any]) -> ErpClient:
    """The Kingdee client for one ERP settings table."""
    return KingdeeClient(read_settings(settings))
