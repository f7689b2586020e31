"""A task's instructions (Markdown a diagram's template made from task data) as safe HTML.

Only the Markdown the diagrams use is understood: paragraphs, ``**bold**``, ``> `` quotes and ``- `` lists.
Everything is escaped first, so task data typed by an applicant can never become markup.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_BOLD = re.compile(r"\*\*(.+?)\*\*")


def render(text: str | None) -> Markup:
    blocks = [b.strip("\n") for b in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n")) if b.strip()]
    return Markup("\n").join(_block(b) for b in blocks)  # noqa: S704 - every piece is escaped in _inline


def _block(block: str) -> Markup:
    lines = [line.strip() for line in block.split("\n") if line.strip()]
    if all(line.startswith(">") for line in lines):
        return Markup("<blockquote>{}</blockquote>").format(_block("\n".join(line[1:] for line in lines)))
    if all(line.startswith("- ") for line in lines):
        return Markup("<ul>{}</ul>").format(Markup("").join(Markup("<li>{}</li>").format(_inline(line[2:]))
                                                           for line in lines))
    return Markup("<p>{}</p>").format(Markup("<br>").join(_inline(line) for line in lines))


def _inline(text: str) -> Markup:
    escaped = str(escape(text.strip()))
    return Markup(_BOLD.sub(r"<strong>\1</strong>", escaped))  # noqa: S704 - the text was escaped above
