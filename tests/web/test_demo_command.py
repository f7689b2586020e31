"""`budgetflow demo` (the README's run command) on a fresh instance folder: it prepares everything, prints the
address and the sign-ins, serves real HTTP with the worker beside it, and stops cleanly on Ctrl+C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.web.conftest import csrf_token, sign_in

pytestmark = pytest.mark.slow
URL = re.compile(r"budgetflow demo on (http://\S+)")


def _start(tmp_path: Path, *options: str) -> tuple[subprocess.Popen[str], str, list[str]]:
    env = {**os.environ, "BUDGETFLOW_INSTANCE_DIR": str(tmp_path / "instance"), "BUDGETFLOW_LANG": "en"}
    env.pop("BUDGETFLOW_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-c", "from web.cli import main; raise SystemExit(main())", "demo",
                             "--port", "0", *options], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    lines: list[str] = []
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if line.startswith("Ctrl+C"):
            found = next(URL.search(x) for x in lines if URL.search(x))
            return proc, found.group(1).rstrip("/"), lines
    proc.kill()
    proc.communicate()
    raise AssertionError("demo did not start:\n" + "\n".join(lines))


def test_demo_serves_the_app_with_sign_ins_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    proc, base, lines = _start(tmp_path)
    try:
        shown = "\n".join(lines)
        assert "budgetflow-demo" in shown and "E0017" in shown and "E0005" in shown  # password and logins
        browser = requests.Session()
        page = browser.get(f"{base}/login", timeout=10)
        assert page.status_code == 200
        signed = browser.post(f"{base}/login", data={"login": "E0017", "password": "budgetflow-demo",
                                                    "csrf_token": csrf_token(page.text)}, timeout=10)
        assert signed.status_code == 200 and signed.url.endswith("/inbox"), signed.url
        assert (tmp_path / "instance" / "budgetflow.db").exists()
    finally:
        out = _stop(proc)
    assert proc.returncode == 0, out


def _stop(proc: subprocess.Popen[str]) -> str:
    """Ctrl+C, then the output; a demo that does not stop in time is killed (and its pipe closed) and fails."""
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=180)  # generous: CI machines are shared and slow
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError("the demo did not stop on Ctrl+C:\n" + out[-3000:]) from None
    return out


def test_a_second_demo_run_keeps_what_the_first_made(tmp_path: Path) -> None:
    for _ in range(2):
        proc, base, _lines = _start(tmp_path)
        assert requests.get(f"{base}/login", timeout=10).status_code == 200
        _stop(proc)
        assert proc.returncode == 0


OA_PAGE = re.compile(r"emulated (\w+): approve there at (http://\S+)/_emulator/")
SHEET = re.compile(r'action="/_emulator/approvals/(\d+)/approve"')
FILL = {"subject": "TRAVEL", "purpose": "Customer visit in Shanghai", "amount": "1880.00", "currency": "CNY",
        "period": "2026"}


def test_a_new_user_approves_inside_the_emulated_oa_and_the_document_moves_on(tmp_path: Path) -> None:
    proc, base, lines = _start(tmp_path, "--oa", "wecom")
    try:
        oa = next(OA_PAGE.search(x) for x in lines if OA_PAGE.search(x))
        assert oa.group(1) == "wecom"
        oa_page = oa.group(2) + "/_emulator/"
        applicant = requests.Session()
        applicant.headers["Accept-Language"] = "en"
        sign_in(applicant, base, "E0017", "budgetflow-demo")
        new = applicant.get(f"{base}/new", timeout=10)
        assert "travel_application_oa" in new.text and "oa_travel_application" not in new.text  # mode 1 is not
        form = applicant.post(f"{base}/new", data={"process_id": "travel_application_oa",  # started by hand
                                                   "csrf_token": csrf_token(new.text)}, timeout=10)
        assert "/tasks/" in form.url, form.url
        sent = applicant.post(form.url, data={**FILL, "csrf_token": csrf_token(form.text)}, timeout=10)
        number = re.search(r"/documents/(TA-\d{4}-\d+)", sent.url).group(1)  # type: ignore[union-attr]
        sheet = _wait(lambda: SHEET.search(requests.get(oa_page, timeout=10).text), "the approval in the OA")
        assert number in requests.get(f"{oa.group(2)}/_emulator/state", timeout=10).text  # the form shows it
        clicked = requests.post(f"{oa.group(2)}/_emulator/approvals/{sheet.group(1)}/approve", data={"back": "1"},
                                timeout=10)  # the approver's button on the emulator's page
        assert clicked.status_code == 200
        _wait(lambda: "approved" in applicant.get(f"{base}/documents/{number}", timeout=10).text.lower()
              and "complete" in applicant.get(f"{base}/documents/{number}", timeout=10).text.lower(),
              f"{number} approved in budgetflow")
    finally:
        out = _stop(proc)
    assert proc.returncode == 0, out


def _wait(probe, what: str, seconds: float = 60):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"waited {seconds} s for {what}")


ERP_LINE = re.compile(r"emulated (\w+) ERP: vouchers go to (http://\S+);")
TASK = re.compile(r'href="(/tasks/[0-9a-f-]{36})"')


def test_a_claim_approved_in_the_demo_posts_its_voucher_to_the_emulated_erp(tmp_path: Path) -> None:
    proc, base, lines = _start(tmp_path, "--oa", "none", "--erp", "kingdee")
    try:
        erp = next(ERP_LINE.search(x) for x in lines if ERP_LINE.search(x))
        assert erp.group(1) == "kingdee"
        applicant, manager = requests.Session(), requests.Session()
        for person, code in ((applicant, "E0017"), (manager, "E0005")):
            person.headers["Accept-Language"] = "en"
            sign_in(person, base, code, "budgetflow-demo")
        new = applicant.get(f"{base}/new", timeout=10)
        form = applicant.post(f"{base}/new", data={"process_id": "expense_claim", "csrf_token": csrf_token(new.text)},
                              timeout=10)
        assert "/tasks/" in form.url, form.url
        claim = {"subject": "TRAVEL", "purpose": "Shanghai trip", "currency": "CNY", "period": "2026",
                 "lines[0].subject": "TRAVEL", "lines[0].amount": "320.00", "lines[0].tax": "0.00",
                 "lines[0].invoice_code": "011002300111", "lines[0].invoice_number": "77001234"}
        sent = applicant.post(form.url, data={**claim, "_arrays": ["lines", "receipts"],
                                              "csrf_token": csrf_token(form.text)}, timeout=10)
        number = re.search(r"/documents/(EC-\d{4}-\d+)", sent.url).group(1)  # type: ignore[union-attr]
        task = _wait(lambda: TASK.search(manager.get(f"{base}/documents/{number}", timeout=10).text),
                     "the manager's task")
        page = manager.get(base + task.group(1), timeout=10)
        decided = manager.post(base + task.group(1), data={"decision": "approve", "comment": "ok",
                                                           "csrf_token": csrf_token(page.text)}, timeout=10)
        assert decided.status_code == 200, decided.text[-2000:]
        book = _wait(lambda: [v for v in requests.get(f"{erp.group(2)}/_emulator/book", timeout=10).json()
                              if v["reference"] == number], f"{number}'s voucher in the emulated Kingdee")
        [voucher] = book
        _wait(lambda: voucher["voucher_no"] in applicant.get(f"{base}/documents/{number}", timeout=10).text,
              "the ERP's voucher number on the applicant's page")
    finally:
        out = _stop(proc)
    assert proc.returncode == 0, out
