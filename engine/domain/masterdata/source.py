"""A dictionary file as it streams in: bounded lines, strict UTF-8, and the folder's checksum on the way.

The service opens each file safely (``engine/services/masterdata/folder.py``) and hands over a
``Source``: the size the file had when it was opened, and a binary stream. Files are read here one
line at a time, so a large file is never held in memory whole, and every line is bounded, so one
endless line cannot be either. Reading more or fewer bytes than the size the file was opened with
means it changed meanwhile: the file is refused, since the checksum would not describe what was read.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from engine.domain.masterdata.fields import DICTIONARY_FILES

# A dictionary row is well under 2 KB; 16 KB leaves room for long names and still bounds memory per line.
MAX_LINE_BYTES = 16 * 1024
MAX_MANIFEST_BYTES = 64 * 1024  # four short keys
_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_CHANGED = "changed while it was being read; import it again once it is complete"


class Readable(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Source:
    """One opened dictionary file: its size when opened, and its bytes, read once from the start."""

    size: int
    stream: Readable

    @classmethod
    def of_bytes(cls, data: bytes) -> Source:
        return cls(len(data), io.BytesIO(data))


class UnreadableFile(Exception):
    """The file as a whole cannot be used; ``row`` is the line where that showed, or ``-``."""

    def __init__(self, row: int | str, message: str) -> None:
        super().__init__(message)
        self.row, self.message = row, message


class DictionaryDigest:
    """sha256 over the dictionary files' names, sizes and bytes, in name order (``master_data_import.checksum``).

    Fed as the files stream past. A file given up half-way (its problems make the folder invalid anyway)
    leaves the digest unfinished, and ``hexdigest`` refuses to answer rather than describe bytes not read.
    """

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self._names: list[str] = []
        self._unfinished: set[str] = set()

    def begin(self, name: str, size: int) -> None:
        if self._names and name <= self._names[-1]:
            raise ValueError("dictionary files are hashed in name order")
        self._sha.update(f"{name}\0{size}\0".encode())
        self._names.append(name)
        self._unfinished.add(name)

    def update(self, data: bytes) -> None:
        self._sha.update(data)

    def end(self) -> None:
        """The file begun last was read to its end."""
        self._unfinished.discard(self._names[-1])

    def hexdigest(self) -> str:
        if self._unfinished:
            raise ValueError(f"{', '.join(sorted(self._unfinished))} not read to the end")
        return self._sha.hexdigest()


def checksum(files: Mapping[str, bytes]) -> str:
    """The checksum of dictionary files given whole (name → bytes); other names are left out."""
    digest = DictionaryDigest()
    for name in sorted(n for n in files if n in DICTIONARY_FILES):
        digest.begin(name, len(files[name]))
        digest.update(files[name])
        digest.end()
    return digest.hexdigest()


def csv_lines(source: Source, digest: DictionaryDigest) -> Iterator[str]:
    """The file's lines as text, line ends kept (``csv.reader`` wants them); raises UnreadableFile."""
    read = number = 0
    while chunk := source.stream.readline(MAX_LINE_BYTES + 1):
        number += 1
        read += len(chunk)
        if read > source.size:
            raise UnreadableFile("-", _CHANGED)
        digest.update(chunk)
        yield _decoded(chunk, number, offset=read - len(chunk))
    if read != source.size:
        raise UnreadableFile("-", _CHANGED)
    digest.end()


def _decoded(chunk: bytes, number: int, *, offset: int) -> str:
    if len(chunk) > MAX_LINE_BYTES:  # readline stopped at the limit, not at a line end
        raise UnreadableFile(number, f"is longer than {MAX_LINE_BYTES} bytes; no row of the data dictionary "
                             "is anywhere near that long")
    if number == 1 and chunk.startswith(_UTF16_BOMS):
        raise UnreadableFile(number, "is UTF-16 text (Excel's \"Unicode Text\"); save it as \"CSV UTF-8\"")
    start = len(_BOM) if number == 1 and chunk.startswith(_BOM) else 0  # Excel's "CSV UTF-8" writes one
    try:
        return chunk[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(number, f"is not UTF-8 text (byte {offset + start + exc.start} cannot be decoded); "
                             "save it as UTF-8") from None


def whole_text(source: Source, digest: DictionaryDigest, *, limit: int = MAX_MANIFEST_BYTES) -> str:
    """A small file (the manifest) read whole, after its size was checked against ``limit``."""
    if source.size > limit:
        raise UnreadableFile("-", f"is {source.size:,} bytes; the limit for this file is {limit:,} bytes")
    data = source.stream.read(source.size + 1)
    if len(data) != source.size:
        raise UnreadableFile("-", _CHANGED)
    digest.update(data)
    digest.end()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile("-", f"is not UTF-8 text (byte {exc.start} cannot be decoded); save it as UTF-8") \
            from None
