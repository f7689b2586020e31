"""Step statistics of the shipped diagrams after ``simulate``: the counts agree with what the run reports and
with each other (every finished exclusive gateway took exactly one way out), through call activities and
tasks with boundary events."""

from __future__ import annotations

import json

from tests.cli.support import run


def test_the_counts_of_a_simulated_run_add_up(tmp_path, monkeypatch, capsys):
    kept = tmp_path / "sim"
    done = run(monkeypatch, capsys, {}, "simulate", "--claims", "12", "--keep", str(kept), "--json")
    assert done.code == 0, done.err
    report = json.loads(done.out)
    found = run(monkeypatch, capsys, {"BUDGETFLOW_INSTANCE_DIR": str(kept)}, "stats", "--json")
    assert found.code == 0, found.err
    (version,) = json.loads(found.out)["versions"]
    elements = {(e["process_id"], e["element_id"]): e for e in version["elements"]}
    assert version["unreadable_instances"] == 0
    outcomes = report["this_run"]["outcomes"]
    assert elements[("travel_application", "set_approved")]["passed"] == outcomes["travel_application"].get(
        "approved", 0)
    assert version["instances"] == elements[("travel_application", "start_application")]["passed"] + elements[
        ("expense_claim", "start_claim")]["passed"]
    assert elements[("expense_claim", "set_posted")]["passed"] == elements[("expense_claim", "post_voucher")][
        "passed"] == report["this_run"]["outcomes"]["expense_claim"].get("posted", 0)
    assert all(e["waiting_now"] == 0 for e in version["elements"])  # simulate finishes every document
    for (process_id, element_id), e in elements.items():
        if e["kind"] == "exclusiveGateway" and e["passes"]:
            taken = sum(f["taken"] for f in version["flows"] if (f["process_id"], f["gateway"]) == (process_id,
                                                                                                    element_id))
            assert taken == e["passes"], f"{process_id}:{element_id}"
    approval = elements[("approval_chain", "approve_by_manager")]
    assert approval["passed"] == elements[("travel_application", "approval")]["passed"] + elements[
        ("expense_claim", "approval")]["passed"]
    assert approval["median_wait_seconds"] is not None and approval["median_wait_seconds"] >= 0
