"""The interactive API page at /api/v1/docs: Swagger UI served from our own files, no CDN.

The page's content security policy forbids inline script, so the few lines that start Swagger UI
are a static file of their own (static/api-docs.js). The page and the description are public: they
say what the API does, never what is in it; every call made from the page needs a token.
"""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

bp = Blueprint("api_docs", __name__, template_folder="templates", static_folder="static",
               static_url_path="/api/v1/docs/static")


@bp.get("/api/v1/docs")
def page() -> str:
    return render_template("api/docs.html", spec_url=url_for("api-docs.openapi_json"))
