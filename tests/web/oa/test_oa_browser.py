"""Mode 2 as people click it, in a real headless browser: the applicant applies in budgetflow, the approver
approves on the emulated WeCom's page, and the applicant sees the document approved in budgetflow. The OA is
wired as `budgetflow demo` wires it; the worker's passes run in this process between the clicks."""

from __future__ import annotations

import re

import pytest

from tests.web.browser import sign_in
from tests.web.oa.modes_support import APPLICANT, SUITES, running

pytestmark = pytest.mark.slow


def test_an_approval_clicked_in_the_oa_moves_the_document_on_in_budgetflow(demo, open_page):
    with running(SUITES["wecom"], demo) as oa:
        applicant = open_page()
        sign_in(applicant, oa.site, APPLICANT)
        applicant.goto(f"{oa.site}/new")
        assert applicant.locator("#start-oa_travel_application").count() == 0  # the OA starts that one
        with applicant.expect_navigation():
            applicant.locator("section:has(#start-travel_application_oa) button[type=submit]").click()
        applicant.select_option("select[name=subject]", "TRAVEL")
        applicant.fill("textarea[name=purpose]", "Customer visits in Shanghai")
        applicant.fill("input[name=amount]", "2600.00")
        with applicant.expect_navigation():
            applicant.locator("form.task-form button[type=submit].primary").click()
        number = re.search(r"/documents/(TA-\d{4}-\d+)", applicant.url).group(1)  # type: ignore[union-attr]
        oa.settle()  # the worker creates the approval in WeCom

        approver = open_page()
        approver.goto(f"{oa.emulator_url}/_emulator/")
        row = approver.locator("tr", has_text="预算审批")
        assert row.count() == 1, approver.inner_text("body")[:500]
        with approver.expect_navigation():
            row.locator("button", has_text="approve").click()
        oa.settle()  # the callback the click posted is applied

        applicant.goto(f"{oa.site}/documents/{number}")
        assert "Approved" in applicant.inner_text(".facts"), applicant.inner_text("main")[:800]
