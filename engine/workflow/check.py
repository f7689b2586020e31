"""``budgetflow bpmn check``: what a process designer gets wrong, as ``file:element-id: message`` lines.

Every BPMN or DMN file, however broken, yields lines or nothing -- never a traceback. The rules:

* the files are well-formed XML and pass SpiffWorkflow's schema and parser (``bundle.parse``);
* service tasks name a known operator with exactly its parameters and a result variable (``check_service``);
* every lane is known, every user task sits in a lane of people (``check_lanes``);
* every form a user task names exists and is a strict, bounded schema (``check_forms``);
* a ``notify`` property sits on a user task and says ``on_open``;
* every error, escalation, message and signal an event names is defined, and every decision a business
  rule task calls (``check_refs``);
* every timer value known before the run is valid, script-assigned literals included (``check_timers``);
* every script, condition and other piece of code compiles under the sandbox (``check_code``);
* every element is drawn (``check_di``);
* DMN tables are well-shaped, their cells fit their column's type, no rule is unreachable and no output
  cell is empty (``check_dmn``, ``check_dmn_rules``).

Each rule runs guarded: an unexpected exception inside a rule becomes ``file:-: cannot check <rule>: ...``
and the other rules go on. Each problem is reported once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from lxml import etree

from engine.workflow.bundle import _describe, parse, safe_parser
from engine.workflow.check_code import check_bpmn_code, check_dmn_code
from engine.workflow.check_common import NS, element_id, one_line
from engine.workflow.check_di import check_di
from engine.workflow.check_dmn import check_dmn_cells, check_dmn_structure
from engine.workflow.check_dmn_rules import check_dmn_rules
from engine.workflow.check_forms import check_forms, form_files
from engine.workflow.check_lanes import check_lanes, default_lanes
from engine.workflow.check_refs import check_decisions, check_refs, defined_refs
from engine.workflow.check_service import check_service_tasks
from engine.workflow.check_timers import check_timers, script_literals
from engine.workflow.errors import BundleInvalid
from engine.workflow.runtime import NOTIFY_PROPERTY, NOTIFY_VALUES

LINE = re.compile(r"^[^:]+:[^:]+: .+")
MAX_LINE = 500
Rule = Callable[[str, Any], Iterable[str]]


def check(files: Mapping[str, str], *, lanes: Mapping[str, str] | None = None) -> list[str]:
    """Every problem of the bundle ``files`` (path -> text), one ``file:element-id: message`` line each.

    ``lanes`` maps the lane names a diagram may use to their descriptions (default: the built-in lanes);
    ``system`` is always allowed, for machine steps.
    """
    known = dict(lanes) if lanes is not None else default_lanes()
    problems = [f"{name}:-: {why}" for name, why in sorted(getattr(files, "undecodable", {}).items())]
    trees: dict[str, Any] = {}
    for name, text in sorted(files.items()):
        if name.endswith((".bpmn", ".dmn")):
            tree = _load(name, text, problems)
            if tree is not None:
                trees[name] = tree
    bpmn_trees = {n: t for n, t in trees.items() if n.endswith(".bpmn")}
    literals = _guarded(problems, _first(files), "timers", lambda: [script_literals(bpmn_trees)], report=False)
    defined = defined_refs(trees.values())
    rules = _rules(files, known, literals[0] if literals else {}, tuple(getattr(files, "unread", ())), defined)
    unreadable: set[str] = set()  # DMN files SpiffWorkflow cannot read: their structure lines say why, once
    for name, tree in sorted(trees.items()):
        for label, rule in rules[name.rpartition(".")[2]]:
            if _guarded(problems, name, label, _bind(rule, name, tree)) and rule is check_dmn_structure:
                unreadable.add(name)
    _guarded(problems, _first(files), "forms", lambda: check_forms(files, trees))
    readable = {n: t for n, t in trees.items() if n not in unreadable}
    parsed = _guarded(problems, _first(files), "the parse", lambda: _parse_problems(files, readable), report=False)
    problems.extend(_not_said(parsed, problems))
    return _tidy(problems, _first(files))


def _rules(files: Mapping[str, str], known: Mapping[str, str], literals: Any, unread: tuple[str, ...],
           defined: Mapping[str, frozenset[str]]) -> dict[str, list[tuple[str, Rule]]]:
    return {
        "bpmn": [
            ("service tasks", check_service_tasks),
            ("lanes", lambda n, t: check_lanes(n, t, known)),
            ("forms", lambda n, t: form_files(n, t, files, unread)),
            ("notify", _notify),
            ("event references", lambda n, t: check_refs(n, t, defined)),
            ("called decisions", lambda n, t: check_decisions(n, t, defined)),
            ("timers", lambda n, t: check_timers(n, t, literals)),
            ("code", check_bpmn_code),
            ("diagram interchange", check_di),
        ],
        "dmn": [
            ("the DMN structure", check_dmn_structure),
            ("DMN code", check_dmn_code),
            ("DMN cells", check_dmn_cells),
            ("DMN rules", check_dmn_rules),
        ],
    }


def _load(name: str, text: str, problems: list[str]) -> Any:
    try:
        root = etree.fromstring(text.encode("utf-8"), parser=safe_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        problems.append(_describe(name, exc) if isinstance(exc, etree.XMLSyntaxError)
                        else f"{name}:-: not readable as XML: {exc}")
        return None
    if not isinstance(root.tag, str) or etree.QName(root).localname != "definitions":
        problems.append(f"{name}:{element_id(root)}: the root element is not <definitions>; not a "
                        f"{'BPMN' if name.endswith('.bpmn') else 'DMN'} file")
        return None
    return root


def _parse_problems(files: Mapping[str, str], trees: Mapping[str, Any]) -> list[str]:
    """SpiffWorkflow's schema and parser, on the files that are XML at all (so an XML error is said once)."""
    readable = {n: t for n, t in files.items() if n in trees or not n.endswith((".bpmn", ".dmn"))}
    try:
        parse(readable)
    except BundleInvalid as exc:
        return list(exc.problems)
    return []


