"""Budget pages: lines with their use, one line's ledger entries, transfers between lines."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("budgets", __name__, url_prefix="/budgets")
