"""The ``finance`` blueprint: finance and auditors read; finance acts (reconciles now)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("finance", __name__, url_prefix="/finance")

FINANCE = "finance"
READERS = (FINANCE, "auditor")
