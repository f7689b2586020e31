"""The ``processes`` blueprint: pages for process designers; admins may look and retry incidents."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("processes", __name__, url_prefix="/processes")

DESIGNER = "process_designer"
VIEWERS = (DESIGNER, "admin")
