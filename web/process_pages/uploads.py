"""An uploaded diagram bundle read into ``{relative path: text}``, the shape ``bpmn check`` and deploy take.

The browser sends several files (flat names) or zip archives (folders kept). Nothing here trusts
the upload: only diagram and form files are taken, paths must stay inside the bundle, sizes are
bounded before anything is decompressed in full (a zip bomb stops at the limit), text must be
UTF-8. Every problem is a ``file:-: message`` line, like the checker's, so the page shows one list.
"""

from __future__ import annotations

import base64
import io
import json
import posixpath
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.workflow.bundle import DIAGRAM_SUFFIXES, FORM_SUFFIXES

MAX_FILES = 200
MAX_FILE_BYTES = 2 * 1024 * 1024  # the shipped diagrams are ~60 KB each
MAX_TOTAL_BYTES = 8 * 1024 * 1024
TAKEN_SUFFIXES = DIAGRAM_SUFFIXES + FORM_SUFFIXES  # what `budgetflow bpmn deploy` reads from a folder


@dataclass
class Upload:
    files: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # names that are not diagrams or forms
    total: int = 0

    def add(self, name: str, data: bytes) -> None:
        if not name.endswith(TAKEN_SUFFIXES):
            self.ignored.append(name)
        elif name in self.files:
            self.problems.append(f"{name}:-: the upload holds this file twice")
        elif len(self.files) >= MAX_FILES:
            self.problems.append(f"{name}:-: more than {MAX_FILES} files in one bundle")
        elif self._fits(name, len(data)):
            try:
                self.files[name] = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.problems.append(f"{name}:-: not UTF-8 text (byte {exc.start})")

    def _fits(self, name: str, size: int) -> bool:
        if size > MAX_FILE_BYTES:
            self.problems.append(f"{name}:-: larger than {MAX_FILE_BYTES // 1024} KiB")
            return False
        self.total += size
        if self.total > MAX_TOTAL_BYTES:
            self.problems.append(f"{name}:-: the bundle is larger than {MAX_TOTAL_BYTES // (1024 * 1024)} MiB")
            return False
        return True


def read_upload(parts: Iterable[tuple[str, bytes]]) -> Upload:
    """Each ``(filename, content)``: a zip is opened, any other file is taken by its base name.

    Browsers send no folders, so single files are laid out flat: diagrams at the top and forms in
    ``forms/``, where a diagram's ``forms/x.schema.json`` (or plain ``x.schema.json``, or SpiffArena's
    ``x-schema.json``) finds them.
    """
    upload = Upload()
    for filename, data in parts:
        base = posixpath.basename(filename.replace("\\", "/"))
        if base.lower().endswith(".zip"):
            _read_zip(upload, base, data)
        elif base:
            upload.add(f"forms/{base}" if base.endswith(FORM_SUFFIXES) else base, data)
    return upload


def _read_zip(upload: Upload, zip_name: str, data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, ValueError) as exc:
        upload.problems.append(f"{zip_name}:-: not a readable zip archive ({exc})")
        return
    top = _common_folder([m.filename for m in members])
    for member in members:
        name = _inside(member.filename, top)
        if name is None:
            upload.problems.append(f"{zip_name}:-: {member.filename!r} points outside the bundle")
        elif not name.endswith(TAKEN_SUFFIXES):
            upload.ignored.append(f"{zip_name}/{name}")
        else:
            _read_member(upload, archive, member, name)


def _read_member(upload: Upload, archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str) -> None:
    try:
        with archive.open(member) as stream:
            content = stream.read(MAX_FILE_BYTES + 1)  # never more than the limit, whatever the header claims
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as exc:
        upload.problems.append(f"{name}:-: cannot be read from the archive ({exc})")
        return
    upload.add(name, content)


def _common_folder(names: list[str]) -> str:
    """A single top folder every member sits in (zipping ``bpmn/`` or its contents gives one bundle)."""
    tops = {name.split("/", 1)[0] for name in names}
    if len(tops) == 1 and all("/" in name for name in names):
        return tops.pop() + "/"
    return ""


def _inside(name: str, top: str) -> str | None:
    """The member's path relative to the bundle; None for absolute paths, '..' or backslashes."""
    if "\\" in name or name.startswith("/") or ":" in name.split("/", 1)[0]:
        return None
    relative = posixpath.normpath(name[len(top):] if top and name.startswith(top) else name)
    if relative.startswith("../") or relative in ("..", "."):
        return None
    return relative


def pack(files: dict[str, str]) -> str:
    """The checked files as one form field, so "publish" sends back exactly what was checked (no server state)."""
    return base64.urlsafe_b64encode(zlib.compress(json.dumps(files, sort_keys=True).encode("utf-8"))).decode("ascii")


def unpack(field_value: str) -> Upload:
    """``pack``'s field read back under the same limits; anything else is one problem, never an exception."""
    broken = "bundle:-: the checked bundle did not come back intact; upload the files again"
    upload = Upload()
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(base64.urlsafe_b64decode(field_value.encode("ascii")), MAX_TOTAL_BYTES + 1)
        files = json.loads(raw) if len(raw) <= MAX_TOTAL_BYTES and inflater.eof else None
    except (ValueError, zlib.error, UnicodeError):
        files = None
    if not isinstance(files, dict) or not files or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        upload.problems.append(broken)
        return upload
    for name, text in files.items():
        if _inside(name, "") != name:
            upload.problems.append(broken)
            return upload
        upload.add(name, text.encode("utf-8"))
    return upload
