"""The interactive API page: Swagger UI from our own files under the site's strict CSP, drawing the description,
accessible (axe-core, no serious or critical violation) at a desktop and a phone's size.

The browser runs in a process of its own (docs_probe.py), so it never meets the page tests' Playwright.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.web.browser import ARTIFACTS, CHROMIUM, REQUIRE_ENV

ROOT = Path(__file__).resolve().parents[3]
AXE = ROOT / "tests" / "web" / "assets" / "axe.min.js"  # axe-core, vendored for the page tests
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


def run_probe(site, *extra: str) -> dict:
    if not Path(CHROMIUM).exists():
        reason = f"no Chromium at {CHROMIUM}"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason}, and {REQUIRE_ENV}=1 says the browser tests must run")
        pytest.skip(reason)
    done = subprocess.run([sys.executable, "-m", "tests.web.api.docs_probe", f"{site.url}/api/v1/docs",
                           "--chromium", CHROMIUM, *extra], cwd=ROOT, capture_output=True, text=True, timeout=180,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_swagger_ui_draws_every_operation_under_the_csp(site):
    found = run_probe(site, "--screenshot", str(ARTIFACTS / "api-docs.png"))
    assert {"/api/v1/tasks", "/api/v1/process-versions", "/api/v1/master-data/imports"} <= set(found["paths"])
    assert found["authorize"] == 1  # where a token is entered
    assert found["hosts"] == [urlparse(site.url).netloc]  # nothing from elsewhere
    assert not [p for p in found["problems"] if "Content Security Policy" in p or "Refused" in p], found["problems"]


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_page_passes_axe_with_an_operation_open(site, phone):
    if not AXE.exists():
        pytest.skip(f"axe-core is not vendored yet at {AXE}")
    found = run_probe(site, "--axe", str(AXE), *(["--phone"] if phone else []))
    assert [v for v in found["violations"] if v["impact"] in BLOCKING] == []
