"""Acceptance 5: every state-changing form of the app refuses a request without a valid CSRF token.

The routes are read from the app's URL map, not listed by hand: a new POST/PUT/PATCH/DELETE route
outside /api/ is checked the day it is added, and one exempted from CSRF fails here. Each is sent,
by someone the page is meant for, with no token, a made-up token and another session's real token:
400 with the CSRF message and the database unchanged. With the session's own token the same request
gets past CSRF (a positive control: the refusal is CSRF's, not something else's).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from flask import Flask
from sqlalchemy import MetaData, Table, select
from werkzeug.routing import Rule
from werkzeug.routing.converters import NumberConverter

from tests.web.conftest import csrf_token, login_client
from web.demo import ROLES
from web.security import csrf

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_MESSAGE = "The form expired or did not come from this site"
# Who a form is for; the CSRF check runs before any of them is asked, but the request is sent as they would send it.
BY_BLUEPRINT = {"budgets": ROLES["budget admin"], "processes": ROLES["process designer"], "pages": ROLES["applicant"],
                "finance": ROLES["finance"]}
BY_ENDPOINT = {"processes.retry_instance": ROLES["admin"], "auth.login": None}
MUST_BE_FOUND = {"auth.login", "auth.logout", "processes.publish", "processes.activate", "processes.check_upload",
                 "processes.retry_job",
                 "budgets.make_transfer", "pages.complete", "pages.start"}
NOT_CONTENT = {"rate_counter"}  # sign-in throttling counts requests, refused ones too; it holds no business data


def form_routes(app: Flask) -> Iterator[tuple[Rule, str]]:
    """Every state-changing (rule, method) outside the bearer-token API and the OA suites' callbacks (which
    read no cookie: the vendor's signature is their credential; the last test here shows it)."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith(("/api/", "/callbacks/")):
            continue
        for method in sorted((rule.methods or set()) & STATE_CHANGING):
            yield rule, method


def sample_path(rule: Rule) -> str:
    """The rule's URL with a plausible value for each variable (the CSRF check comes before any lookup)."""
    values = {name: 1 if isinstance(rule._converters[name], NumberConverter) else "x" for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def who(rule: Rule) -> str | None:
    if rule.endpoint in BY_ENDPOINT:
        return BY_ENDPOINT[rule.endpoint]
    return BY_BLUEPRINT.get(rule.endpoint.split(".", 1)[0], ROLES["applicant"])


_TABLES: dict[str, list[Table]] = {}


def database_digest(container: Any) -> str:
    """Every row of every table: what a refused request must leave exactly as it was."""
    url = str(container.engine.url)
    if url not in _TABLES:  # the schema does not change during a test: read it once
        metadata = MetaData()
        metadata.reflect(container.engine)
        _TABLES[url] = sorted((t for t in metadata.sorted_tables if t.name not in NOT_CONTENT), key=lambda t: t.name)
    digest = hashlib.sha256()
    with container.engine.connect() as conn:
        for table in _TABLES[url]:
            rows = sorted(repr(tuple(row)) for row in conn.execute(select(table)))
            digest.update(f"{table.name}:{len(rows)}:{rows}".encode())
    return digest.hexdigest()


class Sessions:
    """One signed-in test client per person (a password check costs half a second), made when first needed."""

    def __init__(self, flask_app: Flask) -> None:
        self.app, self.clients = flask_app, {}

    def __call__(self, employee: str | None) -> tuple[Any, str]:
        if employee not in self.clients:
            client = self.app.test_client()
            client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
            if employee is not None:
                login_client(client, employee)
            self.clients[employee] = client, csrf_token(client.get("/login").get_data(as_text=True))
        return self.clients[employee]

    def check_still_signed_in(self, employee: str | None) -> None:
        """After a request that ended the session (signing out), the next request signs in afresh."""
        client, _token = self.clients[employee]
        with client.session_transaction() as session:
            if employee is not None and session.get("_user_id") != employee:
                del self.clients[employee]


def refusal_problems(sessions: Sessions, demo: Any, rule: Rule, method: str) -> list[str]:
    where = f"{method} {rule.rule} ({rule.endpoint})"
    client, token = sessions(who(rule))
    _other, foreign_token = sessions(ROLES["auditor"])
    problems = []
    before = database_digest(demo)
    for label, data in (("no token", {}), ("a made-up token", {"csrf_token": "IjAwMDAi.made.up"}),
                        ("another session's token", {"csrf_token": foreign_token})):
        response = client.open(sample_path(rule), method=method, data=data)
        if response.status_code != 400 or CSRF_MESSAGE not in response.get_data(as_text=True):
            problems.append(f"{where} with {label}: answered {response.status_code}, not the CSRF refusal")
    if database_digest(demo) != before:
        problems.append(f"{where} without a valid token: the database changed")
    passed = client.open(sample_path(rule), method=method, data={"csrf_token": token})
    sessions.check_still_signed_in(who(rule))
    if CSRF_MESSAGE in passed.get_data(as_text=True):
        problems.append(f"{where} with its session's token: still refused as CSRF (positive control)")
    return problems


def test_every_state_changing_form_refuses_a_missing_or_wrong_token(flask_app, demo):
    routes = list(form_routes(flask_app))
    assert MUST_BE_FOUND <= {rule.endpoint for rule, _method in routes}, "the enumeration lost known forms"
    sessions = Sessions(flask_app)
    problems = [p for rule, method in routes for p in refusal_problems(sessions, demo, rule, method)]
    assert problems == []


def test_a_form_route_without_csrf_protection_is_caught(flask_app, demo):
    """The check above can fail: a route exempted from CSRF is reported, and a change it makes is seen."""
    from engine.services import accounts

    @flask_app.post("/unprotected/<int:number>")
    @csrf.exempt
    def unprotected(number: int) -> str:
        accounts.set_password(demo.uow, employee=ROLES["auditor"], password="changed-by-a-forged-form", by="test")
        return "done"

    rule = next(r for r, _m in form_routes(flask_app) if r.endpoint == "unprotected")
    problems = refusal_problems(Sessions(flask_app), demo, rule, "POST")
    assert problems == [f"POST /unprotected/<int:number> (unprotected) with {label}: answered 200, not the CSRF "
                        "refusal" for label in ("no token", "a made-up token", "another session's token")] + [
        "POST /unprotected/<int:number> (unprotected) without a valid token: the database changed"]


def test_the_oa_callbacks_need_no_csrf_token_because_a_signed_in_browser_gets_nothing_from_them(flask_app, demo):
    """A forged cross-site post to a callback carries the victim's cookie but not the vendor's signature: refused,
    nothing changed, whoever is signed in."""
    client, _token = Sessions(flask_app)(ROLES["admin"])
    before = database_digest(demo)
    for vendor in ("dingtalk", "wecom", "feishu"):
        answer = client.post(f"/callbacks/{vendor}", data=b'{"encrypt": "x"}', content_type="application/json")
        assert answer.status_code in (400, 404), (vendor, answer.status_code)
    assert database_digest(demo) == before
