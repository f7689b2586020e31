"""Chinese or English output: gettext catalogs compiled from their .po file at run time with Babel.

The language is ``--lang zh|en`` if given, else ``BUDGETFLOW_LANG``, else the locale
(``LC_ALL``, ``LC_MESSAGES``, ``LANG``: one starting with ``zh`` means Chinese), else English.
Messages are English in the code (the msgid) and translated where they are shown, so help
texts written at import time follow a ``--lang`` parsed later. The catalog lives in
``engine/cli/locale/<locale>/LC_MESSAGES/budgetflow.po``; edit it there (no compiled .mo is
kept), and tests/cli/test_language.py finds strings that lack a translation or are no longer used.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from engine.catalogs import compile_po

DOMAIN = "budgetflow"
LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = {"en": None, "zh": "zh_CN"}  # --lang value -> catalog locale (English is the msgids themselves)
LANG_ENV = "BUDGETFLOW_LANG"

_current: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def choose(environ: Mapping[str, str] | None = None) -> str:
    """The language from the environment: BUDGETFLOW_LANG, else the locale; ``zh`` or ``en``."""
    env = os.environ if environ is None else environ
    for name in (LANG_ENV, "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "").strip()
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def use(language: str) -> None:
    """Show messages in ``language`` (``zh`` or ``en``) from now on."""
    global _current, _language
    locale = LANGUAGES[language]
    _current = catalog(locale) if locale else gettext.NullTranslations()
    _language = language


def language() -> str:
    return _language


@cache
def catalog(locale: str) -> gettext.GNUTranslations:
    """The compiled catalog of ``locale``: read the .po, compile it in memory, load it."""
    return compile_po(LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po", locale=locale, domain=DOMAIN)


def _(message: str) -> str:
    """``message`` in the current language (itself when there is no translation)."""
    return _current.gettext(message) if message else message


def N_(message: str) -> str:  # noqa: N802 - the gettext convention extraction tools look for
    """Mark ``message`` for translation where it is defined; ``_()`` translates it where it is shown."""
    return message
