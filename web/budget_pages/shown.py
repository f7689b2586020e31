"""How a budget line reads on a page: its use as a figure, a state in words, a link to a document."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.routing import BuildError

from engine.services.budget_lines import EntryRow, LineRow

WARN_AT = Decimal("0.9")  # as the budget panel: above 90 % used is worth a look
STATES = {"ok": _l("within budget"), "warn": _l("nearly used up"), "over": _l("over budget")}
KINDS = {"ALLOCATE": _l("Allocated"), "RESERVE": _l("Reserved"), "CONSUME": _l("Written off"),
         "RELEASE": _l("Released")}


def state(line: LineRow) -> str:
    """``over`` when more is reserved and spent than allocated, ``warn`` from 90 % used, else ``ok``."""
    if line.available < 0:
        return "over"
    return "warn" if line.utilisation >= WARN_AT else "ok"


def percent(line: LineRow) -> str:
    return f"{(line.utilisation * 100).quantize(Decimal(1))}%"


def holder(line: LineRow) -> str:
    """Who the line belongs to: the org unit (or cost center) by name and code."""
    code = line.org_unit or line.cost_center or ""
    name = line.org_unit_name or ""
    return f"{name} {code}".strip() if name != code else code


def document_url(document_no: str) -> str:
    """The document page (the work pages' ``pages.document``), or its address while that page is missing."""
    if "pages.document" in current_app.view_functions:
        try:
            return url_for("pages.document", document_no=document_no)
        except BuildError:
            pass
    return "/documents/" + quote(document_no, safe="")


def kind(entry: EntryRow) -> str:
    """What an entry did, in words; an adjustment (a transfer's leg) says which way the budget moved."""
    if entry.kind == "ADJUST":
        return str(_l("Budget raised") if entry.budget_delta > 0 else _l("Budget cut"))
    return str(KINDS.get(entry.kind, entry.kind))


def amount(entry: EntryRow) -> Decimal:
    """The entry's amount, signed for an adjustment (the ledger stores its size and the budget's change)."""
    return entry.budget_delta if entry.kind == "ADJUST" else entry.amount
