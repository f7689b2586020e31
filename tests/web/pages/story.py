"""The story of acceptance 2, walked in a browser as people would: each person in a browser of their own,
clicking through the real pages of the real server (``site``). The worker runs once in-process where a
voucher is to be posted."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine import worker
from tests.web.browser import ARTIFACTS, screenshot, sign_in
from tests.web.conftest import Site
from web.demo import ROLES

APPLICANT, MANAGER, DEPT_HEAD = ROLES["applicant"], ROLES["manager"], ROLES["department head"]
# The smallest PNG there is: a receipt's scan as the claim's attachment.
RECEIPT_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2a8c5a90000000049454e44ae426082")


@dataclass
class Story:
    site: Site
    open_page: Callable[..., Any]
    phone: bool = False
    shots: str | None = None  # screenshot name prefix; None: none taken
    pages: dict[str, Any] = field(default_factory=dict)
    applicant: str = APPLICANT
    manager: str = MANAGER
    dept_head: str = DEPT_HEAD
    tag: str = "1"  # makes invoice numbers unique when several stories run on one database
    # Whether the budget line is this story's alone (its totals are then exact); several stories at once share it.
    own_line: bool = True
    post_vouchers: Callable[[], None] | None = None  # default: the worker runs once in this process

    def person(self, code: str) -> Any:
        """``code``'s browser, signed in on first use."""
        if code not in self.pages:
            page = self.open_page(phone=self.phone)
            sign_in(page, self.site.url, code)
            self.pages[code] = page
        return self.pages[code]

    def shot(self, page: Any, name: str) -> None:
        if self.shots is not None:
            screenshot(page, f"{self.shots}{name}")

    # -- the applicant

    def start(self, process_section: str, *, application: str | None = None) -> Any:
        page = self.person(self.applicant)
        page.goto(f"{self.site.url}/new")
        section = page.locator(f"section:has(#start-{process_section})")
        if application:
            section.locator("select[name=application_no]").select_option(application)
        with page.expect_navigation():
            section.locator("button[type=submit]").click()
        assert "/tasks/" in page.url, page.url
        return page

    def submit(self, page: Any) -> str:
        """Send the applicant's form; lands on the document page; returns the document number."""
        with page.expect_navigation():
            page.locator("form.task-form button[type=submit].primary").click()
        found = re.search(r"/documents/([A-Z]{2}-\d{4}-\d+)", page.url)
        assert found, f"not on a document page after submitting: {page.url}: {page.inner_text('main')[:500]}"
        return found.group(1)

    # -- approvers

    def open_from_inbox(self, code: str, document_no: str, *, shot: str | None = None) -> Any:
        page = self.person(code)
        page.goto(f"{self.site.url}/inbox")
        row = page.locator("table.inbox tbody tr", has_text=document_no)
        assert row.count() == 1, f"{document_no} is not in {code}'s inbox: {page.inner_text('main')[:500]}"
        if shot:
            self.shot(page, shot)
        with page.expect_navigation():
            row.locator("a").first.click()
        return page

    def decide(self, code: str, document_no: str, decision: str, comment: str, *, shot: str | None = None) -> Any:
        page = self.open_from_inbox(code, document_no, shot=f"{shot}-inbox" if shot else None)
        assert page.locator(".budget-panel table").count() == 1, "the approver must see the budget panel"
        panel_top = page.locator(".budget-panel").bounding_box()
        buttons_top = page.locator(".decisions").bounding_box()
        assert panel_top["y"] < buttons_top["y"], "the budget panel must come before the decision buttons"
        if shot:
            self.shot(page, f"{shot}-task")
        assert page.input_value("textarea[name=comment]") == "", "an approval starts empty, never with another's"
        page.fill("textarea[name=comment]", comment)
        with page.expect_navigation():
            page.click(f"button[name=decision][value={decision}]")
        assert "/inbox" in page.url, page.inner_text("main")[:500]
        return page

    def document(self, code: str, document_no: str) -> Any:
        page = self.person(code)
        page.goto(f"{self.site.url}/documents/{document_no}")
        return page

    def run_worker(self) -> None:
        if self.post_vouchers is not None:
            self.post_vouchers()
        else:
            worker.run(self.site.container.settings, once=True)


