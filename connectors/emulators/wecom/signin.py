"""Sign-in: the OAuth page WeCom shows (reduced), the single-use codes it issues, and their exchange for a
``userid`` (``auth/getuserinfo``, or the legacy ``user/getuserinfo``'s ``UserId``)."""

from __future__ import annotations

import html
import secrets
from urllib.parse import urlencode

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from connectors.emulators.wecom.access import Access
from connectors.emulators.wecom.model import CODE_TTL
from connectors.emulators.wecom.replies import Invalid, ok


class SignIn(Access):
    """The sign-in page and the code exchange."""

    def auth_getuserinfo(self, request: Request) -> Response:
        return self._api(request, lambda req, _agent: self._exchange(req, legacy=self.legacy_userinfo))

    def legacy_getuserinfo(self, request: Request) -> Response:
        return self._api(request, lambda req, _agent: self._exchange(req, legacy=True))

    def _exchange(self, request: Request, *, legacy: bool) -> Response:
        code = request.args.get("code", "")
        with self.lock:
            who, expires_at = self._codes.pop(code, ({}, 0.0))
        if not who or expires_at <= self.clock.now():
            raise Invalid(40029, "invalid code")
        if "openid" in who:
            return ok(openid=who["openid"])
        if legacy:
            return ok(UserId=who["userid"], DeviceId="")
        return ok(userid=who["userid"])

    def oauth_authorize(self, request: Request) -> Response:
        """WeCom's sign-in page, reduced: ``userid`` (the emulator's own parameter) says who signs in; without it
        a list of people to pick from."""
        redirect_uri, state = request.args.get("redirect_uri", ""), request.args.get("state", "")
        if request.args.get("appid") != self.corp_id or not redirect_uri.startswith(("http://", "https://")):
            return Response("appid or redirect_uri is wrong", 400)
        userid = request.args.get("userid")
        if userid is None:
            links = "".join(f'<li><a href="?{html.escape(urlencode({**request.args, "userid": u}))}">'
                            f'{html.escape(user["name"])} ({html.escape(u)})</a></li>'
                            for u, user in self.users.items() if user["status"] == 1)
            return Response(f"<!doctype html><title>企业微信 sign-in</title><ul>{links}</ul>",
                            content_type="text/html; charset=utf-8")
        if self.users.get(userid, {}).get("status") != 1:
            return Response("no such active member", 400)
        code = self._issue_code({"userid": userid})
        sep = "&" if "?" in redirect_uri else "?"
        return redirect(f"{redirect_uri}{sep}{urlencode({'code': code, 'state': state})}", 302)

    def _issue_code(self, who: dict[str, str]) -> str:
        code = secrets.token_urlsafe(24)
        with self.lock:
            self._codes[code] = (who, self.clock.now() + CODE_TTL)
        return code
