"""The claim's voucher on its pages over real HTTP: finance's preview (lines, total, balanced) on the document and
on finance's tasks, the field errors when the voucher cannot be built, and once posted the ERP's voucher number
and paid date for the applicant too."""

from __future__ import annotations

import re
from datetime import date

from tests.flows.support import Flow
from tests.web.finance.support import EMPLOYEE, FINANCE, claim_at_manager, posted_claim, set_gl_account

MANAGER = "E0005"
PREVIEW = "Voucher preview"
BALANCED = "Balanced: debits equal credits"
NO_GL = "expense subject &#39;TRAVEL&#39; has no GL account for local"


def rows(html: str) -> list[list[str]]:
    """The voucher table's body rows, each cell's text."""
    table = html.split('class="responsive voucher-lines"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_finance_sees_the_exact_lines_the_claim_would_post(site):
    _claim, number = claim_at_manager(Flow(site.container), "300.00", "450.00")
    html = site.session(FINANCE).get(f"{site.url}/documents/{number}", timeout=10).text
    assert PREVIEW in html and BALANCED in html
    assert rows(html) == [
        ["1", "6602.01", "CN¥750.00", "", f"{number} 差旅费-城际交通", "cost center: CC-SALES-N department: SALES-N"],
        ["2", "2241", "", "CN¥750.00", f"报销 {number} 何鹏 差旅费-城际交通", "employee: QH0017"],
    ]
    assert re.search(r'class="num voucher-total"[^>]*>CN¥750.00<', html)
    for who in (EMPLOYEE, MANAGER):  # the applicant and the approver see no preview
        assert PREVIEW not in site.session(who).get(f"{site.url}/documents/{number}", timeout=10).text


def test_an_unknown_subject_account_is_named_on_the_document_and_on_the_fix_posting_task(site):
    flow = Flow(site.container)
    set_gl_account(site.container, "TRAVEL", None)
    claim, number = claim_at_manager(flow, "300.00", "450.00")
    flow.decide(claim)  # the manager approves; the voucher cannot be built: finance's fix-posting task opens
    task = flow.task(claim, "fix_posting")
    assert FINANCE in task["candidates"]
    http = site.session(FINANCE)
    for path in (f"/documents/{number}", f"/tasks/{task['task_guid']}"):
        html = http.get(site.url + path, timeout=10).text
        assert PREVIEW in html and BALANCED not in html, path
        errors = html.split('class="error-summary voucher-errors"', 1)[1].split("</table>", 1)[0]
        assert re.search(rf"<code>subject</code>.*?>1<.*?{NO_GL}", errors, re.S), path
        assert re.search(rf"<code>subject</code>.*?>2<.*?{NO_GL}", errors, re.S), path
    set_gl_account(site.container, "TRAVEL", "6602.01")  # finance fixes the mapping: the preview balances
    html = http.get(f"{site.url}/tasks/{task['task_guid']}", timeout=10).text
    assert BALANCED in html and "voucher-errors" not in html and rows(html)[0][1] == "6602.01"


def test_once_posted_everyone_sees_the_voucher_number_and_when_it_was_paid(site):
    number = posted_claim(Flow(site.container))
    record = site.container.erp_vouchers().of_document(number)
    assert record is not None
    applicant = site.session(EMPLOYEE)
    html = applicant.get(f"{site.url}/documents/{number}", timeout=10).text
    assert html.count('<dd class="voucher">') == 1 and f'<dd class="voucher">{record.voucher_no}</dd>' in html
    assert "not yet: the ERP has not reported the payment" in html and PREVIEW not in html
    assert "Voucher as posted" not in html
    assert site.container.erp_vouchers().mark_paid("local", record.key, date(2026, 12, 8))
    html = applicant.get(f"{site.url}/documents/{number}", timeout=10).text
    assert '<dd class="paid">paid on 2026-12-08</dd>' in html
    finance = site.session(FINANCE).get(f"{site.url}/documents/{number}", timeout=10).text
    assert "Voucher as posted" in finance and PREVIEW not in finance and BALANCED in finance
    assert [r[1] for r in rows(finance)] == ["6602.01", "2241"]


def test_the_preview_speaks_chinese_too(site):
    _claim, number = claim_at_manager(Flow(site.container))
    http = site.session(FINANCE)
    http.headers["Accept-Language"] = "zh-CN"
    html = http.get(f"{site.url}/documents/{number}", timeout=10).text
    assert "凭证预览" in html and "借贷平衡" in html and "成本中心: CC-SALES-N" in html
