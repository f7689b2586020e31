"""Issue 7, forms: whatever a form holds, it never decides who approves, whose budget or which reservation.

Each attack goes through the service functions the web app and the OA callbacks call, on the real
diagrams; each must be refused with an error naming the field, book nothing, post nothing, leave the
instance as it was, and be audited.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.domain.forms import FormInvalid, FormSchema
from engine.services import processes
from engine.services.steps import NotAllowed
from tests.boundary.support import audit_rows, snapshot
from tests.flows.support import APPLICANT, MANAGER, Flow

COLLEAGUE = "E0018"  # same unit as the applicant
APPLY = {"subject": "TRAVEL", "purpose": "Customer visit 客户拜访", "amount": "1280.50", "currency": "CNY",
         "period": "2026"}
TYPED = {"typename": "timedelta", "days": 10**9, "seconds": 0, "microseconds": 0}  # what the serializer revives


def claim_form(flow: Flow, **changes: object) -> dict[str, object]:
    return {"subject": "TRAVEL", "purpose": "Shanghai trip 上海出差", "currency": "CNY", "period": "2026",
            "lines": flow.lines("500.00"), **changes}


def refused(flow: Flow, instance: int, form: dict[str, object], match: str, *, bpmn_id: str | None = None) -> None:
    """``form`` is refused naming ``match``; nothing changes; the refusal is audited with its reason."""
    before = snapshot(flow.app)
    refusals = len(audit_rows(flow.app, "access.refused"))
    with pytest.raises(FormInvalid, match=match):
        flow.act(instance, form, bpmn_id=bpmn_id)
    assert snapshot(flow.app) == before
    after = audit_rows(flow.app, "access.refused")
    assert len(after) == refusals + 1 and "refused" in after[-1]["reason"]


ENGINE_SET = [
    ("lane_owners", {"manager": [COLLEAGUE]}),  # pick a friendly approver
    ("org_unit", "RND-PLAT"),  # spend another department's budget
    ("applicant", COLLEAGUE),
    ("application_no", "TA-2026-0001"),
    ("reservation_id", 1),
    ("document_no", "TA-OTHER"),
    ("countersigners", [COLLEAGUE]),
    ("approver", COLLEAGUE),
    ("outcome", "approved"),
    ("reservation", {"reservation_id": 1, "over_budget": False}),
    ("amount_value", "1"),
    ("need_department_head", False),
]


@pytest.mark.parametrize(("field", "value"), ENGINE_SET, ids=[f for f, _ in ENGINE_SET])
def test_an_application_form_cannot_set_what_the_engine_sets(flow, field, value):
    instance = flow.start("travel_application")
    refused(flow, instance, {**APPLY, field: value}, rf"{field}: (set by the engine|read-only)")
    flow.act(instance, APPLY)  # the honest form still goes through, to the real manager
    assert flow.inbox(instance) == [("approve_by_manager", "manager", [MANAGER])]


@pytest.mark.parametrize(("field", "value"), ENGINE_SET, ids=[f for f, _ in ENGINE_SET])
def test_an_approval_form_cannot_set_what_the_engine_sets(flow, field, value):
    instance = flow.apply("1280.50")
    refused(flow, instance, {"decision": "approve", "comment": "ok", field: value},
            rf"{field}: (set by the engine|read-only|unknown field)")
    flow.decide(instance, "approve", "ok")
    assert flow.finished(instance) == ("complete", "approved")


def test_another_departments_budget_cannot_be_chosen_at_start_either(flow):
    before = snapshot(flow.app)
    with pytest.raises(FormInvalid, match="org_unit: set by the engine"):
        processes.start(flow.app.uow, process_id="travel_application", applicant=APPLICANT, business_key="TA-X-1",
                        data={"org_unit": "RND-PLAT"})
    assert snapshot(flow.app) == before
    instance = flow.apply("1280.50")
    assert flow.data(instance)["org_unit"] == "SALES-N"  # the engine's, from the directory


def test_a_standalone_claim_cannot_take_a_colleagues_reservation(flow):
    colleague_app = flow.start("travel_application", applicant=COLLEAGUE)
    flow.act(colleague_app, APPLY, user=COLLEAGUE)
    flow.decide(colleague_app)
    number = flow.instance(colleague_app).business_key
    reservation = flow.data(colleague_app)["reservation"]["reservation_id"]
    instance = flow.start("expense_claim")
    refused(flow, instance, claim_form(flow, application_no=number, reservation_id=reservation, applicant=COLLEAGUE),
            "application_no: set by the engine.*reservation_id: set by the engine.*applicant: set by the engine")
    with pytest.raises(FormInvalid, match="set by the engine"):
        processes.start(flow.app.uow, process_id="expense_claim", applicant=APPLICANT, business_key="EC-X-1",
                        data={"application_no": number, "reservation_id": reservation})
    with pytest.raises(NotAllowed, match=f"{number} is not an application of {APPLICANT}"):
        flow.start("expense_claim", application_no=number)
    assert flow.reservations(number)[0][3] == "open" and flow.vouchers(number) == []


@pytest.mark.parametrize("where", ["field", "line", "deep"])
def test_a_serialised_typed_value_never_enters_through_a_form(flow, where):
    instance = flow.start("expense_claim")
    form = claim_form(flow)
    if where == "field":
        form["purpose"] = TYPED
    elif where == "line":
        form["lines"][0]["tax"] = TYPED  # type: ignore[index]
    else:
        form["lines"][0]["invoice_code"] = {"x": [{"y": TYPED}]}  # type: ignore[index]
    refused(flow, instance, form, "'typename' is reserved")
    flow.act(instance, claim_form(flow))  # the instance steps on normally
    assert flow.inbox(instance)[0][0] == "approve_by_manager"


def test_a_serialised_typed_value_never_enters_through_a_message_or_start_data(flow):
    instance = flow.apply("1280.50")
    before = snapshot(flow.app)
    with pytest.raises(FormInvalid, match="'typename' is reserved"):
        processes.send_message(flow.app.uow, instance_id=instance, name="withdraw", payload={"reason": TYPED},
                               user=APPLICANT)
    with pytest.raises(FormInvalid, match="'typename' is reserved"):
        processes.start(flow.app.uow, process_id="travel_application", applicant=APPLICANT, business_key="TA-X-2",
                        data={"note": TYPED})
    assert snapshot(flow.app) == before
    flow.withdraw(instance)
    assert flow.finished(instance) == ("complete", "withdrawn")


@pytest.mark.parametrize("value", ["no", "false", 0, 1, None, [], "True"])
def test_a_boolean_field_takes_only_true_or_false(value):
    schema = FormSchema({"type": "object", "properties": {"urgent": {"type": "boolean"}}}, name="f")
    with pytest.raises(FormInvalid, match="urgent: must be true or false"):
        schema.clean({"urgent": value}, current={}, protected=frozenset())
    assert schema.clean({"urgent": False}, current={}, protected=frozenset()) == {"urgent": False}


def test_a_decision_must_be_one_of_the_offered_ones(flow):
    instance = flow.apply("1280.50")
    for decision, message in ((True, "decision: must be text"), ("yes", "decision: must be one of approve"),
                              ("approve ", "decision: must be one of")):
        refused(flow, instance, {"decision": decision, "comment": "x"}, message)
    refused(flow, instance, {"decision": "reject"}, "comment: must not be empty")
    refused(flow, instance, {"decision": "approve", "comment": "x" * 2001}, "comment: longer than 2000")


def test_unknown_and_oversized_fields_are_refused(flow):
    instance = flow.start("travel_application")
    refused(flow, instance, {**APPLY, "favourite_colour": "red"}, "favourite_colour: unknown field")
    refused(flow, instance, {**APPLY, "purpose": "x" * 501}, "purpose: longer than 500 characters")
    refused(flow, instance, {**APPLY, "purpose": "x" * 300_000}, "larger than 256 KiB")
    refused(flow, instance, {**APPLY, "start_date": "2026-02-30"}, "start_date: is not a valid date")
    instance = flow.start("expense_claim")
    refused(flow, instance, claim_form(flow, lines=flow.lines(*["1.00"] * 101)), "lines: more than 100 items")
    refused(flow, instance, claim_form(flow, lines=[{**flow.lines("1.00")[0], "extra": 1}]),
            r"lines\[0\]\.extra: unknown field")


def test_a_resubmitted_application_keeps_what_it_does_not_change_but_an_approval_does_not(flow):
    instance = flow.apply("8000.00")
    flow.decide(instance, "send_back", "Split it 请拆分")
    flow.act(instance, {"amount": "4500.00"})  # the applicant edits one field of their own document
    assert flow.task_data(instance, "approve_by_manager")["purpose"] == "Customer visit 客户拜访"
    # an approver's form is a decision of its own: the earlier comment does not stand in for a missing one
    refused(flow, instance, {"decision": "reject"}, "comment: must not be empty")


def test_amounts_are_stored_in_their_canonical_form(flow):
    instance = flow.start("expense_claim")
    lines = flow.lines("1.00", "2.00")
    lines[0]["amount"], lines[1]["amount"] = 1000, "1280.5"  # type: ignore[assignment]
    flow.act(instance, claim_form(flow, lines=lines))
    data = flow.task_data(instance, "approve_by_manager")
    assert [line["amount"] for line in data["lines"]] == ["1000.00", "1280.50"]
    assert data["total"] == "2280.50" and flow.reserved() == Decimal("2280.50")
