"""The audit anchor, kept in a file outside the database (see docs/audit.md, "Anchors").

The file holds the head of the chain that was last proven (seq and MAC) with its seal,
plus the time and database it was written for (for people; not trusted). It only moves
forwards, and only through ``replace``: under an exclusive lock the current content is
compared with what the caller verified against, and the new anchor is written only if
nobody changed it meanwhile (compare and swap). The write is atomic: a temporary file in
the same folder, fsync, rename, fsync of the folder, so a crash leaves the old anchor or
the new one, never half of either.

POSIX only (``fcntl.flock``), like the rest of the deployment story.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from engine.domain.audit import AuditAnchorInvalid, SealedAnchor, parse_anchor

FORMAT = 1


class AnchorFile:
    """One anchor file; ``read`` and ``replace`` implement the services' ``AnchorStore``."""

    def __init__(self, path: Path, *, database: str = "") -> None:
        self.path = path
        self.database = database  # redacted URL, written for whoever reads the file

    @property
    def location(self) -> str:
        return str(self.path)

    def read(self) -> SealedAnchor | None:
        """The stored anchor, or None when there is no file; a malformed file raises AuditAnchorInvalid."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AuditAnchorInvalid(f"cannot read the audit anchor {self.path}: {exc.strerror}") from None
        return _parse(text, self.path)

    def replace(self, expected: SealedAnchor | None, new: SealedAnchor) -> bool:
        """Store ``new`` if the file still holds ``expected`` (None: no file); False if another process moved it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.path.with_name(self.path.name + ".lock")):
            if self.read() != expected:
                return False
            self._write(new)
            return True

    def _write(self, new: SealedAnchor) -> None:
        body = {
            "format": FORMAT, "anchor": str(new.anchor), "seal": new.seal,
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"), "database": self.database,
        }
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".audit-anchor-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                os.fchmod(f.fileno(), 0o644)  # not a secret; auditors may read it
                f.write(json.dumps(body, indent=1) + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_folder(self.path.parent)  # the rename itself must survive a power cut


def _parse(text: str, path: Path) -> SealedAnchor:
    try:
        body = json.loads(text)
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise ValueError(f"expected format {FORMAT}")
        seal = body["seal"]
        if not isinstance(seal, str):
            raise TypeError("seal must be text")
        return SealedAnchor(parse_anchor(str(body["anchor"])), seal)
    except (ValueError, KeyError, TypeError, AuditAnchorInvalid) as exc:
        raise AuditAnchorInvalid(f"the audit anchor {path} is malformed ({exc}); restore it from a copy") from None


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released on close, and by the kernel if the process dies
        yield
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

