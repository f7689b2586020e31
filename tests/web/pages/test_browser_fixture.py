"""The browser fixtures themselves: a real sign-in through the form, at desktop and phone size."""

from __future__ import annotations

from tests.web.browser import ARTIFACTS, screenshot, sign_in
from tests.web.conftest import APPLICANT


def test_sign_in_and_screenshot(site, page) -> None:
    sign_in(page, site.url, APPLICANT)
    assert page.url.endswith("/inbox")
    saved = screenshot(page, "fixture-desktop")
    assert saved.parent == ARTIFACTS and saved.stat().st_size > 1000


def test_phone_viewport(site, phone) -> None:
    sign_in(phone, site.url, APPLICANT)
    assert phone.viewport_size == {"width": 390, "height": 844}
    assert phone.evaluate("window.innerWidth") == 390  # the viewport meta tag is honoured
