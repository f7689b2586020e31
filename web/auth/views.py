"""Sign in with a local password, sign out, switch the language."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from engine.services import accounts
from web.auth.forms import LoginForm
from web.auth.oa_sso import providers
from web.auth.redirects import safe_next
from web.auth.session import User
from web.context import container
from web.i18n import LANGUAGES

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])  # throttled by web/security.py throttle_sign_in
def login() -> ResponseReturnValue:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        found = accounts.authenticate(container().uow, login=form.login.data or "", password=form.password.data or "")
        if found is not None:
            session.clear()  # a fresh session on sign-in: nothing planted before it survives
            login_user(User(found))
            return redirect(safe_next(form.next.data))
        flash(_("Wrong employee code, email or password."), "error")
        return _login_page(form), 401
    return _login_page(form), (400 if request.method == "POST" else 200)


def _login_page(form: LoginForm) -> str:
    """The form, with a button for each OA suite configured here."""
    return render_template("auth/login.html", form=form, sign_in_providers=providers())


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.get("/lang/<code>")
def language(code: str) -> ResponseReturnValue:
    """Remember the chosen language in the session (it changes no data, so a plain link does)."""
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next")))
