"""Sign in through an OA suite (DingTalk, WeCom, Feishu): the OAuth code flow, mapped onto an employee.

``/login/oa/<vendor>`` sends the browser to the vendor's sign-in page with a one-time ``state`` kept in the
session; the vendor sends it back to ``/login/oa/<vendor>/done`` with a code (``authCode`` from DingTalk).
The state must match (a sign-in begun elsewhere is refused: login CSRF), the code is exchanged once (the
vendor refuses it again), and the vendor's user id finds the employee through the data dictionary's OA ids
(or an explicit link). Someone the company does not know, or no longer employs, is told so and not signed in.
"""

from __future__ import annotations

import hmac
import logging
import secrets

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_user

from connectors.base import ConnectorError
from engine.services import accounts, oa_clients
from web.auth.redirects import safe_next
from web.auth.session import User
from web.context import container, oa_connections

bp = Blueprint("oa_sso", __name__)
log = logging.getLogger("budgetflow.web.sso")
PENDING = "oa_sso"  # the session key of a sign-in under way: vendor, state, where to go next


def _vendor_name(vendor: str) -> str:
    names = {"dingtalk": _("DingTalk"), "wecom": _("WeCom"), "feishu": _("Feishu")}
    return names.get(vendor, vendor)


def providers() -> list[dict[str, str]]:
    """The sign-in buttons of the configured OA suites, for the sign-in page."""
    configured = oa_connections()
    return [{"url": url_for("oa_sso.start", vendor=v, next=request.args.get("next") or None),
             "label": _("Sign in with %(vendor)s", vendor=_vendor_name(v))}
            for v in sorted(configured) if v in oa_clients.CLIENTS]


def _refused(status: int, message: str) -> ResponseReturnValue:
    return render_template("error.html", status=status, code="SIGN_IN_REFUSED", message=message,
                           details=None), status


def _done_url(vendor: str) -> str:
    return url_for("oa_sso.done", vendor=vendor, _external=True)


@bp.get("/login/oa/<vendor>")
def start(vendor: str) -> ResponseReturnValue:
    conn = oa_connections().get(vendor)
    if conn is None:
        return _refused(404, _("Signing in with %(vendor)s is not set up here.", vendor=vendor))
    state = secrets.token_urlsafe(24)
    session[PENDING] = {"vendor": vendor, "state": state, "next": safe_next(request.args.get("next"))}
    client = oa_clients.client_for(conn, container().oa_tokens())
    return redirect(client.authorize_url(_done_url(vendor), state))


@bp.get("/login/oa/<vendor>/done")
def done(vendor: str) -> ResponseReturnValue:
    pending = session.pop(PENDING, None)
    conn = oa_connections().get(vendor)
    state = request.args.get("state", "")
    if conn is None or not pending or pending.get("vendor") != vendor \
            or not hmac.compare_digest(str(pending.get("state")), state):
        return _refused(400, _("This sign-in did not start here, or it expired. Please sign in again."))
    code = request.args.get("code") or request.args.get("authCode") or ""
    name = _vendor_name(vendor)
    try:
        subject = oa_clients.client_for(conn, container().oa_tokens()).user_for_code(code, _done_url(vendor))
    except ConnectorError as exc:
        log.warning("%s sign-in failed [%s]", vendor, exc.code)
        if exc.code in ("OA_SSO_CODE_INVALID", "OA_SSO_UNKNOWN_USER", "OA_BAD_REQUEST"):
            return _refused(400, _("%(vendor)s did not accept this sign-in (the code was used, expired or "
                                   "invalid). Please sign in again.", vendor=name))
        return _refused(503, _("%(vendor)s could not be reached to sign you in. Please try again in a moment.",
                               vendor=name))
    found = accounts.principal_for_external(container().reader, provider=vendor, subject=subject)
    if found is None:
        log.warning("%s sign-in refused: user %s is not an active employee", vendor, subject)
        return _refused(403, _("Your %(vendor)s account (%(user)s) is not linked to an active employee of "
                               "budgetflow. Ask your administrator to add it to your employee record in the "
                               "data dictionary.", vendor=name, user=subject))
    session.clear()  # a fresh session on sign-in, as with a password
    login_user(User(found))
    return redirect(pending.get("next") or url_for("pages.home"))
