"""Playwright fixtures for browser tests: the distribution's Chromium, headless, never a downloaded browser.

tests/web/conftest.py imports the fixtures, so every test under tests/web/ has them (never import them into a
test module: each import would be a session fixture of its own, and a second Playwright in one thread fails).

- ``browser``: one Chromium per test session (``/usr/bin/chromium``, or ``BUDGETFLOW_CHROMIUM``). When it is
  missing the tests that need it skip with the reason, unless ``BUDGETFLOW_REQUIRE_BROWSER=1`` (CI sets it):
  then they fail, so a CI machine without the browser cannot pass by skipping the story.
- ``page``: a fresh context per test (own cookies), English, a desktop window.
- ``phone``: the same at a phone's size (390x844, touch, mobile viewport meta honoured).
- ``open_page(locale=..., phone=..., **context_options)``: more pages in one test (two people at once, Chinese,
  no JavaScript).
- ``sign_in(page, base_url, code)``: through the real sign-in form; ``screenshot(page, name)`` saves
  ``test-artifacts/NAME.png`` at the repository root (gitignored; CI keeps the folder as an artifact).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from web.demo import DEMO_PASSWORD

CHROMIUM = os.environ.get("BUDGETFLOW_CHROMIUM", "/usr/bin/chromium")
REQUIRE_ENV = "BUDGETFLOW_REQUIRE_BROWSER"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
TIMEOUT_MS = 15_000  # one action or wait; a page of this app answers in well under a second


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}, and {REQUIRE_ENV}=1 says the browser tests must run")
    pytest.skip(f"{reason} (set {REQUIRE_ENV}=1 to make this a failure)")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """The system Chromium driven by Playwright, headless, for the whole test session."""
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM} (install the distribution's chromium package)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is in the test extras
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        # --disable-dev-shm-usage: containers give /dev/shm 64 MB, which Chromium outgrows on big pages
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=["--disable-dev-shm-usage"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """``open_page(locale="en-US", phone=False, **context_options)`` → a page in a context of its own (more
    Playwright context options pass through, e.g. ``java_script_enabled=False``); all closed after the test."""
    contexts: list[Any] = []

    def make(*, locale: str = "en-US", phone: bool = False, **more: Any) -> Any:
        options: dict[str, Any] = {**(dict(PHONE) if phone else {"viewport": DESKTOP}), **more}
        context = browser.new_context(locale=locale, timezone_id="Asia/Shanghai", **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page: Callable[..., Any]) -> Any:
    """A desktop page in English, in a fresh context (no cookies)."""
    return open_page()


@pytest.fixture
def phone(open_page: Callable[..., Any]) -> Any:
    """A page at a phone's viewport (390x844, mobile, touch), in English."""
    return open_page(phone=True)


def sign_in(page: Any, base_url: str, code: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the form as ``code``; fails with the page's message when the sign-in is refused."""
    page.goto(f"{base_url.rstrip('/')}/login")
    page.fill("input[name=login]", code)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    if "/login" in page.url:
        raise AssertionError(f"sign-in as {code} refused: {page.inner_text('main')[:300]}")


def sign_out(page: Any) -> None:
    with page.expect_navigation():
        page.click("header form button[type=submit]")


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page PNG as test-artifacts/NAME.png (NAME: letters, digits, dash, underscore)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,80}", name):
        raise ValueError(f"screenshot name {name!r}: use 1-80 letters, digits, '-' or '_'")
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
