"""Negative control: the worker loop as it was before engine/worker (no outage handling), for the fault tests.

It runs the same jobs (outbox, timers) and dies of the first database error, as ``budgetflow worker`` did.
"""

from __future__ import annotations

import sys
import time

from engine.bootstrap import build
from engine.persistence.types import utcnow
from engine.services import outbox, processes


def main() -> int:
    container = build()
    runner, policy = container.job_runner(), container.retry_policy()
    print("plain worker started", file=sys.stderr, flush=True)
    try:
        while True:
            ran = outbox.run_due(container.uow, runner, policy=policy)
            fired = processes.fire_due_timers(container.uow, now=utcnow())
            if not ran and not fired:
                time.sleep(0.2)
    finally:
        container.dispose()


if __name__ == "__main__":
    sys.exit(main())
