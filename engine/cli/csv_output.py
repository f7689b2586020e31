"""CSV on standard output for a spreadsheet: every cell through ``engine.domain.spreadsheet``.

UTF-8 with a byte-order mark, because Excel reads a CSV without one in the system's code page
and would turn the Chinese names into mojibake; CRLF line ends (RFC 4180).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Sequence

from engine.domain.spreadsheet import write_csv


def print_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write the rows to stdout as spreadsheet-safe CSV; returns how many rows were written."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # stdout replaced by a text-only stream: write text, BOM included
        sys.stdout.write("\ufeff")
        return write_csv(sys.stdout, header, rows)
    out = io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="", write_through=True)
    try:
        return write_csv(out, header, rows)
    finally:
        out.flush()
        out.detach()  # leave sys.stdout's own buffer open
