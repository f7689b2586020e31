"""Fixtures for the web app: a demo database, the Flask app on it, and the app behind a real HTTP server.

``site`` serves the app with waitress (the production server) on a free loopback port in a thread:
browser tests and HTTP tests talk to it over real HTTP. ``client`` is Flask's test client, for the
many small checks where a socket adds nothing.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from engine.bootstrap import Container

# The Playwright fixtures, defined here once: a session-scoped fixture imported into several modules would
# start one Playwright per module, and a second one in the same thread refuses to start.
from tests.web.browser import browser, open_page, page, phone  # noqa: F401
from web.app import create_app
from web.demo import DEMO_PASSWORD, ROLES, prepare_demo
from web.server import Server
from web.settings import WebSettings

PASSWORD = DEMO_PASSWORD
APPLICANT, MANAGER, DEPT_HEAD, FINANCE = ROLES["applicant"], ROLES["manager"], ROLES["department head"], ROLES[
    "finance"]
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def demo(container: Container) -> Container:
    """The demo company with the shipped diagrams deployed and a sign-in for every active employee."""
    prepare_demo(container)
    return container


def web_settings(**changes: object) -> WebSettings:
    base = WebSettings(secret_key="test-secret-key-" + "x" * 32, secure_cookies=False, login_limit="1000 per minute")
    return WebSettings(**{**{f: getattr(base, f) for f in base.__slots__}, **changes})  # type: ignore[arg-type]


@pytest.fixture
def flask_app(demo: Container):
    return create_app(demo, web=web_settings())


@pytest.fixture
def client(flask_app):
    """Flask's test client; it asks for English pages (the app's default for no preference is Chinese)."""
    test_client = flask_app.test_client()
    test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return test_client


@dataclass
class Site:
    url: str
    container: Container

    def session(self, employee: str | None = None) -> requests.Session:
        """A requests session, signed in as ``employee`` when given (through the real sign-in form)."""
        http = requests.Session()
        http.headers["Accept-Language"] = "en"
        if employee is not None:
            sign_in(http, self.url, employee)
        return http


@pytest.fixture
def site(flask_app, demo: Container) -> Iterator[Site]:
    server = Server(flask_app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield Site(url=server.url.rstrip("/"), container=demo)
    finally:
        server.close()
        thread.join(timeout=10)


def csrf_token(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(http: requests.Session, base: str, employee: str, password: str = PASSWORD) -> requests.Response:
    form = http.get(f"{base}/login", timeout=10)
    return http.post(f"{base}/login", data={"login": employee, "password": password,
                                            "csrf_token": csrf_token(form.text)}, timeout=10)


def login_client(client, employee: str, password: str = PASSWORD):
    """Sign the Flask test client in through the form (CSRF token included)."""
    form = client.get("/login")
    return client.post("/login", data={"login": employee, "password": password,
                                       "csrf_token": csrf_token(form.get_data(as_text=True))})
