"""``budgetflow bpmn replay``: what a draft of the diagrams would have done to the instances that already ran.

Every finished instance's recorded inputs (the journal, ``instance_input``: start data, checked forms,
messages, fired timers) run again, in order and at their recorded times, on the draft in a throwaway
database holding the same data dictionary. Each replay is then compared with the recorded run: route
(the user tasks reached), approvers (who was offered each), reservation (amount and line) and outcome.
An input the draft no longer takes (its task never opens) ends that replay there.

Master data: the throwaway database gets the data dictionary the configured database last imported (the
folder recorded as its source, refused if its content changed since), or the folder given. Budgets start
from the dictionary's amounts and the replayed instances draw on them in order; documents not replayed
(still running, or finished before --since) are not there, so a FORBID line near its limit may differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.domain.errors import BudgetflowError
from engine.domain.journal import Observation, Parting, RecordedInput, first_parting
from engine.services import read_models
from engine.services.drive import Driver, StepRefused
from engine.services.masterdata.importing import load_folder
from engine.services.ports import UnitOfWork
from engine.services.read_models import Reader


class ReplayRefused(BudgetflowError):
    """Replay cannot start: no dictionary to rebuild the master data from, or one that changed."""

    code = "REPLAY_REFUSED"


@dataclass(frozen=True)
class Recorded:
    business_key: str
    process_id: str
    applicant: str
    inputs: list[RecordedInput]
    observation: Observation
    attachments: list[dict[str, Any]]  # the document's files (metadata): forms name them by id


@dataclass(frozen=True)
class Replayed:
    business_key: str
    process_id: str
    parting: Parting | None  # None: the draft does what the recorded run did

    def to_json(self) -> dict[str, Any]:
        p = self.parting
        return {"document": self.business_key, "process": self.process_id, "differs": p is not None,
                **({"element": p.element, "what": p.what, "recorded": p.recorded, "draft": p.draft} if p else {})}


def dictionary_of(reader: Reader, given: Path | None) -> Path:
    """The dictionary folder to rebuild the master data from: ``given``, else the last import's source if its
    content is still what was imported."""
    if given is not None:
        return given
    imports = read_models.master_data_imports(reader)
    if not imports:
        raise ReplayRefused("the configured database has no data-dictionary import to rebuild its master data "
                            "from; pass --dictionary DIR")
    last = imports[-1]
    source = Path(last["source"])
    if not source.is_dir():
        raise ReplayRefused(f"the data dictionary last imported ({last['version']}) came from {source}, which is "
                            "no longer there; pass --dictionary DIR")
    if load_folder(source).checksum != last["checksum"]:
        raise ReplayRefused(f"{source} changed since its version {last['version']} was imported; pass "
                            "--dictionary DIR with the dictionary as imported")
    return source


def recorded_instances(uow: UnitOfWork, since: datetime | None) -> list[Recorded]:
    """Finished instances with a recorded start (since ``since``), oldest first, with their inputs and facts."""
    return [Recorded(r["business_key"], r["process_id"], r["applicant"], uow.journal.inputs(r["id"]),
                     uow.journal.observe(r["id"]), uow.attachments.of_document(r["business_key"]))
            for r in uow.journal.finished_instances(since)]


def replay_all(driver: Driver, recorded: list[Recorded]) -> list[Replayed]:
    return [replay_one(driver, r) for r in recorded]


def replay_one(driver: Driver, recorded: Recorded) -> Replayed:
    start, *rest = recorded.inputs
    driver.now = start.at  # each instance on its own recorded clock
    payload = start.payload
    message = payload.get("message")
    try:
        instance_id = driver.start(process_id=recorded.process_id, applicant=recorded.applicant,
                                   business_key=recorded.business_key, data=payload.get("data") or {},
                                   application_no=payload.get("application_no"), actor=start.actor,
                                   message=(message[0], message[1]) if message else None)
    except StepRefused as refused:
        return Replayed(recorded.business_key, recorded.process_id,
                        Parting(start.element, "input", "started", refused.reason))
    _attach(driver, recorded)
    failed = _inputs(driver, instance_id, rest)
    replayed = driver.observe(instance_id)
    parting = first_parting(recorded.observation, replayed)
    if failed is not None and (parting is None or failed.element in replayed.route):
        parting = failed  # the draft reached the task but refused the recorded input: that is where they part
    return Replayed(recorded.business_key, recorded.process_id, parting)


def _attach(driver: Driver, recorded: Recorded) -> None:
    """Stand-ins for the document's files under their ids (content left out): the recorded forms name them,
    and a form may only name files of its own document. What a flow decides never reads a file's content."""
    if not recorded.attachments:
        return
    with driver.uow() as uow:
        for a in recorded.attachments:
            uow.attachments.add(attachment_id=a["id"], document_no=recorded.business_key,
                                uploaded_by=a["uploaded_by"], filename=a["filename"],
                                content_type=a["content_type"], data=b"", sha256=a["sha256"])
        uow.commit()


def _inputs(driver: Driver, instance_id: int, inputs: list[RecordedInput]) -> Parting | None:
    """Feed the inputs at their recorded times (timers the draft has due meanwhile fire); the first that does
    not fit stops the replay."""
    for step in inputs:
        driver.move_to(step.at)
        try:
            if step.kind == "task":
                driver.complete(instance_id, step.element, step.actor, step.payload)
            elif step.kind == "message":
                driver.send(instance_id, step.element, step.actor, step.payload)
        except StepRefused as refused:
            return Parting(step.element, "input", f"{step.kind} {step.element} by {step.actor}", refused.reason)
    return None
