"""Help pages wrapped by display width: a Chinese character takes two columns of a terminal.

click wraps with ``textwrap``, which counts characters; Chinese help would run twice as
wide as the terminal and never break (it has no spaces). This formatter breaks between
wide characters and between words, measuring each wide character as two columns.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import click

NO_LINE_START = set("，。；：、）！？」』,.;:)!?")  # punctuation that must not begin a line
_TOKEN = re.compile(r"\s+|[\x00-\u10ff]+?(?=\s|[^\x00-\u10ff]|$)|.", re.S)


def width_of(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(paragraph: str, width: int) -> list[str]:
    """Lines of at most ``width`` columns; a word longer than a line is cut."""
    lines: list[str] = []
    line, used = "", 0
    for found in _TOKEN.findall(" ".join(paragraph.split())):
        token, size = found, width_of(found)
        if token.isspace():
            if line:
                line, used = line + " ", used + 1
            continue
        if used + size > width and line.strip() and token not in NO_LINE_START:
            lines.append(line.rstrip())
            line, used = "", 0
        while size > width:  # a URL or a path longer than the whole line
            lines.append(token[:width])
            token = token[width:]
            size = width_of(token)
        line, used = line + token, used + size
    if line.strip():
        lines.append(line.rstrip())
    return lines


def fit(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded to ``width`` terminal columns (a table heading that may be Chinese)."""
    padding = " " * max(width - width_of(text), 0)
    return padding + text if right else text + padding


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` columns (at a word end where there is one), with "..." if cut."""
    if width_of(text) <= width:
        return text
    kept = wrap(text, max(width - 3, 1))[0]
    return kept.rstrip(" ,;:，；：") + "..."


def paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


class HelpFormatter(click.HelpFormatter):
    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        for n, paragraph in enumerate(paragraphs(text)):
            if n:
                self.write("\n")
            for line in wrap(paragraph, max(self.width - self.current_indent, 11)):
                self.write(f"{indent}{line}\n")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        first_col = min(max((width_of(first) for first, _second in rows), default=0), col_max) + col_spacing
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if width_of(first) <= first_col - col_spacing:
                self.write(" " * (first_col - width_of(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap(second, max(self.width - first_col - self.current_indent - 2, 10)) or [""]
            self.write(f"{lines[0]}\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")


class Context(click.Context):
    formatter_class = HelpFormatter
