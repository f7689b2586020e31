"""A Kingdee connection's settings, read and checked once (``connect`` refuses a half-read configuration).

Every key is described in the package docstring (``connectors/kingdee/__init__.py``) and in ``kingdee.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.erp import DIMENSIONS
from connectors.erp_registry import ErpSettingsInvalid, require

WHERE = "ERP settings (connector kingdee)"
MAX_PAGE = 2000  # ExecuteBillQuery's largest Limit

# Standard K/3 Cloud flex slots (community): 4 supplier, 5 department, 7 employee. cost_center and project
# have no standard slot: 11 and 13 are placeholders a tenant overrides from QueryBusinessInfo.
DEFAULT_DIMENSIONS = {"vendor": "FFLEX4", "department": "FFLEX5", "employee": "FFLEX7",
                      "cost_center": "FFLEX11", "project": "FFLEX13"}
# Kingdee's preset currency codes (PRE001 is the renminbi); others come from the tenant's currency list.
DEFAULT_CURRENCIES = {"CNY": "PRE001", "HKD": "PRE002", "EUR": "PRE003", "JPY": "PRE004", "TWD": "PRE005",
                      "GBP": "PRE006", "USD": "PRE007"}
FLEX = re.compile(r"^(FFLEX([4-9]|1[0-3])|FF\d{6})$")  # FFLEX4..13, or a tenant's own FF100001


@dataclass(frozen=True)
class KingdeeSettings:
    base_url: str
    acct_id: str
    user_name: str
    app_id: str
    app_secret: str = field(repr=False)
    book: str
    auth: str = "signed"
    lcid: int = 2052
    org_num: int = 0
    voucher_group: str = "PRE001"
    exchange_rate_type: str = "HLTX01_SYS"
    dimensions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_DIMENSIONS))
    currencies: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CURRENCIES))
    timeout_seconds: float = 30.0
    page_size: int = MAX_PAGE


def read_settings(settings: Mapping[str, Any]) -> KingdeeSettings:
    """The checked settings, or ``ErpSettingsInvalid`` naming the first key that is missing or wrong."""
    text = {key: require(settings, key, where=WHERE)
            for key in ("base_url", "acct_id", "user_name", "app_id", "app_secret", "book")}
    auth = str(settings.get("auth", "signed"))
    if auth not in ("signed", "session"):
        raise ErpSettingsInvalid(f"{WHERE}: auth must be \"signed\" or \"session\"")
    if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", text["base_url"]):
        raise ErpSettingsInvalid(f"{WHERE}: base_url must be an http(s) address (the site, without /k3cloud)")
    if auth == "signed" and not re.fullmatch(r"[^_]+_[A-Za-z0-9+/]{32}", text["app_id"]):
        raise ErpSettingsInvalid(f"{WHERE}: app_id must be <client id>_<32 characters> as Kingdee issues it")
    optional = {key: _text(settings, key, default) for key, default in
                (("voucher_group", "PRE001"), ("exchange_rate_type", "HLTX01_SYS"))}
    return KingdeeSettings(
        base_url=text["base_url"].rstrip("/"), acct_id=text["acct_id"], user_name=text["user_name"],
        app_id=text["app_id"], app_secret=text["app_secret"], book=text["book"], auth=auth,
        lcid=_number(settings, "lcid", 2052, 1, 99999), org_num=_number(settings, "org_num", 0, 0, 10**9),
        **optional, dimensions=_dimensions(settings),
        currencies=_table(settings, "currencies", DEFAULT_CURRENCIES),
        timeout_seconds=float(_number(settings, "timeout_seconds", 30, 1, 600)),
        page_size=_number(settings, "page_size", MAX_PAGE, 1, MAX_PAGE))


def _text(settings: Mapping[str, Any], key: str, default: str) -> str:
    if key not in settings:
        return default
    return require(settings, key, where=WHERE)


def _number(settings: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ErpSettingsInvalid(f"{WHERE}: {key} must be a whole number from {low} to {high}")
    return value


def _table(settings: Mapping[str, Any], key: str, defaults: Mapping[str, str]) -> dict[str, str]:
    given = settings.get(key, {})
    if not isinstance(given, Mapping) or not all(isinstance(v, str) and v for v in given.values()):
        raise ErpSettingsInvalid(f"{WHERE}: {key} must be a table of texts")
    return {**defaults, **{str(k): v for k, v in given.items()}}


def _dimensions(settings: Mapping[str, Any]) -> dict[str, str]:
    table = _table(settings, "dimensions", DEFAULT_DIMENSIONS)
    for name, flex in table.items():
        if name not in DIMENSIONS:
            raise ErpSettingsInvalid(f"{WHERE}: dimensions.{name}: not one of {', '.join(DIMENSIONS)}")
        if not FLEX.match(flex):
            raise ErpSettingsInvalid(f"{WHERE}: dimensions.{name} must be FFLEX4..FFLEX13 or FF100001-style")
    if len(set(table.values())) != len(table):
        raise ErpSettingsInvalid(f"{WHERE}: dimensions: two names share one flex field")
    return table