def panel_value(page: Any, column: str) -> str:
    """The text of one budget-panel column in its first row (columns are labelled for the phone layout too)."""
    return page.locator(f".budget-panel td[data-label='{column}']").first.inner_text().strip()


def walk(story: Story) -> dict[str, str]:
    """The whole story; returns the documents it made. Asserts each step as a person would see it."""
    # 1. The employee applies for a trip.
    page = story.start("travel_application")
    page.select_option("select[name=subject]", "TRAVEL")
    page.fill("textarea[name=purpose]", "Customer visits in Shanghai")
    page.fill("input[name=destination]", "Shanghai")
    page.fill("input[name=amount]", "6000.00")
    application = story.submit(page)
    assert "Manager approval" in page.inner_text("main")

    # 2. The manager sees it in the inbox with the budget panel, and approves; so does the department head
    #    (over 5,000 CNY the DMN asks for both).
    story.decide(story.manager, application, "approve", "Good plan", shot="inbox-and-task")
    story.decide(story.dept_head, application, "approve", "Agreed")

    # 3. The budget shows the reservation.
    page = story.document(story.applicant, application)
    assert "Approved" in page.inner_text(".facts")
    if story.own_line:
        assert panel_value(page, "Reserved") == "CN¥6,000.00"

    # 4. The employee claims with two lines (over 5,000: the department head approves second) and a receipt.
    page = story.start("expense_claim", application=application)
    page.select_option("select[name=subject]", "TRAVEL")
    page.fill("textarea[name=purpose]", "Shanghai trip: train and hotel")
    for n, (subject, amount, number) in enumerate([("TRAVEL", "3800.00", f"SH-TRAIN-{story.tag}"),
                                                   ("HOTEL", "1900.00", f"SH-HOTEL-{story.tag}")]):
        page.select_option(f"select[name='lines[{n}].subject']", subject)
        page.fill(f"input[name='lines[{n}].amount']", amount)
        page.fill(f"input[name='lines[{n}].tax']", "0.00")
        page.fill(f"input[name='lines[{n}].invoice_number']", number)
    assert page.locator("input[name='receipts.upload']").count() == 1, "the claim form offers a receipt upload"
    page.set_input_files("input[name='receipts.upload']",
                         files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": RECEIPT_PNG}])
    claim = story.submit(page)
    assert "receipt.png" in page.inner_text("section:has(#attachments-title)")

    # 5. The manager approves; the department head sends it back with a reason.
    story.decide(story.manager, claim, "approve", "OK")
    story.decide(story.dept_head, claim, "send_back", "The hotel invoice shows 1,800.00, not 1,900.00")

    # 6. The employee finds the form in their inbox, fixes the line and resubmits.
    page = story.open_from_inbox(story.applicant, claim)
    assert "1,800.00" in page.inner_text("main")  # the reason is shown with the form
    assert page.input_value("input[name='lines[1].amount']") == "1900.00"  # their lines are kept
    page.fill("input[name='lines[1].amount']", "1800.00")
    assert story.submit(page) == claim

    # 7. Both approve; the worker posts the voucher.
    story.decide(story.manager, claim, "approve", "OK again")
    story.decide(story.dept_head, claim, "approve", "Thanks", shot="claim-approval")
    story.run_worker()

    # 8. The document shows the voucher; the budget shows the write-off.
    page = story.document(story.applicant, claim)
    facts = page.inner_text(".facts")
    assert "Paid (voucher posted)" in facts and page.locator(".facts .voucher").inner_text().strip()
    if story.own_line:
        assert panel_value(page, "Consumed") == "CN¥5,600.00"
        assert panel_value(page, "Reserved") == "CN¥0.00"
    history = page.inner_text(".history")
    assert "sent back" in history and "The hotel invoice shows 1,800.00" in history
    assert page.locator("svg.bpmn .bf-done").count() > 3
    story.shot(page, "document-with-process-picture")
    if story.shots is not None:  # the whole picture too, not only the part its scrolling box shows
        page.set_viewport_size({"width": 2400, "height": 1400})
        page.evaluate("() => { document.querySelector('main').style.maxWidth = 'none'; }")
        page.locator(".diagram").screenshot(path=str(ARTIFACTS / f"{story.shots}process-picture.png"))
    return {"application": application, "claim": claim}
