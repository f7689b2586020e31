"""What a simulation needs to know of the diagrams it runs: which timer boundary events escalate a task.

An interrupting timer on a user task (``cancelActivity`` not false) takes the task away from its
people: an SLA escalation. A non-interrupting one (a reminder cycle) leaves it open. The report
counts escalations by these ids among the steps the engine audited for the run's documents.
"""

from __future__ import annotations

from lxml import etree

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def escalation_ids(files: dict[str, str]) -> frozenset[str]:
    """Ids of interrupting timer boundary events attached to user tasks, in every diagram of ``files``."""
    found: set[str] = set()
    for name, text in files.items():
        if not name.endswith(".bpmn"):
            continue
        try:
            root = etree.fromstring(text.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False))
        except etree.XMLSyntaxError:
            continue  # deploy ran the check first: a file that does not parse never gets this far
        user_tasks = {t.get("id") for t in root.iter(f"{BPMN}userTask")}
        for event in root.iter(f"{BPMN}boundaryEvent"):
            if (event.get("attachedToRef") in user_tasks and event.find(f"{BPMN}timerEventDefinition") is not None
                    and event.get("cancelActivity", "true") != "false"):
                found.add(str(event.get("id")))
    return frozenset(found)
