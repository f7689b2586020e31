"""The ``budgets`` blueprint: budget admins, finance, admins and auditors see every line; managers their units'."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("budgets", __name__, url_prefix="/budgets")

READERS = ("budget_admin", "finance", "admin", "auditor", "manager")
TRANSFERRER = "budget_admin"
