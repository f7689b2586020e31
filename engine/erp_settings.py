"""Which ERP the company posts vouchers to, and with which credentials: a TOML file and the environment.

``BUDGETFLOW_ERP_CONFIG`` names the file; without it, ``erp.toml`` in the instance folder is read if it exists,
and no file means the built-in ``local`` ERP (vouchers in budgetflow's own database). The file has one table::

    [erp]
    connector = "kingdee"          # local, kingdee, yonyou_u8, yonbip, sap, or a plug-in "package.module:factory"
    base_url = "https://erp.example.com"
    acct_id = "62e1b2ed0f6d4a"
    app_id = "232300_5e8o9bEtzmK"  # every other key goes to the connector as it is (docs/erp.md lists them)

Secrets are better kept out of the file: any key can be given as ``BUDGETFLOW_ERP_<KEY>``
(``BUDGETFLOW_ERP_APP_SECRET``), which wins over the file. A file that holds a secret (a key naming a secret,
password or token) must not be readable by group or others. The connector itself checks its keys when the
worker starts (``ErpSettingsInvalid`` names the key), so nothing runs on a half-read configuration.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.config import PREFIX, SettingInvalid
from engine.settings_files import read_toml, require_private

_SECRET_KEY = re.compile(r"secret|password|token|private", re.IGNORECASE)


@dataclass(frozen=True)
class ErpConnection:
    """The configured connector's name and its settings (secrets included, so kept out of repr)."""

    connector: str
    values: Mapping[str, Any] = field(repr=False)
    source: str = "built in"  # where it was read: for messages


LOCAL = ErpConnection("local", {})


def erp_config_path(instance_dir: Path, environ: Mapping[str, str] | None = None) -> Path | None:
    env = os.environ if environ is None else environ
    named = env.get(f"{PREFIX}ERP_CONFIG", "").strip()
    if named:
        return Path(named).expanduser().resolve()
    default = instance_dir / "erp.toml"
    return default if default.exists() else None


def load_erp_connection(instance_dir: Path, environ: Mapping[str, str] | None = None) -> ErpConnection:
    """The configured ERP; SettingInvalid names what is wrong and where."""
    env = os.environ if environ is None else environ
    path = erp_config_path(instance_dir, env)
    table = _read(path) if path is not None else {}
    overrides = {name[len(PREFIX) + 4:].lower(): value for name, value in env.items()
                 if name.startswith(f"{PREFIX}ERP_") and name != f"{PREFIX}ERP_CONFIG"}
    values = {**table, **overrides}
    if not values:
        return LOCAL
    where = str(path) if path is not None else "the environment"
    connector = values.pop("connector", None)
    if not isinstance(connector, str) or not connector.strip():
        raise SettingInvalid(f"{where}: [erp] needs connector (local, kingdee, yonyou_u8, yonbip, sap or "
                             "package.module:factory)")
    if path is not None and any(_SECRET_KEY.search(name) for name in table):
        _require_private(path)
    return ErpConnection(connector.strip(), values, where)


def _read(path: Path) -> dict[str, Any]:
    data = read_toml(path, variable="ERP_CONFIG", what="ERP")
    unknown = sorted(set(data) - {"erp"})
    if unknown:
        raise SettingInvalid(f"{path}: unknown table [{unknown[0]}]: the file has one table, [erp]")
    table = data.get("erp", {})
    if not isinstance(table, dict):
        raise SettingInvalid(f"{path}: [erp] must be a table of settings")
    return dict(table)


def _require_private(path: Path) -> None:
    require_private(path, instead=f"{PREFIX}ERP_<KEY> variables")
