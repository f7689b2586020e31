"""Labels written once in both languages ("Manager approval 经理审批"), shown in the reader's one.

Diagrams and form schemas are maintained by process designers, not in the gettext catalog: their
names and titles carry the English first and the Chinese after (bpmn/README.md §8 "How to …"). A page shows
the part of the reader's language, and the whole text when it is in one language only.
"""

from __future__ import annotations

import re

# The first CJK ideograph or CJK punctuation/full-width form starts the Chinese part.
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def split(text: str) -> tuple[str, str]:
    """``(english, chinese)``; either is empty when the text has no such part."""
    found = _CJK.search(text)
    if found is None:
        return text.strip(), ""
    return text[: found.start()].strip(), text[found.start():].strip()


def pick(text: str | None, language: str) -> str:
    """The part of ``text`` in ``language`` (``zh`` or ``en``), else the whole text."""
    if not text:
        return ""
    english, chinese = split(text)
    if language == "zh":
        return chinese or english
    return english or chinese
