"""Where the audit HMAC key and the audit anchor live: always outside the database.

Key, in order: ``BUDGETFLOW_AUDIT_KEY`` (the key itself), ``BUDGETFLOW_AUDIT_KEY_FILE`` (a
file holding it, e.g. a mounted secret), else the development key file ``<instance>/audit.key``.
That file is created (0600, random 256-bit key) only when a caller that writes audit rows
asks for it *and* nothing was ever written with a key: no audit rows and no anchor. A fresh
key next to existing rows would make every one of them look forged (or start a second
chain unnoticed), so a missing key is then an error. Readers such as ``audit verify`` never
create a key. Messages name variables and paths, never key material.

Anchor: ``BUDGETFLOW_AUDIT_ANCHOR_FILE``, else ``audit.anchor`` beside the key file, else in
the instance folder.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from engine.config import PREFIX, Settings
from engine.domain.audit import AuditKeyMissing

KEY_ENV = f"{PREFIX}AUDIT_KEY"
KEY_FILE_ENV = f"{PREFIX}AUDIT_KEY_FILE"
ANCHOR_FILE_ENV = f"{PREFIX}AUDIT_ANCHOR_FILE"
DEV_KEY_NAME = "audit.key"
ANCHOR_NAME = "audit.anchor"
MIN_KEY_LENGTH = 32  # characters; a 64-hex-digit key from `secrets.token_hex(32)` is the intended shape


def load_audit_key(
    settings: Settings, environ: Mapping[str, str] | None = None, *, create: bool = False,
    count_rows: Callable[[], int] | None = None,
) -> bytes:
    """The audit key as bytes.

    ``create`` allows generating the development key file when none exists; ``count_rows``
    (required with ``create``) counts the audit rows, because a key may be created only for a
    log that has never been written: no rows and no anchor file.
    """
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        return _checked(env[KEY_ENV], KEY_ENV)
    if env.get(KEY_FILE_ENV):
        return _read_key_file(Path(env[KEY_FILE_ENV]), KEY_FILE_ENV)
    dev_file = settings.instance_dir / DEV_KEY_NAME
    if not dev_file.exists():
        if not create:
            raise AuditKeyMissing(
                f"no audit key: set {KEY_ENV} or {KEY_FILE_ENV} (or keep the development key {dev_file})"
            )
        if count_rows is None:
            raise TypeError("creating the development audit key needs count_rows")
        try:
            _refuse_if_written(dev_file, anchor_file_path(settings, env), count_rows)
        except AuditKeyMissing:
            if not dev_file.exists():  # not a key made and used by a concurrent first start meanwhile
                raise
        else:
            _create_key_file(dev_file)
    return _read_key_file(dev_file, str(dev_file))


def key_source(settings: Settings, environ: Mapping[str, str] | None = None) -> tuple[str, Path | None]:
    """Where the key would be read from, in ``load_audit_key``'s order, without reading it:
    ``("environment", None)``, ``("key_file", path)`` or ``("development_key_file", path)``."""
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        return "environment", None
    if env.get(KEY_FILE_ENV):
        return "key_file", Path(env[KEY_FILE_ENV])
    return "development_key_file", settings.instance_dir / DEV_KEY_NAME


def anchor_file_path(settings: Settings, environ: Mapping[str, str] | None = None) -> Path:
    """Where the audit anchor is kept: the configured file, else beside the key file, else the instance folder."""
    env = os.environ if environ is None else environ
    if env.get(ANCHOR_FILE_ENV):
        return Path(env[ANCHOR_FILE_ENV])
    if env.get(KEY_FILE_ENV):
        return Path(env[KEY_FILE_ENV]).parent / ANCHOR_NAME
    return settings.instance_dir / ANCHOR_NAME


def development_key_warning(settings: Settings, environ: Mapping[str, str] | None = None) -> str | None:
    """One line when the key in use is the development key file, which whoever reads its folder can use."""
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV) or env.get(KEY_FILE_ENV):
        return None
    dev_file = settings.instance_dir / DEV_KEY_NAME
    database = _sqlite_file(settings.database_url)
    where = " beside the SQLite database" if database and database.parent == dev_file.parent.resolve() else ""
    return (f"warning: the audit key is the development key {dev_file}{where}: anyone who can read that folder "
            f"can re-sign the audit log; in production set {KEY_FILE_ENV} (or {KEY_ENV}) and {ANCHOR_FILE_ENV}")


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix or url.endswith(":memory:"):
        return None
    return Path(url[len(prefix):].split("?", 1)[0]).resolve()


def _refuse_if_written(dev_file: Path, anchor_file: Path, count_rows: Callable[[], int]) -> None:
    """A missing key for a log that was written before is lost, not new: say so instead of inventing one."""
    rows = count_rows()
    if rows:
        raise AuditKeyMissing(
            f"the audit key is missing: expected {dev_file} (or {KEY_ENV} / {KEY_FILE_ENV}), but the audit log "
            f"holds {rows} row(s) signed with it; restore the key (a new one would make every row look forged)"
        )
    if anchor_file.exists():
        raise AuditKeyMissing(
            f"the audit key is missing: expected {dev_file} (or {KEY_ENV} / {KEY_FILE_ENV}), and the audit log is "
            f"empty but the anchor {anchor_file} shows it was written before (truncated?); restore the key, or "
            "remove the anchor file if this is really a new installation"
        )


def _read_key_file(path: Path, source: str) -> bytes:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AuditKeyMissing(f"cannot read the audit key file from {source} ({path}): {exc.strerror}") from None
    return _checked(text, source)


def _checked(text: str, source: str) -> bytes:
    key = text.strip()
    if len(key) < MIN_KEY_LENGTH:
        raise AuditKeyMissing(f"the audit key from {source} is shorter than {MIN_KEY_LENGTH} characters")
    return key.encode("utf-8")


def _create_key_file(path: Path) -> None:
    """Write a new random key atomically: concurrent first starts agree on one key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".audit-key-")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_hex(32) + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # fails if another process got there first; then its key wins
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