def _not_said(lines: Iterable[str], said: Iterable[str]) -> list[str]:
    """The parser's lines about elements no rule has reported yet: the rule's line says it better, once."""
    seen = {_where(line) for line in said} - {None}
    return [line for line in lines if _where(line) not in seen]


def _where(line: str) -> tuple[str, str] | None:
    file, _, rest = line.partition(":")
    element = rest.partition(":")[0]
    return None if element in ("-", "") or element.startswith("line ") else (file, element)


def _bind(rule: Rule, name: str, tree: Any) -> Callable[[], Iterable[str]]:
    return lambda: rule(name, tree)


def _guarded(problems: list[str], name: str, label: str, run: Callable[[], Iterable[Any]], *,
             report: bool = True) -> list[Any]:
    """Run one rule; an exception inside it becomes a line about that rule instead of a crash."""
    try:
        found = list(run())
    except Exception as exc:  # noqa: BLE001 -- the check never crashes: the rule's failure is the finding
        problems.append(f"{name}:-: cannot check {label}: {type(exc).__name__}: {one_line(str(exc)) or '-'}")
        return []
    if report:
        problems.extend(str(p) for p in found)
    return found


def _first(files: Mapping[str, str]) -> str:
    diagrams = sorted(n for n in files if n.endswith((".bpmn", ".dmn")))
    return (diagrams or sorted(files) or ["(no files)"])[0]


def _tidy(problems: Iterable[str], fallback: str) -> list[str]:
    """One line per problem, in the agreed shape, each once (first occurrence kept)."""
    seen: dict[str, None] = {}
    for problem in problems:
        line = one_line(problem)
        if len(line) > MAX_LINE:  # a parser message can hold a whole element's XML
            line = line[:MAX_LINE - 1] + "…"
        if not LINE.match(line):
            line = f"{fallback}:-: {line or 'unknown problem'}"
        seen.setdefault(line, None)
    return sorted(seen, key=lambda line: line.partition(":")[0])  # by file; within a file, rule order


def _notify(name: str, root: Any) -> Iterator[str]:
    """The ``notify`` property: a misspelt value would silently notify nobody, so it is refused here."""
    for prop in root.iterfind(f".//spiffworkflow:property[@name='{NOTIFY_PROPERTY}']", NS):
        element = next((a for a in prop.iterancestors(f"{{{NS['bpmn']}}}*")
                        if etree.QName(a).localname != "extensionElements"), None)
        where = element_id(element)
        if element is None or etree.QName(element).localname != "userTask":
            yield f"{name}:{where}: property {NOTIFY_PROPERTY!r} belongs on a user task (it notifies its approvers)"
        elif prop.get("value") not in NOTIFY_VALUES:
            yield (f"{name}:{where}: property {NOTIFY_PROPERTY!r} is {prop.get('value')!r}; "
                   f"known: {', '.join(NOTIFY_VALUES)}")
