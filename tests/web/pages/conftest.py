"""The pages' tests share the lead's web fixtures (tests/web/conftest.py) and the Playwright ones."""

from tests.web.browser import browser, open_page, page, phone  # noqa: F401 - fixtures
