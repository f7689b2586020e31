"""Chinese and English pages (Flask-Babel), amounts as people read them (¥1,234.50), times in China's zone.

The language is the one chosen with the switch (kept in the session), else the browser's
preference, else Chinese. Messages are English in the templates and code (the msgid); the
Chinese catalog is every ``.po`` file in ``web/translations/zh_CN/LC_MESSAGES/`` (one per part of
the app, merged), compiled in memory like the command line's (no .mo in the tree).
tests/web/test_web_language.py finds strings without a translation.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import support
from babel.numbers import format_currency
from flask import Flask, request, session
from flask_babel import Babel, Domain, get_locale

from engine.catalogs import compile_po_files

LANGUAGES = {"zh": "zh_CN", "en": "en"}
CATALOG_DIR = Path(__file__).with_name("translations")
DISPLAY_ZONE = ZoneInfo("Asia/Shanghai")  # stored times are UTC; people read them in the company's zone


@cache
def _catalog(locale: str) -> support.Translations:
    return compile_po_files(sorted((CATALOG_DIR / locale / "LC_MESSAGES").glob("*.po")), locale=locale,
                            domain="messages")


class _CompiledDomain(Domain):
    def get_translations(self) -> support.NullTranslations:
        locale = get_locale()
        if locale is not None and locale.language == "zh":
            return _catalog("zh_CN")
        return support.NullTranslations()


class _Babel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return _CompiledDomain()


def language() -> str:
    """``zh`` or ``en`` for this request."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(["zh", "en"], default="zh") if request else "zh"


def money(amount: Decimal | str | None, currency: str | None = "CNY") -> str:
    """``¥1,234.50`` in Chinese, ``CN¥1,234.50`` in English; empty for no amount."""
    if amount is None or amount == "":
        return ""
    return format_currency(Decimal(amount), currency or "CNY", locale=LANGUAGES[language()])


def local_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(DISPLAY_ZONE).strftime(fmt) if moment is not None else ""


def init_app(app: Flask) -> None:
    _Babel(app, locale_selector=lambda: LANGUAGES[language()])
    app.jinja_env.filters.update(money=money, local_time=local_time)

    @app.context_processor
    def _language() -> dict[str, Any]:
        return {"current_language": language(), "languages": LANGUAGES}
