"""Which OA suites the company uses, and with which credentials: a TOML file and the environment, never code.

``BUDGETFLOW_OA_CONFIG`` names the file; without it, ``oa.toml`` in the instance folder is read if it exists,
and no file means no OA (the stand-ins answer NOT_CONFIGURED). One table per vendor the company uses::

    [wecom]
    corp_id = "ww0123456789abcdef"
    agent_id = "1000002"
    base_url = "https://qyapi.weixin.qq.com"   # optional; tests and the demo point it at the emulator

Secrets (app secrets, callback tokens, AES keys) are better kept out of the file: each can be given as
``BUDGETFLOW_OA_<VENDOR>_<FIELD>`` (``BUDGETFLOW_OA_WECOM_SECRET``), which wins over the file. A file that
holds a secret must not be readable by group or others, as ssh treats its keys. Every problem is reported
with the file and the key, and nothing starts with a half-read configuration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from engine.config import PREFIX, SettingInvalid
from engine.settings_files import read_toml, require_private

FIELDS: dict[str, dict[str, tuple[bool, bool]]] = {  # vendor -> field -> (required, secret)
    "dingtalk": {"app_key": (True, False), "app_secret": (True, True), "callback_token": (True, True),
                 "encoding_aes_key": (True, True), "corp_id": (False, False), "agent_id": (False, False),
                 "base_url": (False, False), "legacy_base_url": (False, False)},
    "wecom": {"corp_id": (True, False), "agent_id": (True, False), "secret": (True, True),
              "callback_token": (True, True), "encoding_aes_key": (True, True), "base_url": (False, False)},
    "feishu": {"app_id": (True, False), "app_secret": (True, True), "verification_token": (True, True),
               "encrypt_key": (True, True), "base_url": (False, False)},
}
# DingTalk's legacy API (oapi) and sign-in page follow base_url unless set: the real hosts for the real API,
# the emulator (which serves all three) otherwise.
DEFAULT_URLS = {"dingtalk": {"base_url": "https://api.dingtalk.com"},
                "wecom": {"base_url": "https://qyapi.weixin.qq.com"},
                "feishu": {"base_url": "https://open.feishu.cn"}}


@dataclass(frozen=True)
class OaConnection:
    """One vendor's settings; ``values`` holds every field (secrets included), so it is kept out of repr."""

    vendor: str
    values: Mapping[str, str] = field(repr=False)

    def __getitem__(self, name: str) -> str:
        return self.values[name]

    def get(self, name: str) -> str | None:
        return self.values.get(name)


def oa_config_path(instance_dir: Path, environ: Mapping[str, str] | None = None) -> Path | None:
    env = os.environ if environ is None else environ
    named = env.get(f"{PREFIX}OA_CONFIG", "").strip()
    if named:
        return Path(named).expanduser().resolve()
    default = instance_dir / "oa.toml"
    return default if default.exists() else None


def load_oa_connections(instance_dir: Path, environ: Mapping[str, str] | None = None) -> dict[str, OaConnection]:
    """Every configured vendor's connection, by vendor; SettingInvalid names what is wrong and where."""
    env = os.environ if environ is None else environ
    path = oa_config_path(instance_dir, env)
    tables = _read(path) if path is not None else {}
    where = str(path) if path is not None else "the environment"
    for vendor in FIELDS:  # a vendor configured only through the environment counts too
        if any(f"{PREFIX}OA_{vendor.upper()}_{name.upper()}" in env for name in FIELDS[vendor]):
            tables.setdefault(vendor, {})
    connections = {vendor: _connection(vendor, table, env, where) for vendor, table in tables.items()}
    if path is not None and _holds_secret(tables):
        _require_private(path)
    return connections


def _read(path: Path) -> dict[str, dict[str, object]]:
    data = read_toml(path, variable="OA_CONFIG", what="OA")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise SettingInvalid(f"{path}: unknown vendor [{unknown[0]}]: one of {', '.join(sorted(FIELDS))}")
    for vendor, table in data.items():
        if not isinstance(table, dict):
            raise SettingInvalid(f"{path}: [{vendor}] must be a table of settings")
    return {vendor: dict(table) for vendor, table in data.items()}


def _connection(vendor: str, table: Mapping[str, object], env: Mapping[str, str], where: str) -> OaConnection:
    fields = FIELDS[vendor]
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise SettingInvalid(f"{where}: [{vendor}] has an unknown setting {unknown[0]!r}: "
                             f"one of {', '.join(sorted(fields))}")
    values = {**DEFAULT_URLS[vendor]}
    for name, (required, _secret) in fields.items():
        value = env.get(f"{PREFIX}OA_{vendor.upper()}_{name.upper()}", table.get(name))
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise SettingInvalid(f"{where}: [{vendor}] needs {name} (or {PREFIX}OA_{vendor.upper()}_"
                                     f"{name.upper()} in the environment)")
            continue
        if not isinstance(value, str | int):
            raise SettingInvalid(f"{where}: [{vendor}] {name} must be text")
        values[name] = str(value).strip()
    for name in ("base_url", "legacy_base_url"):
        if name in values and not values[name].startswith(("https://", "http://")):
            raise SettingInvalid(f"{where}: [{vendor}] {name} must be an http(s) URL")
        if name in values:
            values[name] = values[name].rstrip("/")
    return OaConnection(vendor, values)


def _holds_secret(tables: Mapping[str, Mapping[str, object]]) -> bool:
    return any(FIELDS[vendor][name][1] for vendor, table in tables.items() for name in table if name in FIELDS[vendor])


def _require_private(path: Path) -> None:
    require_private(path, instead=f"{PREFIX}OA_<VENDOR>_<FIELD> variables")
