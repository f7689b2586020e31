"""The stats page over real HTTP (the app behind waitress) and in Chromium: the figures on the diagram and in
the tables below it, for the designer and the admin only."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

from engine.services import processes
from engine.workflow.bundle import read_folder
from tests.engine_support import FIXTURES
from tests.step_stats.support import known_instances, with_layout
from tests.web.admin.support import PEOPLE
from tests.web.browser import screenshot, sign_in

DESIGNER = PEOPLE["process_designer"]
SVG = "{http://www.w3.org/2000/svg}"


def with_known_instances(site) -> int:
    """Deploy the fixture diagram, drawn, beside the demo's (a version of its own); drive the known instances."""
    version_id, _ = processes.deploy(site.container.uow, with_layout(read_folder(FIXTURES)), by=DESIGNER)
    known_instances(site.container)
    return version_id


def cells(html: str, element_id: str) -> list[str]:
    row = re.search(rf'<tr data-element="{element_id}">(.*?)</tr>', html, re.S)
    assert row, f"no row for {element_id}"
    return [re.sub(r"<[^>]+>", " ", c).split()[-1] for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1),
                                                                         re.S)]


def figure(html: str, element_id: str) -> str:
    """The figure lines drawn on ``element_id`` (a shape or a flow) in the page's one diagram."""
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", html, re.S).group(0))
    (group,) = [g for g in svg.iter(f"{SVG}g") if g.get("data-element") == element_id]
    boxes = [g for g in group.iter(f"{SVG}g") if g.get("class") == "bf-figures"]
    assert len(boxes) == 1, f"no figures on {element_id}"
    return " ".join(t.text or "" for t in boxes[0].iter(f"{SVG}tspan"))


def test_the_stats_page_draws_the_figures_on_the_diagram_and_lists_them(site):
    version_id = with_known_instances(site)
    http = site.session(DESIGNER)
    response = http.get(f"{site.url}/processes/versions/{version_id}/stats", timeout=30)
    assert response.status_code == 200
    html = response.text
    assert cells(html, "fill_claim")[1:] == ["task", "4", "min", "min", "1"]
    assert re.search(r'<tr data-element="fill_claim">.*?>2 min<.*?>4 min<', html, re.S)
    assert re.search(r'<tr data-element="approve_by_manager">.*?>1 h 00 min<.*?>2 h 00 min<.*?>1</td>', html, re.S)
    assert cells(html, "post_voucher")[-4:] == ["0", "-", "-", "2"]
    assert figure(html, "fill_claim") == "4 passed median 2 min 1 waiting now"
    assert figure(html, "post_voucher") == "0 passed 2 waiting now"
    assert figure(html, "f5") == "2 · 66.7%" and figure(html, "f_reject") == "1 · 33.3%"
    assert re.search(r'<tr data-flow="f_reject">.*?>1</td>.*?>33.3%</td>', html, re.S)
    version_page = http.get(f"{site.url}/processes/versions/{version_id}", timeout=30).text
    assert f'href="/processes/versions/{version_id}/stats"' in version_page


def test_only_designers_and_admins_see_it_and_an_unknown_version_is_not_found(site):
    assert site.session(PEOPLE["employee"]).get(f"{site.url}/processes/versions/1/stats", timeout=30
                                                ).status_code == 403
    assert site.session(PEOPLE["admin"]).get(f"{site.url}/processes/versions/1/stats", timeout=30).status_code == 200
    assert site.session(DESIGNER).get(f"{site.url}/processes/versions/99/stats", timeout=30).status_code == 404


def test_the_figures_show_in_a_browser_in_chinese_too(site, open_page):
    version_id = with_known_instances(site)
    page = open_page(locale="zh-CN")
    sign_in(page, site.url, DESIGNER)
    page.goto(f"{site.url}/processes/versions/{version_id}/stats")
    box = page.locator('g[data-element="approve_by_manager"] .bf-figures')
    assert box.is_visible() and box.bounding_box()["width"] > 20
    assert box.text_content() == "经过 3中位 1 小时 00 分当前等待 1"  # three lines: passed, median wait, waiting now
    assert page.locator('tr[data-element="approve_by_manager"] td').nth(1).inner_text() == "3"
    screenshot(page, "step-stats-zh")
