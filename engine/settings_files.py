"""What the OA and ERP settings files share: read a small TOML file whole, and refuse one that holds secrets
but is readable by others (as ssh treats its keys)."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from engine.config import PREFIX, SettingInvalid

MAX_FILE_BYTES = 64 * 1024


def read_toml(path: Path, *, variable: str, what: str) -> dict[str, Any]:
    """The file's tables; SettingInvalid names the file (and ``variable``, the setting that named it)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SettingInvalid(f"{PREFIX}{variable}: cannot read {path}: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise SettingInvalid(f"{path}: larger than {MAX_FILE_BYTES // 1024} KiB; is this the {what} settings file?")
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingInvalid(f"{path}: not valid TOML: {exc}") from None


def require_private(path: Path, *, instead: str) -> None:
    """A file that holds secrets must be readable by its owner only; ``instead``: where else the secrets may go."""
    if os.name != "posix":
        return
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SettingInvalid(f"{path} holds secrets but group or others may read it (mode {stat.S_IMODE(mode):o}): "
                             f"chmod 600 it, or move the secrets to {instead}")
