"""``budgetflow instances cancel|retry`` and ``budgetflow tasks orphaned|reassign``: an admin's hands on flows."""

from __future__ import annotations

import argparse

from engine.bootstrap import build
from engine.services import instance_admin, tasks


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("instances", help="cancel a document's flow, or retry one whose step failed")
    inst = p.add_subparsers(dest="instances_command", required=True, metavar="ACTION")
    c = inst.add_parser("cancel", help="end a flow and give back its reservations (admin, or its applicant)")
    c.add_argument("instance_id", type=int)
    c.add_argument("--by", required=True, help="employee code of whoever cancels (audited)")
    c.add_argument("--reason", required=True, help="why (audited)")
    c.set_defaults(handler=run_cancel)
    r = inst.add_parser("retry", help="run an instance in incident again after the cause is fixed (admin)")
    r.add_argument("instance_id", type=int)
    r.add_argument("--by", required=True, help="employee code of the admin (audited)")
    r.set_defaults(handler=run_retry)
    t = sub.add_parser("tasks", help="open tasks nobody active can take, and giving them to someone")
    task_sub = t.add_subparsers(dest="tasks_command", required=True, metavar="ACTION")
    task_sub.add_parser("orphaned", help="open tasks whose assignee or every candidate is inactive").set_defaults(
        handler=run_orphaned)
    g = task_sub.add_parser("reassign", help="give an open task to an active employee (admin)")
    g.add_argument("task_guid")
    g.add_argument("--to", required=True, help="employee code of the new holder")
    g.add_argument("--by", required=True, help="employee code of the admin (audited)")
    g.add_argument("--reason", required=True, help="why (audited)")
    g.set_defaults(handler=run_reassign)


def run_cancel(args: argparse.Namespace) -> int:
    container = build()
    try:
        instance_admin.cancel(container.uow, instance_id=args.instance_id, by=args.by, reason=args.reason)
    finally:
        container.dispose()
    print(f"instance {args.instance_id} cancelled; its reservations are given back and its tasks closed")
    return 0


def run_retry(args: argparse.Namespace) -> int:
    container = build()
    try:
        outcome = instance_admin.retry(container.uow, instance_id=args.instance_id, by=args.by)
    finally:
        container.dispose()
    print(f"instance {args.instance_id} ran again: now {outcome.status}"
          + (f" ({outcome.outcome})" if outcome.outcome else ""))
    return 0


def run_orphaned(_args: argparse.Namespace) -> int:
    container = build()
    try:
        rows = tasks.orphaned_tasks(container.reader)
    finally:
        container.dispose()
    for r in rows:
        held = f"assigned to {r['assignee']}" if r["assignee"] else f"offered to {', '.join(r['candidates']) or '-'}"
        print(f"{r['task_guid']}  {r['document_no']:<16} {r['bpmn_id']:<28} {held}")
    print(f"{len(rows)} task(s) nobody active can take; give each to someone with "
          "`budgetflow tasks reassign GUID --to CODE --by ADMIN --reason TEXT`")
    return 0


def run_reassign(args: argparse.Namespace) -> int:
    container = build()
    try:
        tasks.reassign(container.uow, task_guid=args.task_guid, to=args.to, by=args.by, reason=args.reason)
    finally:
        container.dispose()
    print(f"task {args.task_guid} is now {args.to}'s")
    return 0
