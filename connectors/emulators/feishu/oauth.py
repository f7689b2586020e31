"""Sign-in: the authorize page, the v2 code-for-token exchange, user_info, and ``POST /_emulator/oauth/code``."""

from __future__ import annotations

import html
import secrets
from urllib.parse import urlencode

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from connectors.emulators.base import json_response
from connectors.emulators.feishu.replies import error, ok, read_body
from connectors.emulators.feishu.state import TOKEN_LIFETIME, FeishuState

CODE_LIFETIME = 300


class OAuth(FeishuState):
    def _issue_code(self, user_id: str, redirect_uri: str) -> str:
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = (user_id, redirect_uri, self.clock.now() + CODE_LIFETIME)
        return code

    def authorize(self, request: Request) -> Response:
        """The sign-in page: ``user_id`` picks the person (a real tenant would ask them to log in)."""
        redirect_uri, state = request.args.get("redirect_uri", ""), request.args.get("state", "")
        if request.args.get("client_id") != self.app_id or not redirect_uri:
            return json_response({"code": 20002, "error": "invalid_client",
                                  "error_description": "client_id or redirect_uri is invalid"}, 400)
        user_id = request.args.get("user_id", "")
        if user_id in self.people:
            code = self._issue_code(user_id, redirect_uri)
            separator = "&" if "?" in redirect_uri else "?"
            return redirect(f"{redirect_uri}{separator}{urlencode({'code': code, 'state': state})}")
        links = "".join(f'<li><a href="?{html.escape(request.query_string.decode())}&amp;user_id='
                        f'{html.escape(p.user_id)}">{html.escape(p.name)}</a></li>' for p in self.people.values())
        return Response(f"<!doctype html><title>Feishu sign-in</title><h1>Sign in as</h1><ul>{links}</ul>",
                        content_type="text/html; charset=utf-8")

    def oauth_token(self, request: Request) -> Response:
        body = read_body(request)
        if body.get("client_id") != self.app_id or body.get("client_secret") != self.app_secret:
            return self._oauth_error(20002, "invalid_client", "the client id or secret is wrong")
        if body.get("grant_type") != "authorization_code":
            return self._oauth_error(20001, "unsupported_grant_type", "grant_type must be authorization_code")
        with self.lock:
            found = self.codes.pop(str(body.get("code", "")), None)  # single use, even when refused below
        if found is None:
            return self._oauth_error(20003, "invalid_grant", "the code is not valid or was used")
        user_id, redirect_uri, expires = found
        if expires <= self.clock.now():
            return self._oauth_error(20004, "invalid_grant", "the code has expired")
        if redirect_uri and body.get("redirect_uri", redirect_uri) != redirect_uri:
            return self._oauth_error(20071, "invalid_grant", "redirect_uri does not match the authorize request")
        token = "u-" + secrets.token_hex(16)
        with self.lock:
            self.user_tokens[token] = (user_id, self.clock.now() + TOKEN_LIFETIME)
        return json_response({"code": 0, "access_token": token, "expires_in": TOKEN_LIFETIME,
                              "refresh_token": "ur-" + secrets.token_hex(16), "refresh_token_expires_in": 604800,
                              "token_type": "Bearer", "scope": ""})

    @staticmethod
    def _oauth_error(code: int, error: str, description: str) -> Response:
        return json_response({"code": code, "error": error, "error_description": description}, 400)

    def user_info(self, request: Request) -> Response:
        given = request.headers.get("Authorization", "")
        with self.lock:
            found = self.user_tokens.get(given[7:].strip()) if given.startswith("Bearer ") else None
        if found is None or found[1] <= self.clock.now():
            return error(99991668, "Invalid access token for authorization. Please make a request with token "
                         "attached.")
        person = self.people[found[0]]
        return ok({"name": person.name, "en_name": person.name, "open_id": person.open_id,
                   "union_id": person.union_id, "user_id": person.user_id, "tenant_key": "emulator-tenant"})

    def control_oauth_code(self, request: Request) -> Response:
        body = read_body(request)
        user_id = str(body.get("user_id", ""))
        if user_id not in self.people:
            return json_response({"error": "no such user"}, 404)
        return json_response({"code": self._issue_code(user_id, str(body.get("redirect_uri", "")))})
