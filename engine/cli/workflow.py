"""``budgetflow bpmn check|deploy|list`` and ``budgetflow worker``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from engine.bootstrap import build
from engine.config import Settings
from engine.persistence import schema
from engine.services import processes
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


def run_worker(args: argparse.Namespace) -> int:
    return _run_worker(once=args.once, poll=args.poll)


def run_scheduler(args: argparse.Namespace) -> int:
    """An alias of ``worker`` kept for existing deployments: timers are checked at every poll."""
    return _run_worker(once=False, poll=args.outbox_seconds)


def _run_worker(*, once: bool, poll: float) -> int:
    from engine import worker  # noqa: PLC0415 - only these commands need it

    if not logging.getLogger().handlers:  # the libraries' chatter (SpiffWorkflow, Alembic) only from WARNING up
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("budgetflow").setLevel(logging.INFO)
    try:
        return worker.run(Settings.from_env(), once=once, poll_seconds=poll)
    except worker.DatabaseUnusable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1 if exc.problem.transient else 2


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
