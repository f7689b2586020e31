"""The interactive API page: Swagger UI from our own files under the site's strict CSP, and the description
it draws. Checked in the distribution's Chromium (tests/web/browser.py)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.web.browser import screenshot

AXE = Path(__file__).resolve().parents[1] / "assets" / "axe.min.js"  # axe-core, vendored for the page tests
BLOCKING = ("serious", "critical")

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def test_the_page_loads_only_local_files_and_no_inline_script(api):
    html = api.client.get("/api/v1/docs").get_data(as_text=True)
    assert not INLINE_SCRIPT.search(html) and " style=" not in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), sources
    for source in sources:
        with api.client.get(source) as served:
            assert served.status_code == 200, source


def test_swagger_ui_draws_every_operation_under_the_csp(site, page):  # noqa: F811 (fixture)
    problems: list[str] = []
    hosts: set[str] = set()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: hosts.add(urlparse(r.url).netloc) if r.url.startswith("http") else None)
    page.goto(f"{site.url}/api/v1/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    paths = set(page.locator(".opblock-summary-path").all_inner_texts())
    assert {"/api/v1/tasks", "/api/v1/process-versions", "/api/v1/master-data/imports"} <= {
        p.replace("\u200b", "").strip() for p in paths}
    assert page.locator(".btn.authorize").count() == 1  # where a token is entered
    screenshot(page, "api-docs")
    assert hosts == {urlparse(site.url).netloc}, hosts
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_page_passes_axe_with_an_operation_open(site, browser, phone):  # noqa: F811 (fixture)
    if not AXE.exists():
        pytest.skip(f"axe-core is not vendored yet at {AXE}")
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(viewport=size, bypass_csp=True)  # axe itself is injected as a script
    try:
        page = context.new_page()  # noqa: F811
        page.goto(f"{site.url}/api/v1/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=15_000)
        page.click("#operations-Tasks-get_api_v1_tasks .opblock-summary-control")
        page.click("text=Try it out")
        page.wait_for_selector("tr[data-param-name=view] select[aria-label]")
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, where: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""")
    finally:
        context.close()
    assert [v for v in found if v["impact"] in BLOCKING] == []
