"""gettext catalogs compiled from their .po file in memory (Babel): no compiled .mo is kept in the tree.

Used by the command line (engine/cli/i18n.py) and the web app (web/i18n.py), each with its own catalog.
"""

from __future__ import annotations

import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po


def compile_po(path: Path, *, locale: str, domain: str) -> gettext.GNUTranslations:
    """Read the .po at ``path``, compile it in memory and load it."""
    with path.open("rb") as po:
        messages = read_po(po, locale=locale, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, messages)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
