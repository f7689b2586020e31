"""gettext catalogs compiled from .po files in memory (Babel): no compiled .mo is kept in the tree.

Used by the command line (engine/cli/i18n.py, one file) and the web app (web/i18n.py, one file per
part of the app, merged).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations


def compile_po(path: Path, *, locale: str, domain: str) -> Translations:
    """Read the .po at ``path``, compile it in memory and load it."""
    return compile_po_files([path], locale=locale, domain=domain)


def compile_po_files(paths: Iterable[Path], *, locale: str, domain: str) -> Translations:
    """Several .po files as one catalog (a message in two files: the later file's translation wins)."""
    merged = Catalog(locale=locale, domain=domain)
    for path in paths:
        with path.open("rb") as po:
            for message in read_po(po, locale=locale, domain=domain):
                if message.id and message.string:
                    merged.add(message.id, message.string, flags=message.flags)
    compiled = io.BytesIO()
    write_mo(compiled, merged)
    compiled.seek(0)
    return Translations(compiled, domain=domain)  # a GNUTranslations with the methods Flask-Babel calls
