"""Acceptance 8: every page passes axe-core (the npm package, run by Playwright) with no serious or critical
violation, at a desktop window and at a phone's viewport.

The pages are read from the app's URL map: every GET route outside /api/ is visited, signed in as someone it
is for, so a new page is checked the day it is added. A route with variables needs a sample in ``SAMPLES``
(built from the demo data set up here: a trip application waiting for the manager, a claim, incidents);
the test fails for one it does not know. Forms' answers (check results, refused input) and error pages are
visited too (``EXTRA``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from engine.services import read_models
from tests.flows.support import Flow
from tests.web.admin.support import PEOPLE, instance_incident, job_incident
from tests.web.browser import sign_in
from tests.web.finance.support import DIFFERENCES, save_run, set_gl_account
from web.demo import ROLES

AXE = Path(__file__).with_name("assets") / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"  # tests/web/assets/README.md
BLOCKING = ("serious", "critical")
MUST_VISIT = {"pages.inbox", "pages.task", "pages.document", "pages.new", "pages.my_documents", "budgets.lines",
              "budgets.line", "budgets.transfer", "processes.versions", "processes.version", "processes.incidents",
              "processes.version_stats",
              "finance.reconciliation"}
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      where: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""
BY_BLUEPRINT = {"budgets": ROLES["budget admin"], "processes": ROLES["process designer"], "pages": ROLES["applicant"],
                "finance": ROLES["finance"]}
NOT_PAGES = {  # GET routes that answer no page of their own
    "static": "files", "auth.language": "a redirect back", "pages.home": "a redirect to the inbox",
    "processes.bundle": "a zip download", "pages.attachment": "a receipt file download",
    "callbacks.callback": "the OA suites' callback endpoint (the URL check answers text, not a page)",
    "oa_sso.start": "a redirect to the OA suite's sign-in page", "oa_sso.done": "a redirect after the OA sign-in",
}


@dataclass
class Demo:
    """The data the pages show: ids to fill the routes' variables."""

    flow: Flow
    application: int
    claim: int
    values: dict[str, Any] = field(default_factory=dict)


# endpoint -> (who visits, the route's values)
SAMPLES: dict[str, Callable[[Demo], tuple[str, dict[str, Any]]]] = {
    "processes.version": lambda d: (PEOPLE["process_designer"], {"version_id": 1}),
    "processes.version_stats": lambda d: (PEOPLE["process_designer"], {"version_id": 1}),
    "budgets.line": lambda d: (PEOPLE["manager"], {"line_id": d.values["travel_line"]}),
    "pages.task": lambda d: (PEOPLE["manager"], {"task_guid": d.flow.task(d.application)["task_guid"]}),
    "pages.document": lambda d: (PEOPLE["employee"], {"document_no": d.flow.instance(d.application).business_key}),
}


@dataclass
class Visit:
    name: str
    person: str | None
    path: str
    act: Callable[[Any], int] | None = None  # what the person does on the page before the check; the new status
    status: int = 200  # what the page must answer (a check that reads the wrong page checks nothing)


def upload(files: list[tuple[str, bytes]]) -> Callable[[Any], int]:
    def act(page: Any) -> int:
        page.set_input_files("#files", files=[{"name": n, "mimeType": "application/octet-stream", "buffer": b}
                                              for n, b in files])
        with page.expect_navigation() as navigation:
            page.click("form[enctype] button[type=submit]")
        return int(navigation.value.status)
    return act


BPMN_FILES = [(p.name, p.read_bytes()) for p in sorted((Path(__file__).resolve().parents[2] / "bpmn").rglob("*"))
              if p.suffix in (".bpmn", ".dmn") or p.name.endswith(".schema.json")]
def refused_transfer(page: Any) -> int:
    page.select_option("#from_line", index=1)
    page.select_option("#to_line", index=2)
    page.fill("#amount", "1,000")
    with page.expect_navigation() as navigation:
        page.click("form.card button[type=submit]")
    return int(navigation.value.status)


EXTRA = [
    Visit("transfer refused", PEOPLE["budget_admin"], "/budgets/transfer", refused_transfer, status=422),
    Visit("budget lines as a manager", PEOPLE["manager"], "/budgets"),
    Visit("inbox as a manager", PEOPLE["manager"], "/inbox"),
    Visit("check passed", PEOPLE["process_designer"], "/processes/upload", upload(BPMN_FILES)),
    Visit("check found problems", PEOPLE["process_designer"], "/processes/upload",
          upload([("broken.bpmn", b"<definitions")]), status=422),
    Visit("incidents as admin", PEOPLE["admin"], "/processes/incidents"),
    Visit("forbidden page", PEOPLE["employee"], "/processes", status=403),
    Visit("unknown page", PEOPLE["employee"], "/no-such-page", status=404),
]


