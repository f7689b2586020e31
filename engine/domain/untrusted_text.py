"""Text that came in from outside: the characters a cell may not hold, and how to quote it back safely.

A cell of an imported file is stored, compared and shown to people. Characters that are never part of
a value but change what happens to it are refused rather than cleaned up, so nothing is silently
altered: control characters (NUL breaks PostgreSQL text, tab and line breaks break every export),
line and paragraph separators, a byte-order mark anywhere but at the start of a file, and the
bidirectional controls that make text display in another order than it is stored ("Trojan Source").

Error messages quote what they refuse with ``excerpt``: short, with every such character escaped.
"""

from __future__ import annotations

import re

# Cc (U+0000-001F, U+007F-009F), the line/paragraph separators (Zl, Zp), the BOM, the bidi embeddings,
# overrides and isolates, and lone surrogates: one character class, so a clean cell costs one regex scan.
_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMES = {"\x00": "NUL", "\t": "TAB", "\n": "LF, a line break", "\r": "CR, a line break", "\x7f": "DEL",
          "\u2028": "LINE SEPARATOR", "\u2029": "PARAGRAPH SEPARATOR"}
EXCERPT_LENGTH = 40


def refused_character(text: str) -> str | None:
    """Describe the first character ``text`` may not hold (with its position), or None when there is none."""
    match = _REFUSED.search(text)
    if match is None:
        return None
    return f"{describe_character(match.group())} at character {match.start() + 1}"


def describe_character(char: str) -> str:
    """``U+0000 (NUL), a control character`` and the like: what a person needs to find it in an editor."""
    code = f"U+{ord(char):04X}"
    if char == "\ufeff":
        return f"{code}, a byte-order mark (allowed only at the very start of a file)"
    if "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069":
        return f"{code}, a bidirectional text control"
    if "\ud800" <= char <= "\udfff":
        return f"{code}, a lone surrogate"
    name = _NAMES.get(char)
    return f"{code} ({name}), a control character" if name else f"{code}, a control character"


def excerpt(text: str, limit: int = EXCERPT_LENGTH) -> str:
    """``text`` quoted for a message: at most ``limit`` characters, anything unprintable escaped (``\\x00``)."""
    shown = text[:limit] + ("…" if len(text) > limit else "")
    return repr(shown)  # repr escapes control, format and separator characters; it never prints them raw


def as_label(text: str) -> str:
    """A name from the input (a column, a key, a file name) as the label of a problem: as it is when it is
    short and plain, else quoted like ``excerpt``, so a label never carries control characters or a long line."""
    plain = 0 < len(text) <= EXCERPT_LENGTH and text.isprintable() and not any(c in text for c in " :'\"")
    return text if plain else excerpt(text)
