"""The inbox read model: four views, sorts with nulls last, keyset paging, filters, counts (services/inbox.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.services import processes, tasks
from engine.services.inbox import inbox
from tests.web_engine.support import add_document, add_task

MANAGER, POOL = "E0005", ["E0009", "E0011", "E0012"]


@pytest.fixture
def spread(company):
    """E0005's inbox: own tasks with amounts, dues and ties; a pool task; a delegated and a done one."""
    with company.engine.begin() as conn:
        own = []
        for minutes, amount, due in ((5, "300.00", 4), (1, "100.00", None), (3, None, 2), (2, "300.00", 2),
                                     (4, "50.00", None), (6, None, None), (0, "999.99", 8)):
            doc = add_document(conn, amount=amount, applicant="E0018" if minutes == 4 else "E0017")
            own.append(add_task(conn, doc, [MANAGER], minutes=minutes, due_hours=due))
        doc = add_document(conn, amount="70.00", subject="HOTEL", process="expense_claim")
        own.append(add_task(conn, doc, ["E0002"], assignee=MANAGER, minutes=7))  # delegated to E0005
        pool = add_task(conn, add_document(conn), [MANAGER, "E0006"], minutes=8)
        handed = add_task(conn, add_document(conn), ["E0006"], assignee="E0006", delegated_by=MANAGER)
        done = [add_task(conn, add_document(conn), [MANAGER], status="completed", completed_by=MANAGER, minutes=m)
                for m in (1, 2, 3)]
    return company, own, pool, handed, done


def guids(page):
    return [r.task_guid for r in page.rows]


def walk(app, employee, **kw):
    """Every row of a view, two at a time through the cursors."""
    seen, cursor = [], None
    while True:
        page = inbox(app.reader, employee, limit=2, cursor=cursor, **kw)
        seen += guids(page)
        cursor = page.next_cursor
        if cursor is None:
            return seen


def test_each_view_holds_what_it_says_and_counts_match(spread):
    app, own, pool, handed, done = spread
    page = inbox(app.reader, MANAGER)
    assert set(guids(page)) == set(own) and page.next_cursor is None
    assert guids(inbox(app.reader, MANAGER, view="claimable")) == [pool]
    assert guids(inbox(app.reader, MANAGER, view="delegated")) == [handed]
    assert guids(inbox(app.reader, MANAGER, view="done")) == done[::-1]  # newest first
    assert page.counts == {"mine": 8, "claimable": 1, "delegated": 1, "done": 3}
    assert guids(inbox(app.reader, "E0006", view="claimable")) == [pool]
    assert guids(inbox(app.reader, "E0006")) == [handed]
    row = page.rows[0]
    assert (row.applicant, row.applicant_name, row.currency, row.subject) == ("E0017", "何鹏", "CNY", "TRAVEL")


@pytest.mark.parametrize("sort", ["age", "due", "amount"])
@pytest.mark.parametrize("descending", [False, True])
def test_paging_through_every_order_returns_each_row_once_nulls_last(spread, sort, descending):
    app = spread[0]
    full = inbox(app.reader, MANAGER, sort=sort, descending=descending, limit=200).rows
    assert walk(app, MANAGER, sort=sort, descending=descending) == [r.task_guid for r in full]
    key = {"age": "created_at", "due": "due_at", "amount": "amount"}[sort]
    values = [getattr(r, key) for r in full]
    present = [v for v in values if v is not None]
    assert values == present + [None] * (len(values) - len(present))
    assert present == sorted(present, reverse=descending)


def test_filters_by_process_and_text(spread):
    app, own = spread[0], spread[1]
    assert guids(inbox(app.reader, MANAGER, process="expense_claim")) == [own[-1]]
    assert len(inbox(app.reader, MANAGER, text="何鹏").rows) == 7
    assert len(inbox(app.reader, MANAGER, text="e0018").rows) == 1
    assert guids(inbox(app.reader, MANAGER, text="hotel")) == [own[-1]]
    number = inbox(app.reader, MANAGER, process="expense_claim").rows[0].document_no
    assert guids(inbox(app.reader, MANAGER, text=number.lower())) == [own[-1]]
    assert inbox(app.reader, MANAGER, text="SY-2026-%").rows == []  # no wildcards from the user


@pytest.mark.parametrize(("kw", "message"), [
    ({"view": "all"}, "view 'all'"), ({"sort": "name"}, "sort 'name'"), ({"limit": 0}, "limit"),
    ({"limit": 201}, "limit"), ({"cursor": "garbage!"}, "cursor"), ({"cursor": "WzEsMiwzXQ"}, "cursor"),
    ({"text": "x" * 101}, "text")])
def test_bad_arguments_are_value_errors_naming_them(company, kw, message):
    with pytest.raises(ValueError, match=message):
        inbox(company.reader, MANAGER, **kw)


def test_a_cursor_of_another_order_is_refused(spread):
    app = spread[0]
    cursor = inbox(app.reader, MANAGER, limit=2, sort="amount").next_cursor
    with pytest.raises(ValueError, match="another view"):
        inbox(app.reader, MANAGER, limit=2, sort="due", cursor=cursor)
    with pytest.raises(ValueError, match="another view"):
        inbox(app.reader, MANAGER, limit=2, sort="amount", text="x", cursor=cursor)


def test_real_flows_fill_the_summary_delegation_and_done_views(flow):
    instance = flow.apply("3000", purpose="Client visit 客户拜访")
    mine = inbox(flow.app.reader, MANAGER).rows
    assert len(mine) == 1
    row = mine[0]
    assert (row.subject, row.amount, row.currency, row.purpose) == ("TRAVEL", Decimal("3000.00"), "CNY",
                                                                    "Client visit 客户拜访")
    assert (row.bpmn_id, row.lane, row.candidate_count, row.process_id) == ("approve_by_manager", "manager", 1,
                                                                            "travel_application")
    tasks.delegate(flow.app.uow, task_guid=row.task_guid, user=MANAGER, to="E0006", reason="on leave")
    assert inbox(flow.app.reader, MANAGER).rows == []
    assert guids(inbox(flow.app.reader, MANAGER, view="delegated")) == [row.task_guid]
    assert inbox(flow.app.reader, "E0006").rows[0].assignee == "E0006"
    processes.complete_task(flow.app.uow, task_guid=row.task_guid, user="E0006", form={"decision": "approve",
                                                                                       "comment": "ok"})
    done = inbox(flow.app.reader, "E0006", view="done").rows
    assert [d.task_guid for d in done] == [row.task_guid] and done[0].completed_by == "E0006"
    assert inbox(flow.app.reader, MANAGER, view="delegated").rows == []
    assert flow.finished(instance) == ("complete", "approved")