def planned(app: Flask, demo: Demo) -> tuple[list[Visit], list[str]]:
    """A visit for every page of the app, and the GET routes this test cannot fill in."""
    visits, unknown = [Visit("sign-in", None, "/login")], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or ()) or rule.rule.startswith("/api/") or rule.endpoint in NOT_PAGES:
            continue
        if rule.endpoint == "auth.login":
            continue
        if rule.arguments and rule.endpoint not in SAMPLES:
            unknown.append(f"{rule.rule} ({rule.endpoint}): add a sample to SAMPLES or a reason to NOT_PAGES")
            continue
        person, values = SAMPLES[rule.endpoint](demo) if rule.endpoint in SAMPLES else (
            BY_BLUEPRINT.get(rule.endpoint.split(".", 1)[0], ROLES["applicant"]), {})
        visits.append(Visit(rule.endpoint, person, rule.build(values, append_unknown=False)[1]))
    claim_task = demo.flow.task(demo.claim)["task_guid"]
    claim_no = demo.flow.instance(demo.claim).business_key
    more = [Visit("claim task as its approver", demo.flow.task(demo.claim)["candidates"][0], f"/tasks/{claim_task}"),
            Visit("claim document as its applicant", PEOPLE["employee"], f"/documents/{claim_no}"),
            Visit("claim document with its voucher preview", PEOPLE["finance"], f"/documents/{claim_no}"),
            Visit("posted claim with its voucher as posted", PEOPLE["finance"], f"/documents/{demo.values['posted']}"),
            Visit("claim whose voucher cannot be built", PEOPLE["finance"], f"/documents/{demo.values['unmapped']}")]
    return visits + EXTRA + more, unknown


def violations(page: Any) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated by the driver: the page's CSP stays on
    return [v for v in page.evaluate(RUN_AXE) if v["impact"] in BLOCKING]


@pytest.fixture
def in_flight(demo) -> Demo:
    """The demo company mid-story: an application waiting for the manager, one approved (its budget reserved),
    a claim, two incidents."""
    flow = Flow(demo)
    application = flow.apply("1200.00")
    flow.decide(flow.apply("800.00"))
    claim = flow.claim("300.00", "450.00")
    job_incident(flow)
    instance_incident(flow)
    save_run(demo, DIFFERENCES)  # the reconciliation page shows a run with differences
    posted = flow.claim("100.00")
    flow.decide(posted)
    unmapped = flow.claim("80.00", subject="HOTEL")
    set_gl_account(demo, "HOTEL", None)  # its voucher preview lists the missing GL account
    lines, _names = read_models.balances(demo.reader)
    travel = next(r.line_id for r in lines if r.label == "2026/ORG:SALES-N/TRAVEL")
    return Demo(flow, application, claim, {"travel_line": travel, "posted": flow.instance(posted).business_key,
                                           "unmapped": flow.instance(unmapped).business_key})


def test_the_axe_file_is_the_recorded_release():
    assert hashlib.sha256(AXE.read_bytes()).hexdigest() == AXE_SHA256


def test_axe_reports_a_serious_violation_when_there_is_one(open_page):
    """The check can fail: a button without a name and an image without text are reported."""
    page = open_page()
    page.set_content('<html lang="en"><title>t</title><main><button></button><img src="x.png"></main></html>')
    assert {v["id"] for v in violations(page)} >= {"button-name", "image-alt"}


@pytest.mark.slow
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_every_page_has_no_serious_accessibility_violation(site, flask_app, in_flight, open_page, viewport):
    visits, unknown = planned(flask_app, in_flight)
    assert unknown == []
    assert MUST_VISIT <= {v.name for v in visits}, "the enumeration lost pages"
    pages: dict[str | None, Any] = {}
    found = []
    for visit in visits:
        if visit.person not in pages:
            pages[visit.person] = open_page(phone=viewport == "phone")
            if visit.person is not None:
                sign_in(pages[visit.person], site.url, visit.person)
        page = pages[visit.person]
        status = page.goto(site.url + visit.path).status
        if visit.act is not None:
            status = visit.act(page)
        assert status == visit.status, f"{visit.name} ({visit.path}) answered {status}"
        found += [f"{visit.name} ({visit.path}, {viewport}): {v['impact']} {v['id']}: {v['help']} at {v['where']}"
                  for v in violations(page)]
    assert found == []
