"""``budgetflow bpmn check|deploy|list`` and ``budgetflow worker``."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from engine.bootstrap import Container, build
from engine.cli.audit_anchor import ANCHOR_INTERVAL_S, AnchorKeeper
from engine.persistence import schema
from engine.persistence.types import utcnow
from engine.services import outbox, processes
from engine.services.reservations import expire_left_overs
from engine.workflow.bundle import read_folder
from engine.workflow.check import check
from engine.workflow.errors import BundleInvalid

DEFAULT_BPMN = Path("bpmn")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("bpmn", help="check, deploy and list process diagrams")
    bpmn_sub = p.add_subparsers(dest="bpmn_command", required=True, metavar="ACTION")
    c = bpmn_sub.add_parser("check", help="validate diagrams; exit 1 with file:element-id: message lines")
    c.add_argument("path", nargs="?", type=Path, default=DEFAULT_BPMN)
    c.set_defaults(handler=run_check)
    d = bpmn_sub.add_parser("deploy", help="publish a new model version; running instances keep theirs")
    d.add_argument("path", nargs="?", type=Path, default=DEFAULT_BPMN)
    d.add_argument("--by", default="admin", help="employee code of the publisher (audited)")
    d.add_argument("--label", help="a note for this version")
    d.set_defaults(handler=run_deploy)
    lst = bpmn_sub.add_parser("list", help="model versions and how many instances run on each")
    lst.set_defaults(handler=run_list)
    w = sub.add_parser("worker", help="run outbox jobs and due timers until stopped")
    w.add_argument("--once", action="store_true", help="run what is due now, then exit")
    w.add_argument("--poll", type=float, default=1.0, help="seconds between polls when idle (default 1)")
    w.set_defaults(handler=run_worker)
    sch = sub.add_parser("scheduler", help="APScheduler process: outbox jobs and due timers on intervals")
    sch.add_argument("--outbox-seconds", type=float, default=1.0, help="outbox poll interval (default 1)")
    sch.add_argument("--timer-seconds", type=float, default=15.0, help="timer poll interval (default 15)")
    sch.set_defaults(handler=run_scheduler)
    inc = sub.add_parser("incidents", help="connector jobs that gave up: list them, retry one after a fix")
    inc_sub = inc.add_subparsers(dest="incidents_command", required=True, metavar="ACTION")
    inc_sub.add_parser("list", help="every open incident with its last error").set_defaults(handler=run_incidents)
    retry = inc_sub.add_parser("retry", help="put an incident's job back in the queue (attempts reset)")
    retry.add_argument("job_id", type=int)
    retry.add_argument("--by", default="admin", help="employee code of the admin (audited)")
    retry.set_defaults(handler=run_retry)


def run_check(args: argparse.Namespace) -> int:
    if not args.path.is_dir():
        print(f"error: {args.path} is not a folder of diagrams", file=sys.stderr)
        return 2
    problems = check(read_folder(args.path))
    for problem in problems:
        print(problem)
    print(f"bpmn check: {'OK' if not problems else f'{len(problems)} problem(s)'} in {args.path}")
    return 1 if problems else 0


def run_deploy(args: argparse.Namespace) -> int:
    files = read_folder(args.path)
    problems = check(files)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print("nothing deployed: fix the problems above (budgetflow bpmn check)", file=sys.stderr)
        return 1
    container = build()
    try:
        schema.upgrade(container.engine)
        version_id, sha = processes.deploy(container.uow, files, by=args.by, label=args.label)
    except BundleInvalid as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        container.dispose()
    print(f"deployed model version {version_id} ({sha[:12]}) from {args.path}")
    return 0


def run_list(_args: argparse.Namespace) -> int:
    container = build()
    try:
        with container.uow() as uow:
            versions = uow.instances.versions()
    finally:
        container.dispose()
    print(f"{'version':>7}  {'sha256':<12}  {'instances':>9}  {'deployed at':<20} processes")
    for v in versions:
        print(f"{v['id']:>7}  {v['sha256'][:12]:<12}  {v['instances']:>9}  {v['deployed_at']:%Y-%m-%d %H:%M:%S}  "
              f"{v['process_ids']}{'  (' + v['label'] + ')' if v['label'] else ''}")
    return 0


EXPIRY_INTERVAL_S = 3600


def _expire(container: Container) -> int:
    """Release left-over reservations older than BUDGETFLOW_RESERVATION_VALID_DAYS (never, if unset)."""
    return expire_left_overs(container.uow, now=utcnow(), valid_days=container.settings.reservation_valid_days)


def run_worker(args: argparse.Namespace) -> int:
    container = build()
    runner, policy = container.job_runner(), container.retry_policy()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    next_expiry, expired = 0.0, 0
    audit_anchor = AnchorKeeper(container, "worker")  # keeps the audit anchor outside the DB current
    try:
        while not stopping:
            ran = outbox.run_due(container.uow, runner, policy=policy)
            fired = processes.fire_due_timers(container.uow, now=utcnow())
            audit_anchor.tick()
            if time.monotonic() >= next_expiry:  # hourly is plenty for a limit counted in days
                expired = _expire(container)
                next_expiry = time.monotonic() + EXPIRY_INTERVAL_S
            if args.once:
                print(f"worker: {ran} job(s) run, {fired} timer(s) fired, {expired} reservation(s) expired")
                return 0
            if not ran and not fired:
                time.sleep(args.poll)
    except KeyboardInterrupt:
        pass
    finally:
        container.dispose()
    return 0


def run_scheduler(args: argparse.Namespace) -> int:
    """One BlockingScheduler process (APScheduler 3): never share its job store with another scheduler."""
    from apscheduler.schedulers.blocking import BlockingScheduler  # noqa: PLC0415 - only this command needs it

    container = build()
    runner, policy = container.job_runner(), container.retry_policy()
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(lambda: outbox.run_due(container.uow, runner, policy=policy), "interval",
                      seconds=args.outbox_seconds, id="outbox", max_instances=1, coalesce=True)
    scheduler.add_job(lambda: processes.fire_due_timers(container.uow, now=utcnow()), "interval",
                      seconds=args.timer_seconds, id="timers", max_instances=1, coalesce=True)
    scheduler.add_job(lambda: _expire(container), "interval", seconds=EXPIRY_INTERVAL_S, id="expiry",
                      max_instances=1, coalesce=True, next_run_time=utcnow())
    scheduler.add_job(AnchorKeeper(container, "scheduler").refresh, "interval", seconds=ANCHOR_INTERVAL_S,
                      id="audit-anchor", max_instances=1, coalesce=True, next_run_time=utcnow())
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        container.dispose()
    return 0


def run_incidents(_args: argparse.Namespace) -> int:
    container = build()
    try:
        with container.reader() as uow:
            jobs, instances = uow.outbox.incidents(), uow.instances.incidents()
    finally:
        container.dispose()
    for r in jobs:
        print(f"job {r['id']:>6}  instance {r['instance_id']:>6}  {r['operator']:<18} attempts {r['attempts']:>2}  "
              f"{(r['last_error'] or '')[:120]}")
    for r in instances:
        print(f"instance {r['id']:>6}  {r['business_key']:<16} {r['process_id']:<20} {(r['last_error'] or '')[:120]}")
    print(f"{len(jobs)} job incident(s) (retry: budgetflow incidents retry JOB_ID), {len(instances)} instance "
          "incident(s) (budgetflow instances retry ID --by ADMIN, or instances cancel ID --by ADMIN --reason TEXT)")
    return 0


def run_retry(args: argparse.Namespace) -> int:
    container = build()
    try:
        with container.uow() as uow:
            if not uow.outbox.retry_incident(args.job_id):
                print(f"error: job {args.job_id} is not an open incident", file=sys.stderr)
                return 1
            uow.record(actor=args.by, action="incident.retried", subject_type="outbox_job",
                       subject_id=str(args.job_id))
            uow.commit()
    finally:
        container.dispose()
    print(f"job {args.job_id} is queued again; the worker picks it up")
    return 0
