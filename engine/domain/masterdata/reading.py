"""Reading the data dictionary's files one at a time: decode, parse every field, report problems.

Each CSV file becomes a list of ``Row``s holding the fields that parsed; ``manifest.toml`` becomes
a ``Manifest``. Every problem is collected in ``Problems`` as ``FILE:ROW:FIELD: what is wrong``
(see the package docstring); checks between files are in ``checks.py``.

Every cell is checked for characters no cell may hold (``untrusted_text``) before it is trimmed or
parsed, and messages quote input only through ``excerpt``: short, with control characters escaped.
"""

from __future__ import annotations

import csv
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine.domain.masterdata.fields import DICTIONARY_FILES, LAYOUTS, MANIFEST, MANIFEST_KEYS, VERSION, Column
from engine.domain.masterdata.records import Manifest
from engine.domain.masterdata.source import UnreadableFile
from engine.domain.untrusted_text import as_label, excerpt, refused_character

_REFUSED_HINT = "a cell may not hold control characters, tabs or line breaks"
# A broken 20 MiB file would otherwise print hundreds of thousands of lines (and hold them all).
MAX_PROBLEMS_PER_FILE = 200
_MANIFEST_LENGTHS = {"version": 64, "company": 200, "company_en": 200, "description": 500}


class Problems(list[tuple[str, int | str, str, str]]):
    """Every problem found, as (file, row, field, message); at most MAX_PROBLEMS_PER_FILE listed per file."""

    def __init__(self) -> None:
        super().__init__()
        self._listed: Counter[str] = Counter()
        self._unlisted: Counter[str] = Counter()

    def add(self, file: str, row: int | str, column: str, message: str) -> None:
        if self._listed[file] >= MAX_PROBLEMS_PER_FILE:
            self._unlisted[file] += 1
            return
        self._listed[file] += 1
        self.append((file, row, column, message))

    def lines(self) -> list[str]:
        """``FILE:ROW:FIELD: message``, in dictionary file order, then by row, then by column."""
        def order(p: tuple[str, int | str, str, str]) -> tuple[int, int, int]:
            file, row, column = p[:3]
            file_rank = DICTIONARY_FILES.index(file) if file in DICTIONARY_FILES else -1
            columns = [c.name for c in LAYOUTS.get(file, ())]
            return file_rank, row if isinstance(row, int) else 0, columns.index(column) if column in columns else -1
        listed = [f"{file}:{row}:{column}: {message}" for file, row, column, message in sorted(self, key=order)]
        return listed + [f"{file}:-:-: {count} more problem(s) not listed; fix those above and run again"
                         for file, count in sorted(self._unlisted.items())]


@dataclass(slots=True)
class Row:
    file: str
    line: int
    values: dict[str, object]  # the fields that parsed; a wrong field is absent
    complete: bool = True
    aligned: bool = True  # False when the row's values do not match the header's columns


def read_table(name: str, lines: Iterable[str], problems: Problems) -> list[Row] | None:
    """The file's rows; None when the file as a whole is unusable (then nothing is checked against it).

    ``lines`` is consumed one line at a time (see ``source.csv_lines``), so a file is never held whole.
    """
    reader = csv.reader(lines)
    rows: list[Row] = []
    try:
        header = _header(name, next(reader, []), problems)
        if header is None:
            return None
        start = reader.line_num + 1
        for record in reader:
            # Blank lines are allowed and skipped; a control character makes a line anything but blank.
            if any(cell.strip() for cell in record) or refused_character("".join(record)):
                rows.append(_parse_row(name, start, header, record, problems))
            start = reader.line_num + 1
    except csv.Error as exc:
        problems.add(name, reader.line_num, "-", f"is not valid CSV: {_csv_reason(exc)}")
        return None
    except UnreadableFile as exc:
        problems.add(name, exc.row, "-", exc.message)
        return None
    return rows


def _csv_reason(exc: csv.Error) -> str:
    reason = str(exc)
    if "new-line character seen in unquoted field" in reason:
        # csv's own advice ("open the file in universal-newline mode") is meant for programmers.
        return ("a carriage return (CR) that does not end a line; save the file with Windows (CRLF) "
                "or Unix (LF) line endings")
    return reason


def _header(name: str, cells: list[str], problems: Problems) -> list[str] | None:
    """The header's column names, or None (with the problems) when the file cannot be read by them."""
    for position, cell in enumerate(cells, start=1):
        if (found := refused_character(cell)) is not None:
            problems.add(name, 1, "-", f"header column {position} contains {found}")
            return None
    header = [h.strip() for h in cells]
    return header if _header_usable(name, header, problems) else None


