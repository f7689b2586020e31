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

from engine.bench.lifecycle import approved_claim
from engine.bootstrap import build

drive = approved_claim  # the lifecycle of ``bench lifecycle`` without its outbox pass


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
