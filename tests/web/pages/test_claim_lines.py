"""Claim lines in a browser: with JavaScript a line is added and removed in place; without it, blank lines and
a "More lines" button do the same through the server. Either way the lines sent are the lines shown."""

from __future__ import annotations

from engine.services import processes
from tests.web.browser import sign_in
from tests.web.conftest import APPLICANT


def claim_form(site, page) -> None:
    started = processes.start(site.container.uow, process_id="expense_claim", applicant=APPLICANT,
                              business_key="EC-LINES-1")
    sign_in(page, site.url, APPLICANT)
    page.goto(f"{site.url}/tasks/{started.open_tasks[0]['task_guid']}")


def test_lines_are_added_and_removed_with_javascript(site, page) -> None:
    claim_form(site, page)
    assert page.locator("[data-more-rows]").is_hidden() and page.locator("[data-add-row]").is_visible()
    page.click("[data-add-row=lines]")
    assert page.locator("table.lines tbody tr").count() == 3
    assert page.evaluate("document.activeElement.name") == "lines[2].subject"  # focus moves to the new line
    assert page.locator("label[for='f-lines-2-amount']").inner_text().endswith("line 3")
    page.fill("input[name='lines[2].amount']", "9.90")
    page.locator("table.lines tbody tr").nth(0).locator("[data-remove-row]").click()
    assert page.locator("table.lines tbody tr").count() == 2
    assert page.input_value("input[name='lines[2].amount']") == "9.90"


def test_more_lines_without_javascript(site, open_page) -> None:
    page = open_page(java_script_enabled=False)
    claim_form(site, page)
    assert page.locator("[data-add-row]").is_hidden() and page.locator("[data-remove-row]").first.is_hidden()
    page.fill("input[name='lines[0].amount']", "12.50")
    with page.expect_navigation():
        page.click("[data-more-rows]")
    assert page.locator("table.lines tbody tr").count() == 1 + 2 + 3  # the typed line, the blank ones, 3 more
    assert page.input_value("input[name='lines[0].amount']") == "12.50"
