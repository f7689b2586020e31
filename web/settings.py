"""The web app's settings, read once from the environment (BUDGETFLOW_WEB_*), like the engine's.

The secret that signs session cookies must be the same in every web process behind one
load balancer, or a session made by one process is refused by the next: set
BUDGETFLOW_SECRET_KEY. Without it, a random key is created once in the instance folder
(``web-secret-key``, mode 0600) and read by every process of that machine afterwards.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.config import PREFIX, SettingInvalid, Settings

MIB = 1024 * 1024
SECRET_FILE = "web-secret-key"  # noqa: S105 - a file name, not a secret


@dataclass(frozen=True, slots=True)
class WebSettings:
    secret_key: str
    secure_cookies: bool  # cookies only over HTTPS; off only for a server on a loopback address
    max_request_bytes: int = 12 * MIB  # a receipt of 10 MiB plus the form around it
    login_limit: str = "10 per minute;50 per hour"  # per client address and per login name
    rate_limit_storage: str = "budgetflow://"  # the database every process shares; or a limits URI (redis://…)
    trusted_proxies: int = 0  # how many reverse proxies set X-Forwarded-For/-Proto in front of us

    @classmethod
    def from_env(cls, settings: Settings, *, host: str | None = None,
                 environ: Mapping[str, str] | None = None) -> WebSettings:
        env = os.environ if environ is None else environ
        return cls(
            secret_key=env.get(f"{PREFIX}SECRET_KEY") or _instance_secret(settings.instance_dir),
            secure_cookies=_flag(env, "WEB_SECURE_COOKIES", default=not _loopback(host)),
            max_request_bytes=_whole(env, "WEB_MAX_REQUEST_BYTES", 12 * MIB),
            login_limit=env.get(f"{PREFIX}WEB_LOGIN_LIMIT") or "10 per minute;50 per hour",
            rate_limit_storage=env.get(f"{PREFIX}WEB_RATE_LIMIT_STORAGE") or "budgetflow://",
            trusted_proxies=_whole(env, "WEB_TRUSTED_PROXIES", 0),
        )


def _instance_secret(folder: Path) -> str:
    """The machine's generated secret: made once with O_EXCL, so racing processes end up with one key."""
    path = folder / SECRET_FILE
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    key = path.read_text().strip()
    if len(key) < 32:  # an empty file from a crash between create and write: never sign with it
        raise SettingInvalid(f"{path} holds no usable key; delete it (sessions are signed again) or set "
                             f"{PREFIX}SECRET_KEY")
    return key


def _loopback(host: str | None) -> bool:
    if host in (None, "localhost"):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(PREFIX + name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingInvalid(f"{PREFIX}{name}={raw!r} is not true or false")


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(PREFIX + name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise SettingInvalid(f"{PREFIX}{name}={raw!r} is not a whole number (default {default})")
    return int(raw)
