"""Test-only worker with injected faults, run as a subprocess by tests/test_crash_safety.py.

- ``CRASH_RATE``: chance that the process kills itself with SIGKILL right after the
  ERP accepted a voucher and before the outcome is committed (the worst moment: its
  success transaction has written everything but has not committed).
- ``FAIL_RATE``: chance that an ERP call fails; half of those fail before posting,
  half post the voucher and then time out (an ambiguous outcome).
- ``KILL_IN_JOB=1``: every ERP call kills the process (SIGKILL) before posting: a job whose
  execution kills its worker, which never gets to raise.
Production code is unchanged: faults are patched in here.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import time
import uuid

from connectors.base import ConnectorError
from engine.bootstrap import build
from engine.services import outbox

CRASH_RATE = float(os.environ.get("CRASH_RATE", "0"))
# Negative control: post with a fresh key every time, as a connector that ignores idempotency would.
NAIVE = os.environ.get("NAIVE_ERP") == "1"
FAIL_RATE = float(os.environ.get("FAIL_RATE", "0"))
KILL_IN_JOB = os.environ.get("KILL_IN_JOB") == "1"


class FlakyErp:
    def __init__(self, inner):
        self.inner = inner

    def post_voucher(self, draft, *, idempotency_key, **options):
        if KILL_IN_JOB:
            os.kill(os.getpid(), signal.SIGKILL)
        if NAIVE:
            idempotency_key = f"{idempotency_key}:{uuid.uuid4().hex}"
        roll = random.random()
        if roll < FAIL_RATE / 2:
            raise ConnectorError("ERP_TIMEOUT", "no answer before posting", retryable=True)
        posted = self.inner.post_voucher(draft, idempotency_key=idempotency_key, **options)
        if roll < FAIL_RATE:
            raise ConnectorError("ERP_TIMEOUT", "posted, but the answer was lost", retryable=True)
        return posted

    def find_voucher(self, *, idempotency_key):
        return self.inner.find_voucher(idempotency_key=idempotency_key)

    def list_vouchers(self, **window):
        return self.inner.list_vouchers(**window)

    @property
    def name(self):
        return self.inner.name


def main() -> int:
    original = outbox._record_success

    def record_or_die(uow, job, result, *rest):
        # The job's success is written (its erp_voucher row, the job done, the claim's next step) but not
        # committed: the ERP has the voucher, our database will have none of it.
        recorded = original(uow, job, result, *rest)
        if job.operator == "erp/PostVoucher" and random.random() < CRASH_RATE:
            os.kill(os.getpid(), signal.SIGKILL)
        return recorded

    outbox._record_success = record_or_die
    container = build()
    runner = container.job_runner()
    runner.erp = FlakyErp(runner.erp)
    try:
        while True:
            if outbox.run_due(container.uow, runner, policy=container.retry_policy()):
                continue
            with container.uow() as uow:
                if not uow.outbox.counts().get("pending"):
                    break  # nothing left, not even a job waiting for its back-off or a dead worker's lease
            time.sleep(0.05)
    finally:
        container.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
