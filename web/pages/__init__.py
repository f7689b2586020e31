"""The server-rendered pages where work happens: inbox, tasks, documents, the applicant's pages.

One module per page area (inbox, tasks, documents, applicant); ``common`` holds who is acting and how
the engine's refusals become answers; ``view_helpers`` the template filters. The budget and process
pages are blueprints of their own (web/budget_pages, web/process_pages).
"""

from __future__ import annotations

from flask import Flask, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from web.pages import applicant, documents, inbox, tasks, view_helpers  # noqa: F401 - routes register on import
from web.pages.blueprint import bp


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    return redirect(url_for("pages.inbox"))


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    view_helpers.init_app(app)
