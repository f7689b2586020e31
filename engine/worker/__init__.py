"""``budgetflow worker``: the one process that runs the periodic jobs (jobs.py) in one loop (loop.py).

``run`` is the entry the command line calls; logging is the caller's to configure (logger names
start with ``budgetflow.worker``).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from typing import Any

from engine.bootstrap import build
from engine.config import Settings, redact_url
from engine.persistence.db_errors import classify
from engine.worker.jobs import PeriodicJob, check_schema, periodic_jobs
from engine.worker.loop import DatabaseUnusable, Loop

__all__ = ["DatabaseUnusable", "run"]
log = logging.getLogger("budgetflow.worker")


def run(settings: Settings, *, once: bool = False, poll_seconds: float = 1.0,
        stop: threading.Event | None = None) -> int:
    """Run the periodic jobs until ``stop`` is set (or SIGTERM/SIGINT arrive), or each once with ``once``.

    With ``once`` the counts also go to stdout, one line (``worker: 2 job(s) run, 1 timer(s) fired,
    0 reservation(s) expired``). Returns the exit code (0). Raises DatabaseUnusable for a database that
    cannot be used as configured (bad URL, missing driver, no schema) and, with ``once``, for any database
    problem; transient ones (connection lost, lock timeout...) are waited out by the loop and never end a
    long-running worker.
    """
    stop = stop or threading.Event()
    try:
        container = build(settings, create=False)  # never an empty SQLite file: that is `init`'s job
    except Exception as exc:
        found = classify(exc, url=settings.database_url)
        if found is None:
            raise
        raise DatabaseUnusable(found) from exc
    try:
        jobs = periodic_jobs(container, stop)

        def first() -> None:  # the banner comes once the database answers with the right schema
            check_schema(container)
            _banner(settings, poll_seconds, jobs, once=once)

        loop = Loop(jobs, url=settings.database_url, stop=stop, poll=poll_seconds, first=first,
                    reset_pool=container.engine.dispose)
        with _stopping_on_signals(stop):
            if once:
                done = loop.run_once()
                log.info("worker --once: %s", ", ".join(f"{name} {n}" for name, n in done.items()))
                print(f"worker: {done['outbox']} job(s) run, {done['timers']} timer(s) fired, "  # the command's result
                      f"{done['expiry']} reservation(s) expired", flush=True)
            else:
                loop.run_forever()
                log.info("worker stopped")
    finally:
        container.dispose()
    return 0


def _banner(settings: Settings, poll: float, jobs: list[PeriodicJob], *, once: bool) -> None:
    try:
        version = metadata.version("budgetflow")
    except metadata.PackageNotFoundError:
        version = "unknown"
    schedule = ", ".join(f"{j.name} {'every poll' if not j.interval else f'every {j.interval:g} s'}" for j in jobs)
    log.info("budgetflow %s worker%s: database %s, instance folder %s, poll %g s; jobs: %s; outbox: %d attempts, "
             "lease %g s", version, " --once" if once else "", redact_url(settings.database_url),
             settings.instance_dir, poll, schedule, settings.outbox_max_attempts, settings.outbox_lease_seconds)


@contextmanager
def _stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop``: the loop ends after the job it is running. A second one stops at once."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach only the main thread; a caller in another thread stops us through ``stop``
        return

    def handle(signum: int, _frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        log.info("%s received: stopping after the current job", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
