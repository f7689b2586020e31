"""The server-rendered pages: inbox, tasks, documents, budgets, processes."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

bp = Blueprint("pages", __name__)


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    return redirect(url_for("pages.inbox"))


@bp.get("/inbox")
@login_required
def inbox() -> ResponseReturnValue:
    from flask import render_template
    return render_template("base.html")


def register(app: Flask) -> None:
    app.register_blueprint(bp)
