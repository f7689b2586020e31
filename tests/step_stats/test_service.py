"""Step statistics of a known set of instances: exact passed, path, waiting-now counts and waits (SQLite and
PostgreSQL: the ``app`` fixture runs on both when BUDGETFLOW_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import pytest

from engine.services import step_stats
from engine.workflow import step_history
from tests.step_stats.support import known_instances


def figures(app):
    found = step_stats.version_stats(app.reader, version_id=1)
    assert len(found) == 1
    return found[0]


def test_passed_waiting_and_paths_of_a_known_set_of_instances(app):
    known_instances(app)
    one = figures(app)
    assert one.instances == 5 and one.unreadable == 0

    def counts(element_id):
        e = one.element("mini_claim", element_id)
        return e.passed, e.passes, e.waiting_now

    assert counts("start") == (5, 5, 0)
    assert counts("fill_claim") == (4, 4, 1)
    assert counts("reserve_budget") == (4, 4, 0)
    assert counts("approve_by_manager") == (3, 3, 1)
    assert counts("decided") == (3, 3, 0)
    assert counts("write_off") == (2, 2, 0)
    assert counts("post_voucher") == (0, 0, 2)  # a service task waiting on the outbox: no worker ran
    assert counts("set_rejected") == (1, 1, 0) and counts("end_rejected") == (1, 1, 0)
    assert counts("set_posted") == (0, 0, 0) and counts("on_budget_error") == (0, 0, 0)

    paths = {f.flow_id: (f.taken, f.share) for f in one.flows if f.gateway == "decided"}
    assert paths == {"f5": (2, pytest.approx(2 / 3)), "f_reject": (1, pytest.approx(1 / 3))}


def test_waits_come_from_the_inbox_for_user_tasks_and_from_the_state_for_the_rest(app):
    known_instances(app)
    one = figures(app)
    fill, approval = one.element("mini_claim", "fill_claim"), one.element("mini_claim", "approve_by_manager")
    assert sorted(fill.waits) == [60, 120, 180, 240]
    assert (fill.median_wait, fill.p95_wait) == (150, 240)
    assert (approval.median_wait, approval.p95_wait) == (3600, 7200)
    write_off = one.element("mini_claim", "write_off")
    assert (write_off.median_wait, write_off.p95_wait) == (60, 90)
    assert one.element("mini_claim", "reserve_budget").median_wait == 0
    assert one.element("mini_claim", "post_voucher").median_wait is None  # nobody finished it yet


def test_process_filter_unknown_version_and_an_unreadable_state(app):
    known_instances(app)
    assert step_stats.version_stats(app.reader, process_id="no_such_process")[0].instances == 0
    with pytest.raises(step_stats.UnknownVersion):
        step_stats.version_stats(app.reader, version_id=99)
    from sqlalchemy import text
    with app.uow() as uow:
        uow.conn.execute(text("UPDATE process_instance SET state = 'not json' WHERE business_key = 'SS-E'"))
        uow.commit()
    one = figures(app)
    assert one.unreadable == 1 and one.element("mini_claim", "fill_claim").waiting_now == 0


def test_percentile_is_nearest_rank():
    assert step_stats.percentile([], 95) is None
    assert step_stats.percentile([5.0], 95) == 5.0
    assert step_stats.percentile([float(n) for n in range(1, 21)], 95) == 19.0
    assert step_stats.percentile([float(n) for n in range(1, 101)], 95) == 95.0


def test_an_unsaved_instance_has_been_nowhere():
    assert step_history.history("", step_history.Model()).passages == []
