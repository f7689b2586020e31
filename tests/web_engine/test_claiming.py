"""Pool tasks: a candidate claims one, it is theirs alone until done or released; nobody else may take it."""

from __future__ import annotations

import pytest

from engine.services import processes
from engine.services.inbox import inbox
from engine.services.steps import NotAllowed
from engine.services.task_views import task_view
from engine.services.tasks import claim_task, release_task
from tests.flows.support import MANAGER

FINANCE = ("E0009", "E0011", "E0012")


def overrun_task(flow):
    """An approve_overrun task: offered to the three finance people."""
    application = flow.apply("1000.00")
    flow.decide(application)
    claim = flow.claim("1040.00", application_no=flow.instance(application).business_key)
    flow.decide(claim)
    task = flow.task(claim, "approve_overrun")
    assert sorted(task["candidates"]) == sorted(FINANCE)
    return claim, task["task_guid"]


def guids(app, who, view):
    return [r.task_guid for r in inbox(app.reader, who, view=view).rows]


def test_a_claimed_pool_task_is_the_claimers_alone_until_released(flow):
    claim, guid = overrun_task(flow)
    assert guids(flow.app, "E0011", "claimable") == [guid] and guids(flow.app, "E0011", "mine") == []
    assert task_view(flow.app.reader, guid, "E0011").may_claim
    claim_task(flow.app.uow, task_guid=guid, user="E0011")
    assert guids(flow.app, "E0011", "mine") == [guid] and guids(flow.app, "E0012", "claimable") == []
    assert inbox(flow.app.reader, "E0012").counts["claimable"] == 0
    other = task_view(flow.app.reader, guid, "E0012")
    assert not other.may_act and not other.may_claim
    with pytest.raises(NotAllowed, match="already taken by E0011"):
        claim_task(flow.app.uow, task_guid=guid, user="E0012")
    with pytest.raises(NotAllowed, match="not a candidate"):
        processes.complete_task(flow.app.uow, task_guid=guid, user="E0012", form={"decision": "approve",
                                                                                   "comment": "ok"})
    with pytest.raises(NotAllowed, match="only its holder"):
        release_task(flow.app.uow, task_guid=guid, user="E0012")
    release_task(flow.app.uow, task_guid=guid, user="E0011")
    assert guids(flow.app, "E0012", "claimable") == [guid] and guids(flow.app, "E0011", "mine") == []
    claim_task(flow.app.uow, task_guid=guid, user="E0012")
    flow.decide(claim, "approve", "Within tolerance", user="E0012")
    assert flow.finished(claim) == ("complete", "posted")
    assert guids(flow.app, "E0012", "done") == [guid]


def test_only_pool_candidates_claim_and_only_pool_tasks(flow):
    _, guid = overrun_task(flow)
    with pytest.raises(NotAllowed, match="not a candidate"):
        claim_task(flow.app.uow, task_guid=guid, user="E0013")
    with pytest.raises(NotAllowed, match="is not open"):
        claim_task(flow.app.uow, task_guid="00000000-0000-0000-0000-000000000000", user="E0011")
    single = flow.apply("500")
    manager_task = flow.task(single)["task_guid"]
    with pytest.raises(NotAllowed, match="offered to one person"):
        claim_task(flow.app.uow, task_guid=manager_task, user=MANAGER)
    assert task_view(flow.app.reader, manager_task, MANAGER).may_claim is False
