"""The input journal and ``budgetflow bpmn replay`` (issue 12, acceptance 3).

Instances run through the real services in the configured test database (SQLite, and PostgreSQL when
BUDGETFLOW_TEST_DATABASE_URL is set); their inputs are journalled in the step's own transaction. Replaying
them on a draft whose threshold is lowered lists exactly the instances between the old and the new
threshold; an unchanged draft lists none.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from engine.bootstrap import Container
from engine.domain.forms import FormInvalid
from engine.persistence import schema
from engine.persistence.db import make_engine
from engine.services import instance_admin, processes
from engine.services.attachments import add_attachment
from engine.services.drive import Driver
from engine.services.masterdata.importing import seed_demo
from engine.workflow.bundle import read_folder
from tests.cli.support import run

BPMN = Path(__file__).resolve().parents[1] / "bpmn"
DMN = "shared/approval_route.dmn"
AMOUNTS = ["1000.00", "2999.99", "3000.00", "3000.01", "4200.00", "5000.00", "5000.01", "8000.00"]
BETWEEN = {"3000.01", "4200.00", "5000.00"}  # above the new threshold (3,000), not above the old (5,000)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
APPROVE = {"decision": "approve", "comment": "ok 同意"}


@pytest.fixture
def company(container: Container) -> Container:
    seed_demo(container.masterdata_store)
    processes.deploy(container.uow, read_folder(BPMN), by="E0016")
    return container


def driver(company: Container, now: datetime = T0) -> Driver:
    return Driver(company.uow, company.job_runner(), company.retry_policy(), now)


def application(d: Driver, key: str, amount: str) -> int:
    instance = d.start(process_id="travel_application", applicant="E0017", business_key=key,
                       data={"period": "2026", "currency": "CNY"})
    d.complete(instance, "fill_application", None, {"subject": "TRAVEL", "purpose": "Visit 拜访", "amount": amount,
                                                      "currency": "CNY", "period": "2026"})
    return instance


def approve_all(d: Driver, instance: int) -> None:
    for _ in range(6):
        tasks = d.open_tasks(instance)
        if not tasks:
            return
        d.advance(timedelta(hours=2))
        d.complete(instance, tasks[0]["bpmn_id"], None, APPROVE)


def draft(tmp_path: Path, old: str | None = None, new: str | None = None) -> Path:
    folder = tmp_path / "draft"
    shutil.copytree(BPMN, folder, ignore=shutil.ignore_patterns("scenarios"))
    if old and new:
        path = folder / DMN
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1
        path.write_text(text.replace(old, new), encoding="utf-8")
    return folder


def test_the_journal_keeps_every_input_in_order_in_the_steps_transaction(company):
    d = driver(company)
    instance = application(d, "TA-J-1", "8000.00")
    with pytest.raises(FormInvalid):  # a refused completion journals nothing
        task = d.open_task(instance, "approve_by_manager", None)
        processes.complete_task(company.uow, task_guid=task["task_guid"], user="E0005", form={"decision": "maybe"},
                                now=d.now)
    d.complete(instance, "approve_by_manager", "E0005", APPROVE)
    d.advance(timedelta(hours=25))  # the department head's reminder fires
    d.send(instance, "withdraw", "E0017", {"reason": "cancelled"})
    with company.reader() as uow:
        inputs = uow.journal.inputs(instance)
    assert [(i.seq, i.kind, i.element, i.actor) for i in inputs] == [
        (1, "start", "travel_application", "E0017"), (2, "task", "fill_application", "E0017"),
        (3, "task", "approve_by_manager", "E0005"), (4, "timer", "timer", "scheduler"),
        (5, "message", "withdraw", "E0017")]
    assert inputs[0].payload == {"data": {"period": "2026", "currency": "CNY"}, "application_no": None,
                                 "message": None}
    assert inputs[2].payload == APPROVE and inputs[1].payload["amount"] == "8000.00"
    assert [i.at for i in inputs] == [T0, T0, T0, T0 + timedelta(hours=25), T0 + timedelta(hours=25)]


def recorded(company: Container) -> dict[str, str]:
    """One approved application per amount, each a day after the one before: document -> amount."""
    documents = {}
    for n, amount in enumerate(AMOUNTS):
        d = driver(company, T0 + timedelta(days=n))
        key = f"TA-R-{n:02d}"
        approve_all(d, application(d, key, amount))
        documents[key] = amount
    d = driver(company, T0 + timedelta(days=20))
    running = application(d, "TA-R-RUNNING", "4000.00")  # not finished: never replayed
    assert d.open_tasks(running)
    return documents


def test_replay_lists_exactly_the_instances_between_the_old_and_the_new_threshold(company, cli_env, tmp_path,
                                                                                  monkeypatch, capsys):
    documents = recorded(company)
    lowered = draft(tmp_path, "&gt; 5000</text>", "&gt; 3000</text>")
    done = run(monkeypatch, capsys, cli_env, "bpmn", "replay", str(lowered), "--json")
    report = json.loads(done.out)
    assert done.code == 1 and report["replayed"] == len(AMOUNTS)
    differing = {i["document"]: i for i in report["instances"] if i["differs"]}
    assert {documents[k] for k in differing} == BETWEEN
    for item in differing.values():
        assert (item["element"], item["what"]) == ("approve_by_department_head", "route")
    shutil.rmtree(lowered)
    unchanged = draft(tmp_path)
    done = run(monkeypatch, capsys, cli_env, "bpmn", "replay", str(unchanged))
    assert done.code == 0, done.out + done.err
    assert done.out.splitlines() == [f"bpmn replay: 0 of {len(AMOUNTS)} instance(s) would differ on {unchanged}"]


def test_an_input_the_draft_no_longer_takes_ends_the_replay_there(company, cli_env, tmp_path, monkeypatch, capsys):
    documents = recorded(company)
    raised = draft(tmp_path, "&gt; 5000</text>", "&gt; 6000</text>")
    done = run(monkeypatch, capsys, cli_env, "bpmn", "replay", str(raised), "--since", "2026-03-01")
    assert done.code == 1
    [line, summary] = done.out.splitlines()
    [key] = [k for k, amount in documents.items() if amount == "5000.01"]  # 8,000 still needs the head
    assert line == (f"{key}: differs at approve_by_department_head (route): recorded fill_application > "
                    "approve_by_manager > approve_by_department_head, draft fill_application > approve_by_manager")
    assert summary.startswith(f"bpmn replay: 1 of {len(AMOUNTS)} instance(s) would differ")
    done = run(monkeypatch, capsys, cli_env, "bpmn", "replay", str(raised), "--since", "2030-01-01", "--json")
    assert (done.code, json.loads(done.out)["replayed"]) == (0, 0)


def test_a_draft_that_fails_the_check_is_refused(company, cli_env, tmp_path, monkeypatch, capsys):
    broken = draft(tmp_path, "&gt; 5000</text>", "&gt; 5,000</text>")
    (broken / DMN).write_text("<broken", encoding="utf-8")
    done = run(monkeypatch, capsys, cli_env, "bpmn", "replay", str(broken))
    assert done.code == 1 and DMN in done.err and "fails bpmn check" in done.err and done.out == ""


def test_migration_0016_adds_the_journal_and_takes_it_away_again(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        schema.upgrade(engine, "0013")
        assert "instance_input" not in inspect(engine).get_table_names()
        schema.upgrade(engine, "0016")
        assert {c["name"] for c in inspect(engine).get_columns("instance_input")} == {
            "id", "instance_id", "seq", "kind", "element", "actor", "payload", "at"}
        cfg = schema.alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0013")
        assert "instance_input" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_claim_with_receipts_replays_on_an_unchanged_draft(company, cli_env, tmp_path, monkeypatch, capsys):
    d = driver(company)
    claim = d.start(process_id="expense_claim", applicant="E0017", business_key="EC-R-1",
                    data={"period": "2026", "currency": "CNY"})
    receipt = add_attachment(company.uow, document_no="EC-R-1", uploader="E0017", filename="receipt.pdf",
                             content_type="application/pdf", data=b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
    d.complete(claim, "fill_claim", None, {
        "subject": "TRAVEL", "purpose": "Trip 出差", "currency": "CNY", "period": "2026", "receipts": [receipt],
        "lines": [{"subject": "TRAVEL", "amount": "300.00", "tax": "0.00", "invoice_code": "011002300111",
                   "invoice_number": "30000001"}]})
    approve_all(d, claim)
    assert d.observe(claim).outcome == "posted"
    done = run(monkeypatch, capsys, cli_env, "bpmn", "replay", str(draft(tmp_path)), "--json")
    assert done.code == 0, done.out
    assert json.loads(done.out)["instances"] == [{"document": "EC-R-1", "process": "expense_claim",
                                                  "differs": False}]


def test_a_form_the_draft_refuses_parts_at_that_task(company, cli_env, tmp_path, monkeypatch, capsys):
    d = driver(company)
    approve_all(d, application(d, "TA-F-1", "1200.00"))
    stricter = draft(tmp_path)
    form = stricter / "travel_application" / "forms" / "apply.schema.json"
    schema = json.loads(form.read_text(encoding="utf-8"))
    schema["properties"]["purpose"]["maxLength"] = 3
    form.write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    done = run(monkeypatch, capsys, cli_env, "bpmn", "replay", str(stricter), "--json")
    [item] = json.loads(done.out)["instances"]
    assert done.code == 1 and (item["element"], item["what"]) == ("fill_application", "input")
    assert item["recorded"] == "task fill_application by E0017" and "purpose" in item["draft"]


def test_an_instance_an_admin_cancelled_is_compared_up_to_where_it_stopped(company, cli_env, tmp_path, monkeypatch,
                                                                          capsys):
    d = driver(company)
    instance = application(d, "TA-C-1", "8000.00")
    d.complete(instance, "approve_by_manager", "E0005", APPROVE)
    instance_admin.cancel(company.uow, instance_id=instance, by="E0015", reason="duplicate request")
    done = run(monkeypatch, capsys, cli_env, "bpmn", "replay", str(draft(tmp_path)), "--json")
    assert done.code == 0 and json.loads(done.out)["instances"][0]["differs"] is False
