"""``bpmn check`` rules for references nobody defines: an event's error, escalation, message or signal,
and the decision a business rule task calls.

SpiffWorkflow's parser meets such a reference with an internal ``TypeError`` (its
``raise_validation_exception`` is called with an argument it does not take), so the designer would
read ``TypeError("NodeParser.raise_validation_exception() got an unexpected keyword argument 'node'")``
and, since it stops at the first one, learn of one dangling reference per attempt. This rule names
every one, at its event, with what is defined. Definitions are shared by all diagrams of the bundle,
as in SpiffWorkflow. A business rule task without ``spiffworkflow:calledDecisionId`` (a Camunda file's
``camunda:decisionRef`` is not read) got ``No DMN Diagram available with id "None", Available DMN ids
are:`` -- said here as what to set.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from engine.workflow.check_common import BPMN, SPIFF, element_id, local, suggest

KINDS = ("error", "escalation", "message", "signal")  # <bpmn:error id=...> <- errorEventDefinition errorRef=...


CAMUNDA_DECISION = "{http://camunda.org/schema/1.0/bpmn}decisionRef"


def defined_refs(trees: Iterable[Any]) -> dict[str, frozenset[str]]:
    """Per kind, the ids of the definitions (``bpmn:error`` ..., and DMN decisions) of all the files."""
    found: dict[str, set[str]] = {kind: set() for kind in (*KINDS, "decision")}
    for tree in trees:
        for kind in KINDS:
            found[kind].update(el.get("id") for el in tree.iter(f"{{{BPMN}}}{kind}") if el.get("id"))
        if local(tree) == "definitions" and not tree.tag.startswith(f"{{{BPMN}}}"):  # a DMN file, any version
            found["decision"].update(el.get("id") for el in tree.iter() if local(el) == "decision" and el.get("id"))
    return {kind: frozenset(ids) for kind, ids in found.items()}


def check_refs(name: str, root: Any, defined: Mapping[str, frozenset[str]]) -> Iterator[str]:
    for kind in KINDS:
        for definition in root.iter(f"{{{BPMN}}}{kind}EventDefinition"):
            ref = definition.get(f"{kind}Ref")
            if ref and ref not in defined.get(kind, frozenset()):
                event = definition.getparent()
                known = suggest(ref, defined.get(kind, ())) if defined.get(kind) else "none is defined"
                yield (f"{name}:{element_id(event)}: the event refers to {kind} {ref!r}, which no diagram defines "
                       f"(a bpmn:{kind} with that id; {known})")


def check_decisions(name: str, root: Any, defined: Mapping[str, frozenset[str]]) -> Iterator[str]:
    decisions = defined.get("decision", frozenset())
    known = suggest("", decisions) if decisions else "the folder defines no DMN decision"
    for task in root.iter(f"{{{BPMN}}}businessRuleTask"):
        called = task.find(f".//{{{SPIFF}}}calledDecisionId")
        ref = (called.text or "").strip() if called is not None else ""
        if not ref:
            camunda = task.get(CAMUNDA_DECISION)
            hint = f"; its camunda:decisionRef {camunda!r} is not read" if camunda else ""
            yield (f"{name}:{element_id(task)}: business rule task names no decision: set spiffworkflow:"
                   f"calledDecisionId to a DMN decision id{hint} ({known})")
        elif ref not in decisions:
            yield (f"{name}:{element_id(task)}: business rule task calls decision {ref!r}, which no DMN file defines "
                   f"({suggest(ref, decisions) if decisions else known})")
