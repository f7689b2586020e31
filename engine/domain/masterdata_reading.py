"""Reading the data dictionary's files one at a time: decode, parse every field, report problems.

Each CSV file becomes a list of ``Row``s holding the fields that parsed; ``manifest.toml`` becomes
a ``Manifest``. Every problem is collected in ``Problems`` as ``FILE:ROW:FIELD: what is wrong``
(see ``masterdata.py``); checks between files are in ``masterdata_checks.py``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass

from engine.domain.masterdata_fields import DICTIONARY_FILES, LAYOUTS, MANIFEST, MANIFEST_KEYS, VERSION
from engine.domain.masterdata_records import Manifest


class Problems(list[tuple[str, int | str, str, str]]):
    def add(self, file: str, row: int | str, column: str, message: str) -> None:
        self.append((file, row, column, message))

    def lines(self) -> list[str]:
        """``FILE:ROW:FIELD: message``, in dictionary file order, then by row, then by column."""
        def order(p: tuple[str, int | str, str, str]) -> tuple[int, int, int]:
            file, row, column = p[:3]
            file_rank = DICTIONARY_FILES.index(file) if file in DICTIONARY_FILES else -1
            columns = [c.name for c in LAYOUTS.get(file, ())]
            return file_rank, row if isinstance(row, int) else 0, columns.index(column) if column in columns else -1
        return [f"{file}:{row}:{column}: {message}" for file, row, column, message in sorted(self, key=order)]


@dataclass(slots=True)
class Row:
    file: str
    line: int
    values: dict[str, object]  # the fields that parsed; a wrong field is absent
    complete: bool = True
    aligned: bool = True  # False when the row's values do not match the header's columns


def checksum(files: Mapping[str, bytes]) -> str:
    """sha256 over the dictionary's files (names and bytes), in name order."""
    digest = hashlib.sha256()
    for name in sorted(n for n in files if n in DICTIONARY_FILES):
        digest.update(f"{name}\0{len(files[name])}\0".encode())
        digest.update(files[name])
    return digest.hexdigest()


def _decode(name: str, data: bytes, problems: Problems) -> str | None:
    try:
        return data.decode("utf-8-sig")  # Excel writes a BOM; accept it
    except UnicodeDecodeError as exc:
        problems.add(name, "-", "-", f"is not UTF-8 text (byte {exc.start} cannot be decoded); save it as UTF-8")
        return None


def read_table(name: str, data: bytes, problems: Problems) -> list[Row] | None:
    """The file's rows; None when the file as a whole is unusable (then nothing is checked against it)."""
    text = _decode(name, data, problems)
    if text is None:
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[Row] = []
    try:
        header = [h.strip() for h in next(reader, [])]
        if not _header_usable(name, header, problems):
            return None
        start = reader.line_num + 1
        for record in reader:
            if any(cell.strip() for cell in record):  # blank lines are allowed and skipped
                rows.append(_parse_row(name, start, header, record, problems))
            start = reader.line_num + 1
    except csv.Error as exc:
        problems.add(name, reader.line_num, "-", f"is not valid CSV: {exc}")
        return None
    return rows


def _header_usable(name: str, header: list[str], problems: Problems) -> bool:
    """Unknown columns are errors, yet the known ones can still be read; optional columns may be left out."""
    known = [c.name for c in LAYOUTS[name]]
    if not any(header):
        problems.add(name, 1, "-", f"has no header line; expected columns: {', '.join(known)}")
        return False
    for column in (h for h in header if h not in known):
        problems.add(name, 1, column or "-", f"unknown column; expected columns: {', '.join(known)}")
    before = len(problems)
    for column in sorted({h for h in header if header.count(h) > 1}):
        problems.add(name, 1, column, "column appears more than once")
    for column in LAYOUTS[name]:
        if column.required and column.name not in header:
            problems.add(name, 1, column.name, "required column is missing")
    return len(problems) == before


def _parse_row(name: str, line: int, header: list[str], record: list[str], problems: Problems) -> Row:
    row = Row(name, line, {})
    if len(record) != len(header):
        hint = " (put a value containing ',' in double quotes)" if len(record) > len(header) else ""
        problems.add(name, line, "-", f"has {len(record)} values but the header has {len(header)} columns{hint}")
        row.complete = row.aligned = False
        return row
    cells = dict(zip(header, (cell.strip() for cell in record), strict=True))
    for column in LAYOUTS[name]:
        text = cells.get(column.name, "")
        if not text:
            if column.required:
                problems.add(name, line, column.name, "is required")
                row.complete = False
            else:
                row.values[column.name] = column.default
            continue
        try:
            row.values[column.name] = column.parse(text)
        except ValueError as exc:
            problems.add(name, line, column.name, str(exc))
            row.complete = False
    return row


def parse_manifest(data: bytes, problems: Problems) -> Manifest | None:
    text = _decode(MANIFEST, data, problems)
    try:
        doc = tomllib.loads(text) if text is not None else None
    except tomllib.TOMLDecodeError as exc:
        problems.add(MANIFEST, "-", "-", f"is not valid TOML: {exc}")
        return None
    if doc is None:
        return None
    for key in sorted(set(doc) - MANIFEST_KEYS):
        problems.add(MANIFEST, "-", key, f"unknown key; expected: {', '.join(sorted(MANIFEST_KEYS))}")
    values = {key: _manifest_string(doc, key, problems) for key in sorted(MANIFEST_KEYS)}
    version, company = values.pop("version"), values.pop("company")
    if version is not None and not VERSION.match(version):
        problems.add(MANIFEST, "-", "version", f'{version!r} is not a version: letters, digits, ".", "_" or "-", '
                     'at most 64 characters, e.g. "2026.1"')
        version = None
    return Manifest(version, company, **values) if version and company else None


def _manifest_string(doc: Mapping[str, object], key: str, problems: Problems) -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        # TOML reads version = 2026.1 as a float; a version is a label, not a number.
        problems.add(MANIFEST, "-", key, f'must be a quoted string, e.g. {key} = "{value}"')
        return None
    text = (value or "").strip() or None
    if text is None and key in _MANIFEST_REQUIRED:
        problems.add(MANIFEST, "-", key, f"is required ({_MANIFEST_REQUIRED[key]})")
    return text


_MANIFEST_REQUIRED = {"version": 'e.g. version = "2026.1"', "company": "the company's legal name"}
