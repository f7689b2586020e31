"""The worker's poll loop and the APScheduler process, as they were before the CLI moved to click.

``engine/cli/worker.py`` calls ``run`` and ``run_scheduler`` here; the resilient loop of
``engine.worker`` replaces this module (same ``run`` signature).
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable

from engine.bootstrap import Container, build
from engine.cli.audit_anchor import ANCHOR_INTERVAL_S, AnchorKeeper
from engine.config import Settings, redact_url
from engine.persistence.types import utcnow
from engine.services import outbox, processes
from engine.services.reservations import expire_left_overs

EXPIRY_INTERVAL_S = 3600
log = logging.getLogger("budgetflow.worker")


def _expire(container: Container) -> int:
    """Release left-over reservations older than BUDGETFLOW_RESERVATION_VALID_DAYS (never, if unset)."""
    return expire_left_overs(container.uow, now=utcnow(), valid_days=container.settings.reservation_valid_days)


def run(settings: Settings, *, once: bool, poll_seconds: float, stop: Callable[[], bool] | None = None) -> int:
    """Run due jobs, timers and expiries until SIGTERM, Ctrl-C or ``stop()``; with ``once``, one pass."""
    container = build(settings)
    runner, policy = container.job_runner(), container.retry_policy()
    stopping: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    next_expiry, expired = 0.0, 0
    audit_anchor = AnchorKeeper(container, "worker")  # keeps the audit anchor outside the DB current
    log.info("worker started on %s (instance folder %s), polling every %g s", redact_url(settings.database_url),
             settings.instance_dir, poll_seconds)
    try:
        while not stopping and not (stop and stop()):
            ran = outbox.run_due(container.uow, runner, policy=policy)
            fired = processes.fire_due_timers(container.uow, now=utcnow())
            audit_anchor.tick()
            if time.monotonic() >= next_expiry:  # hourly is plenty for a limit counted in days
                expired = _expire(container)
                next_expiry = time.monotonic() + EXPIRY_INTERVAL_S
            if ran or fired:
                log.info("%d job(s) run, %d timer(s) fired", ran, fired)
            if once:
                # the pass's summary is --once's report, on stdout (tests/boundary/test_poison_instances.py)
                print(f"worker: {ran} job(s) run, {fired} timer(s) fired, {expired} reservation(s) expired")
                return 0
            if not ran and not fired:
                time.sleep(poll_seconds)
    except KeyboardInterrupt:
        pass
    finally:
        container.dispose()
    log.info("worker stopped")
    return 0


def run_scheduler(settings: Settings, *, outbox_seconds: float, timer_seconds: float) -> int:
    """One BlockingScheduler process (APScheduler 3): never share its job store with another scheduler."""
    from apscheduler.schedulers.blocking import BlockingScheduler  # noqa: PLC0415 - only this command needs it

    container = build(settings)
    runner, policy = container.job_runner(), container.retry_policy()
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(lambda: outbox.run_due(container.uow, runner, policy=policy), "interval",
                      seconds=outbox_seconds, id="outbox", max_instances=1, coalesce=True)
    scheduler.add_job(lambda: processes.fire_due_timers(container.uow, now=utcnow()), "interval",
                      seconds=timer_seconds, id="timers", max_instances=1, coalesce=True)
    scheduler.add_job(lambda: _expire(container), "interval", seconds=EXPIRY_INTERVAL_S, id="expiry",
                      max_instances=1, coalesce=True, next_run_time=utcnow())
    scheduler.add_job(AnchorKeeper(container, "scheduler").refresh, "interval", seconds=ANCHOR_INTERVAL_S,
                      id="audit-anchor", max_instances=1, coalesce=True, next_run_time=utcnow())
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    log.info("scheduler started on %s (instance folder %s)", redact_url(settings.database_url),
             settings.instance_dir)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        container.dispose()
    log.info("scheduler stopped")
    return 0
