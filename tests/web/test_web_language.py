"""The web app's Chinese catalog matches the code: every message marked in web/ (Python and templates) has a
translation, and no translation is left for a message that is gone."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
CATALOGS = WEB / "translations" / "zh_CN" / "LC_MESSAGES"
# web/cli.py speaks through the command line's catalog (tests/cli/test_language.py checks it)
METHODS = [("cli.py", "ignore"), ("**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None, "ngettext": (1, 2)}


def _marked() -> dict[str, str]:
    found: dict[str, str] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
            WEB, METHODS, options_map=OPTIONS, keywords=KEYWORDS):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.setdefault(text, f"web/{filename}:{line}")
    return found


def _translated() -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for path in sorted(CATALOGS.glob("*.po")):
        with path.open("rb") as po:
            for message in read_po(po, locale="zh_CN"):
                ids = message.id if isinstance(message.id, tuple) else (message.id,)
                for text in ids:
                    if text and message.string:
                        found[text] = (path.name, str(message.string))
    return found


def test_every_marked_message_has_a_chinese_translation() -> None:
    marked = _marked()
    assert "Skip to content" in marked and "Sign in" in marked  # templates and Python are both read
    translated = _translated()
    missing = {text: where for text, where in marked.items() if text not in translated}
    assert not missing, "add these to a catalog in web/translations/zh_CN/LC_MESSAGES/:\n" + "\n".join(
        f"  {where}: {text!r}" for text, where in sorted(missing.items(), key=lambda kv: kv[1]))


def test_no_translation_is_left_for_a_message_that_is_gone() -> None:
    marked = _marked()
    stale = sorted(f"{where[0]}: {text!r}" for text, where in _translated().items() if text not in marked)
    assert not stale, "remove these from the catalogs:\n" + "\n".join(stale)