def _header_usable(name: str, header: list[str], problems: Problems) -> bool:
    """Unknown columns are errors, yet the known ones can still be read; optional columns may be left out."""
    known = [c.name for c in LAYOUTS[name]]
    if not any(header):
        problems.add(name, 1, "-", f"has no header line; expected columns: {', '.join(known)}")
        return False
    for column in (h for h in header if h not in known):
        problems.add(name, 1, _label(column), f"unknown column; expected columns: {', '.join(known)}")
    before = len(problems)
    for column in sorted({h for h in header if header.count(h) > 1}):
        problems.add(name, 1, _label(column), "column appears more than once")
    for expected in LAYOUTS[name]:
        if expected.required and expected.name not in header:
            problems.add(name, 1, expected.name, "required column is missing")
    return len(problems) == before


def _parse_row(name: str, line: int, header: list[str], record: list[str], problems: Problems) -> Row:
    row = Row(name, line, {})
    refused = _refused_cells(name, line, header, record, problems)
    if len(record) != len(header):
        hint = " (put a value containing ',' in double quotes)" if len(record) > len(header) else ""
        problems.add(name, line, "-", f"has {len(record)} values but the header has {len(header)} columns{hint}")
        row.complete = row.aligned = False
        return row
    cells = dict(zip(header, (cell.strip() for cell in record), strict=True))
    for column in LAYOUTS[name]:
        if column.name in refused:
            row.complete = False
        else:
            _parse_cell(row, column, cells.get(column.name, ""), problems)
    return row


def _refused_cells(name: str, line: int, header: list[str], record: list[str], problems: Problems) -> set[str]:
    """Report each cell holding a character no cell may hold, in any column, known or not; their columns."""
    aligned = len(record) == len(header)
    refused = set()
    for position, cell in enumerate(record):
        if (found := refused_character(cell)) is None:
            continue
        if aligned:
            problems.add(name, line, _label(header[position]), f"contains {found}; {_REFUSED_HINT}")
            refused.add(header[position])
        else:
            problems.add(name, line, "-", f"value {position + 1} contains {found}; {_REFUSED_HINT}")
    return refused


def _label(column: str) -> str:
    """A column name as the FIELD of a problem."""
    return as_label(column) if column else "-"


def _parse_cell(row: Row, column: Column, text: str, problems: Problems) -> None:
    if not text:
        if column.required:
            problems.add(row.file, row.line, column.name, "is required")
            row.complete = False
        else:
            row.values[column.name] = column.default
        return
    try:
        row.values[column.name] = column.parse(text)
    except ValueError as exc:
        problems.add(row.file, row.line, column.name, str(exc))
        row.complete = False


def parse_manifest(text: str, problems: Problems) -> Manifest | None:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.add(MANIFEST, "-", "-", f"is not valid TOML: {exc}")
        return None
    for key in sorted(set(doc) - MANIFEST_KEYS):
        problems.add(MANIFEST, "-", as_label(key), f"unknown key; expected: {', '.join(sorted(MANIFEST_KEYS))}")
    values = {key: _manifest_string(doc, key, problems) for key in sorted(MANIFEST_KEYS)}
    version, company = values.pop("version"), values.pop("company")
    if version is not None and not VERSION.fullmatch(version):
        problems.add(MANIFEST, "-", "version", f'{excerpt(version)} is not a version: letters, digits, ".", "_" '
                     'or "-", at most 64 characters, e.g. "2026.1"')
        version = None
    return Manifest(version, company, **values) if version and company else None


def _manifest_string(doc: Mapping[str, object], key: str, problems: Problems) -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        # TOML reads version = 2026.1 as a float; a version is a label, not a number.
        problems.add(MANIFEST, "-", key, f'must be a quoted string, e.g. {key} = "{str(value)[:40]}"')
        return None
    if value and (found := refused_character(value)) is not None:  # TOML escapes can spell any of them
        problems.add(MANIFEST, "-", key, f"contains {found}")
        return None
    text = (value or "").strip() or None
    if text is None and key in _MANIFEST_REQUIRED:
        problems.add(MANIFEST, "-", key, f"is required ({_MANIFEST_REQUIRED[key]})")
    if text is not None and len(text) > _MANIFEST_LENGTHS[key]:
        problems.add(MANIFEST, "-", key, f"is {len(text)} characters long; at most {_MANIFEST_LENGTHS[key]} allowed")
        return None
    return text


_MANIFEST_REQUIRED = {"version": 'e.g. version = "2026.1"', "company": "the company's legal name"}
