"""One driver process of ``bench workers``: lifecycles through the services, the postings left to the workers.

Run as ``python -m engine.bench.lifecycle_driver PREFIX COUNT`` with the database and the audit key in the
environment (BUDGETFLOW_DATABASE_URL, BUDGETFLOW_AUDIT_KEY). Each lifecycle is the one of ``bench lifecycle``
(a travel application approved, then a claim on it approved) except that nothing here runs the outbox: the
claim's voucher job waits for a ``budgetflow worker``. Prints one JSON line: the claims made, when the first
lifecycle began (epoch seconds: comparable across the processes of one machine) and the seconds they took.
"""

from __future__ import annotations

import json
import sys
import time

from engine.bench.lifecycle import APPLICANT, APPLY, APPROVE, MANAGER, START, claim_form
from engine.bootstrap import Container, build
from engine.services import processes


def drive(container: Container, tag: str) -> str:
    """One approved application and one approved claim on it; returns the claim's number (its voucher's
    document number). ``tag`` must be unique in the database: it is also the claim's invoice number."""
    uow = container.uow
    app = processes.start(uow, process_id="travel_application", applicant=APPLICANT, business_key=f"TA-{tag}",
                          data=START)
    app = processes.complete_task(uow, task_guid=app.open_tasks[0]["task_guid"], user=APPLICANT, form=APPLY)
    app = processes.complete_task(uow, task_guid=app.open_tasks[0]["task_guid"], user=MANAGER, form=APPROVE)
    if app.outcome != "approved":
        raise RuntimeError(f"application TA-{tag} ended {app.outcome!r}, not approved")
    claim = processes.start(uow, process_id="expense_claim", applicant=APPLICANT, business_key=f"EC-{tag}",
                            data=START, application_no=f"TA-{tag}")
    claim = processes.complete_task(uow, task_guid=claim.open_tasks[0]["task_guid"], user=APPLICANT,
                                    form=claim_form(tag))
    processes.complete_task(uow, task_guid=claim.open_tasks[0]["task_guid"], user=MANAGER, form=APPROVE)
    return f"EC-{tag}"


def main(argv: list[str]) -> int:
    prefix, count = argv[0], int(argv[1])
    container = build(create=False)
    try:
        began, clock = time.time(), time.perf_counter()
        claims = [drive(container, f"{prefix}-{n}") for n in range(count)]
        seconds = round(time.perf_counter() - clock, 3)
        print(json.dumps({"claims": claims, "began": began, "seconds": seconds}), flush=True)
    finally:
        container.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
