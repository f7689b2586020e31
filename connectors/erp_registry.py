"""Which ERP connector a company posts through: a name in the ERP settings, or a plug-in ``module:factory``.

Every factory takes the connection's settings (a mapping read from the settings file, secrets included) and
returns an ``ErpClient``; it raises ``ErpSettingsInvalid`` naming the setting that is missing or wrong, so a
worker refuses to start on a half-read configuration instead of failing at the first voucher. A company (or a
test) plugs in its own connector by naming its factory: ``connector = "mycompany.erp:connect"``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from connectors.erp import ErpClient

ErpFactory = Callable[[Mapping[str, Any]], ErpClient]

CONNECTORS: dict[str, str] = {
    "kingdee": "connectors.kingdee:connect",
    "yonyou_u8": "connectors.yonyou:connect_u8",
    "yonbip": "connectors.yonyou:connect_yonbip",
    "sap": "connectors.sap:connect",
}


class ErpSettingsInvalid(ValueError):
    """An ERP connection's settings are missing or wrong; the message names the setting."""


def factory(name: str) -> ErpFactory:
    """The factory of ``name``: one of CONNECTORS, or ``package.module:callable``."""
    target = CONNECTORS.get(name, name)
    module_name, _, attr = target.partition(":")
    if not attr:
        raise ErpSettingsInvalid(f"connector {name!r}: not one of {', '.join(sorted(CONNECTORS))} "
                                 "and not a plug-in of the form package.module:factory")
    try:
        found = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ErpSettingsInvalid(f"connector {name!r}: cannot load {target}: {exc}") from exc
    if not callable(found):
        raise ErpSettingsInvalid(f"connector {name!r}: {target} is not callable")
    return found  # type: ignore[no-any-return,unused-ignore]


def require(settings: Mapping[str, Any], key: str, *, where: str) -> str:
    """A required text setting, or ErpSettingsInvalid naming it (``where``: e.g. ``erp.toml [erp]``)."""
    value = settings.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ErpSettingsInvalid(f"{where}: {key} is required (text)")
    return value.strip()
