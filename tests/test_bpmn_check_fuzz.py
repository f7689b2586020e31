"""``bpmn check`` never crashes: a mutation fuzzer over the XML of the shipped ``bpmn/``.

Each mutant changes one shipped diagram (a deleted attribute or element, a reference to a wrong or
missing id, garbage text, a swapped pair of ids, a truncated file, stray characters, another namespace)
and runs the whole check on it together with the diagrams it calls and every form -- the untouched rest that
matters to it, so a mutant costs milliseconds and 2,000 of them fit in CI. Every mutant must give
lines of the agreed shape and no exception. Two controls show the fuzzer has teeth: a crash injected
inside a rule becomes a ``cannot check`` line, and a crash that escapes the guard fails the fuzzer.
(Run against the check before issue 12, these mutants found an XMLSchemaParseError, a TypeError from
lxml and an element id with a colon.)
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from lxml import etree

import engine.workflow.check as check_module
from engine.workflow.bundle import read_folder
from engine.workflow.check import check

SHIPPED = read_folder(Path(__file__).resolve().parent.parent / "bpmn")
DIAGRAMS = sorted(n for n in SHIPPED if n.endswith((".bpmn", ".dmn")))
FORMS = {n: t for n, t in SHIPPED.items() if not n.endswith((".bpmn", ".dmn"))}
TREES = {n: etree.fromstring(SHIPPED[n].encode("utf-8")) for n in DIAGRAMS}
LINE = re.compile(r"^[^:]+:[^:]+: .+")
REFERENCES = ("sourceRef", "targetRef", "attachedToRef", "bpmnElement", "processRef", "calledElement",
              "decisionRef", "attachedToRef", "errorRef", "messageRef", "default", "id", "typeRef", "hitPolicy",
              "resultVariable", "name", "value")
NAMESPACES = ("http://www.omg.org/spec/DMN/20180521/MODEL/", "https://www.omg.org/spec/DMN/20191112/MODEL/",
              "http://www.omg.org/spec/DMN/20151101/dmn.xsd", "https://www.omg.org/spec/DMN/20191111/MODEL/",
              "http://www.omg.org/spec/BPMN/20100524/MODEL", "urn:nothing", "")
GARBAGE = st.text(alphabet=st.sampled_from(list("abcXYZ019 ,.:;'\"?<>=!-_()[]{}/\\%&*+#@$^|~\t\n") + ["中", "é"]),
                  max_size=30)


def _defined(root: Any) -> set[str]:
    return {str(e.get("id")) for e in root.iter() if isinstance(e.tag, str) and e.get("id")}


def _dependencies(name: str) -> set[str]:
    """The diagrams ``name`` needs (called processes, DMN decisions), transitively."""
    wanted, found, todo = {name}, set(), [name]
    while todo:
        root = TREES[todo.pop()]
        refs = {e.get("calledElement") for e in root.iter() if isinstance(e.tag, str)}
        refs |= {(e.text or "").strip() for e in root.iter()
                 if isinstance(e.tag, str) and e.tag.endswith("calledDecisionId")}
        for other in DIAGRAMS:
            if other not in wanted and refs & _defined(TREES[other]):
                wanted.add(other)
                todo.append(other)
        found |= wanted
    return found


DEPENDENCIES = {name: _dependencies(name) for name in DIAGRAMS}


def _elements(root: Any) -> list[Any]:
    return [e for e in root.iter() if isinstance(e.tag, str)]


@st.composite
def mutants(draw: Callable[..., Any]) -> tuple[str, str]:
    name = draw(st.sampled_from(DIAGRAMS))
    root = copy.deepcopy(TREES[name])
    elements = _elements(root)
    kind = draw(st.sampled_from(("delete attribute", "wrong reference", "garbage text", "garbage attribute",
                                 "swap ids", "delete element", "truncate", "stray characters", "namespace")))
    target = elements[draw(st.integers(0, len(elements) - 1))]
    if kind == "delete attribute" and target.attrib:
        del target.attrib[draw(st.sampled_from(sorted(target.attrib)))]
    elif kind == "wrong reference":
        present = [a for a in REFERENCES if a in target.attrib] or ["id"]
        ids = sorted(_defined(root)) + ["nowhere", ""]
        target.set(draw(st.sampled_from(present)), draw(st.sampled_from(ids)))
    elif kind == "garbage text":
        target.text = draw(GARBAGE)
    elif kind == "garbage attribute" and target.attrib:
        target.set(draw(st.sampled_from(sorted(target.attrib))), draw(GARBAGE))
    elif kind == "swap ids":
        with_ids = [e for e in elements if e.get("id")]
        other = with_ids[draw(st.integers(0, len(with_ids) - 1))]
        first, second = target.get("id") or "", other.get("id") or ""
        target.set("id", second)
        other.set("id", first)
    elif kind == "delete element" and target.getparent() is not None:
        target.getparent().remove(target)
    text = etree.tostring(root, encoding="unicode")
    if kind == "truncate":
        text = SHIPPED[name][: draw(st.integers(0, len(SHIPPED[name])))]
    elif kind == "namespace":  # another DMN/BPMN version, an unknown one, or none
        text = SHIPPED[name].replace(etree.QName(TREES[name]).namespace or "", draw(st.sampled_from(NAMESPACES)))
    elif kind == "stray characters":
        at = draw(st.integers(0, len(SHIPPED[name])))
        text = SHIPPED[name][:at] + draw(GARBAGE) + SHIPPED[name][at:]
    return name, text


def run_mutant(name: str, text: str) -> list[str]:
    files = {**FORMS, **{n: SHIPPED[n] for n in DEPENDENCIES[name]}, name: text}
    lines = check(files)
    assert all(LINE.match(line) and "\n" not in line for line in lines), lines
    return lines


def fuzz(examples: int, phases: tuple[Phase, ...] = tuple(Phase)) -> Callable[[], None]:
    @settings(max_examples=examples, derandomize=True, deadline=None, database=None, phases=phases,
              suppress_health_check=list(HealthCheck))
    @given(mutants())
    def run(mutant: tuple[str, str]) -> None:
        run_mutant(*mutant)
    return run


def test_two_thousand_mutants_of_the_shipped_diagrams_never_crash_the_check():
    fuzz(2000)()


def test_the_untouched_diagrams_pass():
    for name in DIAGRAMS:
        assert run_mutant(name, SHIPPED[name]) == [], name


def test_a_crash_inside_a_rule_becomes_a_cannot_check_line(monkeypatch):
    def broken(_name: str, _root: Any) -> list[str]:
        raise IndexError("list index out of range")

    monkeypatch.setattr(check_module, "check_di", broken)
    lines = run_mutant("shared/approval_chain.bpmn", SHIPPED["shared/approval_chain.bpmn"])
    assert ("shared/approval_chain.bpmn:-: cannot check diagram interchange: IndexError: list index out of range"
            in lines), lines


def test_the_fuzzer_catches_a_crash_that_escapes_the_guard(monkeypatch):
    """Negative control: with the guard removed, a rule that fails on some mutants fails the fuzzer."""
    def unguarded(problems: list[str], _name: str, _label: str, run: Callable[[], Any], *, report: bool = True):
        found = list(run())
        if report:
            problems.extend(found)
        return found

    def fragile(name: str, root: Any) -> list[str]:
        return [f"{name}:-: {root.get('id')[0]}"]  # TypeError when a mutant deleted the root's id

    monkeypatch.setattr(check_module, "_guarded", unguarded)
    monkeypatch.setattr(check_module, "check_di", fragile)
    with pytest.raises(Exception):  # noqa: B017 -- any exception: the fuzzer found the crash
        fuzz(300, phases=(Phase.generate,))()  # no shrinking: finding the crash is the point
