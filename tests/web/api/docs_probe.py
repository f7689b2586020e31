"""Open the API docs page in Chromium and report what happened, as one JSON document on stdout.

Run in a process of its own (``python -m tests.web.api.docs_probe URL ...``) by test_docs_page.py: Playwright's
sync API allows one running instance per thread, and the page tests keep theirs for the whole session.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import sync_playwright

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
RUN_AXE = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
    .map(v => ({id: v.id, impact: v.impact, where: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""


def probe(url: str, *, chromium: str, phone: bool, axe: Path | None, screenshot: Path | None) -> dict[str, object]:
    problems: list[str] = []
    hosts: set[str] = set()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--disable-dev-shm-usage"])
        # axe is injected as a script of its own, which the page's CSP would refuse; the page's own scripts are
        # checked against the CSP in the run without axe
        context = browser.new_context(viewport=PHONE if phone else DESKTOP, bypass_csp=axe is not None)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: hosts.add(urlparse(r.url).netloc) if r.url.startswith("http") else None)
        page.goto(url)
        page.wait_for_selector(".opblock-summary-path")
        paths = [p.replace("\u200b", "").strip() for p in page.locator(".opblock-summary-path").all_inner_texts()]
        authorize = page.locator(".btn.authorize").count()
        page.click("#operations-Tasks-get_api_v1_tasks .opblock-summary-control")
        page.click("text=Try it out")
        page.wait_for_selector("tr[data-param-name=view] select[aria-label]")
        if screenshot is not None:
            screenshot.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        violations = []
        if axe is not None:
            page.add_script_tag(content=axe.read_text(encoding="utf-8"))
            violations = page.evaluate(RUN_AXE)
        browser.close()
    return {"paths": paths, "authorize": authorize, "hosts": sorted(hosts), "problems": problems,
            "violations": violations}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--chromium", required=True)
    parser.add_argument("--phone", action="store_true")
    parser.add_argument("--axe", type=Path)
    parser.add_argument("--screenshot", type=Path)
    args = parser.parse_args(argv)
    found = probe(args.url, chromium=args.chromium, phone=args.phone, axe=args.axe, screenshot=args.screenshot)
    print(json.dumps(found))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
