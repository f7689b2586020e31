"""The ``pages`` blueprint object, apart so that each page module can add its routes to it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pages", __name__)
