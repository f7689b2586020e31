"""Where the audit HMAC key comes from: always outside the database.

In order: ``BUDGETFLOW_AUDIT_KEY`` (the key itself), ``BUDGETFLOW_AUDIT_KEY_FILE`` (a file
holding it, e.g. a mounted secret), else the development key file ``<instance>/audit.key``.
That file is created (0600, random 256-bit key) only when a caller that writes audit rows
asks for it; readers such as ``audit verify`` never create a key, because a fresh key
would make every existing row look forged. Messages name variables and paths, never key
material.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path

from engine.config import PREFIX, Settings
from engine.domain.audit import AuditKeyMissing

KEY_ENV = f"{PREFIX}AUDIT_KEY"
KEY_FILE_ENV = f"{PREFIX}AUDIT_KEY_FILE"
DEV_KEY_NAME = "audit.key"
MIN_KEY_LENGTH = 32  # characters; a 64-hex-digit key from `secrets.token_hex(32)` is the intended shape


def load_audit_key(settings: Settings, environ: Mapping[str, str] | None = None, *, create: bool = False) -> bytes:
    """The audit key as bytes; ``create`` allows generating the development key file if none exists."""
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
        _create_key_file(dev_file)
    return _read_key_file(dev_file, str(dev_file))


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
