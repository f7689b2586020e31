"""What the database says about a run's documents: the engine's automatic steps, escalations, versions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

AUTOMATIC_WORK = {"ConnectorServiceTask", "ScriptTask", "BusinessRuleTask"}  # not events, gateways, joins


def step_counts(reader: Callable[[], Any], documents: list[str], escalation_ids: Iterable[str],
                instance_ids: Iterable[int]) -> tuple[int, Counter[str], set[str]]:
    """For ``documents``: steps no person did (service, script and rule tasks the engine ran, from the
    audit log, and the connector jobs the worker finished), the SLA escalations that fired (by boundary
    event id), and the model versions (sha256) the instances ran on."""
    wanted, escalating = set(documents), set(escalation_ids)
    automatic, escalations = 0, Counter[str]()
    with reader() as uow:
        for entry in uow.reports.audit_rows("engine.steps"):
            if entry.record.subject_id not in wanted:
                continue
            for step in entry.record.payload.get("steps", []):
                if step.get("state") != "COMPLETED":
                    continue
                automatic += step.get("kind") in AUTOMATIC_WORK
                if step.get("task") in escalating:
                    escalations[str(step["task"])] += 1
        automatic += int(uow.reports.jobs_done(wanted))
        shas = {uow.instances.lock(i).model_sha for i in instance_ids}
    return automatic, escalations, shas
