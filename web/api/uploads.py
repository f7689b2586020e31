"""Files sent to the API as one upload: JSON ``{"files": {name: text}}`` or a zip archive.

A zip is read without trusting it: entry names must be plain relative paths of the expected kinds,
and the number of entries and their unpacked size are bounded before anything is inflated, so an
archive bomb or ``../`` path is refused with a clear message and nothing is written or done.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import request
from werkzeug.exceptions import BadRequest

from engine.domain.errors import BudgetflowError

MAX_FILES = 200
MAX_NAME = 200
MAX_TOTAL_BYTES = 50 * 1024 * 1024  # unpacked; the data-dictionary import's own folder limit
ZIP_TYPES = ("application/zip", "application/x-zip-compressed")
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class UploadInvalid(BudgetflowError):
    """An upload whose archive, file names or texts cannot be used (the message says which)."""

    code = "UPLOAD_INVALID"


def plain_name(name: str, *, folders: bool) -> bool:
    """A relative POSIX path of ordinary segments (no ``..``, no leading ``/``, no backslash)."""
    if not 0 < len(name) <= MAX_NAME:
        return False
    segments = name.split("/")
    return (folders or len(segments) == 1) and all(_SEGMENT.fullmatch(s) and ".." not in s for s in segments)


class FilesField(ma.fields.Dict):
    """``{name: text}``, names checked by ``allowed``."""

    def __init__(self, allowed: Callable[[str], bool], what: str, **kwargs: object) -> None:
        super().__init__(keys=ma.fields.String(), values=ma.fields.String(), required=True,
                         validate=ma.validate.Length(1, MAX_FILES), metadata={"description": what}, **kwargs)
        self.allowed = allowed

    def _deserialize(self, value: object, attr: str | None, data: object, **kwargs: object) -> dict[str, str]:
        files: dict[str, str] = super()._deserialize(value, attr, data, **kwargs)
        wrong = sorted(name for name in files if not self.allowed(name))
        if wrong:
            raise ma.ValidationError([f"{name[:MAX_NAME]}: not an accepted file name" for name in wrong[:20]])
        return files


def from_zip(data: bytes, allowed: Callable[[str], bool]) -> dict[str, str]:
    """The archive's files (UTF-8 text) by name; folders are skipped, anything else odd is refused."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise UploadInvalid(f"the body is not a readable zip archive ({exc})") from None
    if not entries or len(entries) > MAX_FILES:
        raise UploadInvalid(f"the archive holds {len(entries)} files; send 1 to {MAX_FILES}")
    wrong = [i.filename[:MAX_NAME] for i in entries if not allowed(i.filename)]
    if wrong:
        raise UploadInvalid(f"not accepted in the archive: {', '.join(wrong[:20])}", names=wrong[:20])
    if sum(i.file_size for i in entries) > MAX_TOTAL_BYTES:
        raise UploadInvalid(f"the archive unpacks to more than {MAX_TOTAL_BYTES} bytes")
    files: dict[str, str] = {}
    for info in entries:
        try:
            with archive.open(info) as member:
                raw = member.read(info.file_size + 1)  # the stated size is checked, not trusted
            if len(raw) > info.file_size:
                raise UploadInvalid(f"{info.filename}: larger than the archive says")
            files[info.filename] = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UploadInvalid(f"{info.filename}: not UTF-8 text") from None
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, OSError) as exc:
            raise UploadInvalid(f"{info.filename}: cannot be unpacked ({exc})") from None
    return files


def files_of_request(body: ma.Schema, query: ma.Schema,
                     allowed: Callable[[str], bool]) -> tuple[dict[str, str], dict[str, Any]]:
    """(files, the other fields): from a JSON body (``body``, with ``files``), or from a zip body and the
    query string (``query``). Invalid JSON is a 400, fields that fail their schema a 422."""
    if request.mimetype in ZIP_TYPES:
        fields: dict[str, Any] = query.load(request.args, unknown=ma.EXCLUDE)
        return from_zip(request.get_data(cache=False), allowed), fields
    document = request.get_json(silent=True)
    if document is None:
        raise BadRequest("the body is not valid JSON (UTF-8)")
    loaded: dict[str, Any] = body.load(document)
    files: dict[str, str] = loaded.pop("files")
    return files, loaded
