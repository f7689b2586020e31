"""``budgetflow bpmn test``: run scenario files (engine/domain/scenario.py) through the real services.

The caller gives a database that holds the master data and nothing else (the command line makes a
throwaway one); this deploys the folder's diagrams there and runs every scenario in file order, each
as a document of its own on a virtual clock, then compares what happened with what the file expects.
The first difference is reported: at which step, what was expected and what came instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from engine.domain.journal import Observation
from engine.domain.scenario import Scenario, ScenarioInvalid, parse_file
from engine.services import processes
from engine.services.drive import Driver, StepRefused
from engine.services.ports import UnitOfWorkFactory

PATTERNS = ("*.scenario.yaml", "*.scenario.yml", "*.scenario.json")
PUBLISHER = "bpmn-test"


@dataclass(frozen=True)
class Difference:
    step: str  # "step 3 (approve_by_manager)", "route", "outcome", ...
    expected: str
    got: str

    def __str__(self) -> str:
        return f"{self.step}: expected {self.expected}, got {self.got}"


@dataclass(frozen=True)
class ScenarioResult:
    file: str
    name: str
    difference: Difference | None
    observed: dict[str, Any]  # what happened, in the file's terms: a designer copies it into ``expect``

    @property
    def passed(self) -> bool:
        return self.difference is None

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "name": self.name, "passed": self.passed, "observed": self.observed,
                "difference": None if self.difference is None else {
                    "step": self.difference.step, "expected": self.difference.expected,
                    "got": self.difference.got}}


def scenario_files(folder: Path) -> list[Path]:
    return sorted({p for pattern in PATTERNS for p in folder.rglob(pattern) if p.is_file()})


def load_scenarios(folder: Path) -> tuple[list[Scenario], list[str]]:
    """Every scenario below ``folder`` in file order, and every problem as ``file:scenario-name: message``."""
    scenarios: list[Scenario] = []
    problems: list[str] = []
    for path in scenario_files(folder):
        name = path.relative_to(folder).as_posix()
        try:
            text = path.read_text(encoding="utf-8")
            document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
            scenarios += parse_file(name, document)
        except ScenarioInvalid as invalid:
            problems += invalid.problems
        except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as unreadable:
            problems.append(f"{name}:-: not readable as {'JSON' if path.suffix == '.json' else 'YAML'}: "
                            f"{' '.join(str(unreadable).split())[:300]}")
    names = [s.name for s in scenarios]
    problems += [f"{s.where}: {s.application_of!r} is no earlier scenario of this run" for n, s in
                 enumerate(scenarios) if s.application_of and s.application_of not in names[:n]]
    return scenarios, problems


def deploy(uow: UnitOfWorkFactory, files: dict[str, str]) -> int:
    """The folder's diagrams as a model version of the throwaway database (checked first, as every deploy)."""
    version_id, _sha = processes.deploy(uow, files, by=PUBLISHER, label="bpmn test")
    return version_id


def run_scenarios(driver: Driver, scenarios: list[Scenario]) -> list[ScenarioResult]:
    """Each scenario in order, as document SCN-0001, SCN-0002, ...; the clock starts at the driver's."""
    documents: dict[str, str] = {}
    results = []
    for n, scenario in enumerate(scenarios, start=1):
        key = f"SCN-{n:04d}"
        results.append(run_one(driver, scenario, key, documents.get(scenario.application_of or "")))
        documents[scenario.name] = key
    return results


def run_one(driver: Driver, scenario: Scenario, business_key: str, application_no: str | None) -> ScenarioResult:
    try:
        instance_id = driver.start(process_id=scenario.process, applicant=scenario.applicant,
                                   business_key=business_key, data=scenario.start, application_no=application_no)
    except StepRefused as refused:
        return ScenarioResult(scenario.file, scenario.name, Difference("start", "the process to start",
                                                                       refused.reason), {})
    difference = _steps(driver, scenario, instance_id)
    seen = driver.observe(instance_id)
    if difference is None:
        difference = compare(scenario.expect, seen)
    return ScenarioResult(scenario.file, scenario.name, difference, observed(seen))


def observed(seen: Observation) -> dict[str, Any]:
    """An observation as a scenario's ``expect`` would say it."""
    approvers: dict[str, list[str]] = {}
    for bpmn_id, candidates in seen.openings:
        approvers.setdefault(bpmn_id, [])
        approvers[bpmn_id] += [c for c in candidates if c not in approvers[bpmn_id]]
    lines = sorted({r.line for r in seen.reservations})
    ledger = {k: f"{v:.2f}" for k, v in seen.ledger().items()}
    return {"route": seen.route, "approvers": approvers, "outcome": seen.outcome or seen.status,
            "ledger": {**({"line": lines[0]} if len(lines) == 1 else {}), **ledger},
            "notifications": list(seen.notifications)}


def _steps(driver: Driver, scenario: Scenario, instance_id: int) -> Difference | None:
    for n, step in enumerate(scenario.steps, start=1):
        try:
            if step.kind == "task":
                driver.complete(instance_id, step.element, step.by, step.data)
            elif step.kind == "message":
                driver.send(instance_id, step.element, step.by or scenario.applicant, step.data)
            elif step.advance is not None:
                driver.advance(step.advance)
        except StepRefused as refused:
            return Difference(f"step {n} ({step.kind} {step.element})", "it to be taken", refused.reason)
    return None


def compare(expect: dict[str, Any], seen: Observation) -> Difference | None:
    """The first expectation ``seen`` does not meet: route, approvers, outcome, ledger, notifications."""
    if "route" in expect:
        found = _route(list(expect["route"]), seen.route)
        if found:
            return found
    for task, people in (expect.get("approvers") or {}).items():
        offered = sorted({c for bpmn_id, candidates in seen.openings if bpmn_id == task for c in candidates})
        if offered != sorted(set(people)):
            return Difference(f"approvers of {task}", ", ".join(sorted(set(people))) or "nobody",
                              ", ".join(offered) or "the task never opened")
    ended = seen.outcome or seen.status
    if "outcome" in expect and expect["outcome"] != ended:
        return Difference("outcome", str(expect["outcome"]), ended)
    if "ledger" in expect:
        found = _ledger(expect["ledger"], seen)
        if found:
            return found
    if "notifications" in expect and list(expect["notifications"]) != list(seen.notifications):
        return Difference("notifications", ", ".join(expect["notifications"]) or "none",
                          ", ".join(seen.notifications) or "none")
    return None


def _route(expected: list[str], got: list[str]) -> Difference | None:
    for n, (want, was) in enumerate(zip(expected, got, strict=False), start=1):
        if want != was:
            return Difference(f"route, user task {n}", want, was)
    if len(expected) != len(got):
        n = min(len(expected), len(got)) + 1
        return Difference(f"route, user task {n}", expected[n - 1] if len(expected) >= n else "the end",
                          got[n - 1] if len(got) >= n else "the end")
    return None


def _ledger(expect: dict[str, Any], seen: Observation) -> Difference | None:
    lines = sorted({r.line for r in seen.reservations})
    if "line" in expect and lines != [expect["line"]]:
        return Difference("ledger line", str(expect["line"]), ", ".join(lines) or "no reservation")
    totals = seen.ledger()
    for key in ("reserved", "consumed", "released"):
        if key in expect and Decimal(str(expect[key])) != totals[key]:
            return Difference(f"ledger {key}", f"{Decimal(str(expect[key])):.2f}", f"{totals[key]:.2f}")
    return None


def clock_start() -> datetime:
    return datetime.now(UTC)
