"""Reading one Yonyou connection's settings (a TOML table): text keys, the timeout, the page size, dimensions.

Every reader raises ``ErpSettingsInvalid`` naming the key, so a worker refuses to start on a half-read
configuration instead of failing at the first voucher.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.erp import DIMENSIONS
from connectors.erp_registry import ErpSettingsInvalid, require

CONNECT_TIMEOUT_S = 3.05


def where(settings: Mapping[str, Any]) -> str:
    """How error messages name this table, e.g. ``ERP settings (connector yonbip)``."""
    return f"ERP settings (connector {settings.get('connector', '?')})"


def required(settings: Mapping[str, Any], key: str) -> str:
    return require(settings, key, where=where(settings))


def optional(settings: Mapping[str, Any], key: str, default: str) -> str:
    value = settings.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ErpSettingsInvalid(f"{where(settings)}: {key} must be non-empty text")
    return value.strip()


def timeout(settings: Mapping[str, Any]) -> tuple[float, float]:
    """(connect, read) seconds from ``timeout_seconds`` (default 30): a voucher save can take a while."""
    value = settings.get("timeout_seconds", 30)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 600:
        raise ErpSettingsInvalid(f"{where(settings)}: timeout_seconds must be a number of seconds, 1 to 600")
    return min(CONNECT_TIMEOUT_S, float(value)), float(value)


def page_size(settings: Mapping[str, Any], default: int, maximum: int) -> int:
    value = settings.get("page_size", default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ErpSettingsInvalid(f"{where(settings)}: page_size must be a whole number, 1 to {maximum}")
    return value


def dimensions(settings: Mapping[str, Any], defaults: Mapping[str, str]) -> dict[str, str]:
    """Neutral dimension name -> the vendor's auxiliary field: ``defaults`` overridden by the ``dimensions``
    table. Two neutral names on one vendor field could not be told apart when read back, so that is refused."""
    table = settings.get("dimensions", {})
    if not isinstance(table, Mapping):
        raise ErpSettingsInvalid(f"{where(settings)}: dimensions must be a table, e.g. dimensions = "
                                 "{department = \"dept\"}")
    merged = dict(defaults)
    for name, field in table.items():
        if name not in DIMENSIONS:
            raise ErpSettingsInvalid(f"{where(settings)}: dimensions.{name} is not one of {', '.join(DIMENSIONS)}")
        if not isinstance(field, str) or not field.strip():
            raise ErpSettingsInvalid(f"{where(settings)}: dimensions.{name} must be the vendor's field (text)")
        merged[name] = field.strip()
    if len(set(merged.values())) != len(merged):
        raise ErpSettingsInvalid(f"{where(settings)}: dimensions map two names to one vendor field: {merged}")
    return merged
