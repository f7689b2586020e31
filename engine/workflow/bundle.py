"""A bundle: one deployed set of diagrams (BPMN + DMN), identified by the hash of its files.

Instances store only their state; the specs are parsed once per bundle and kept
in a process-wide cache keyed by the bundle's hash (docs/engine.md, "Model versions").
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser

from engine.domain.forms import PROTECTED_VARIABLES, FormSchema
from engine.workflow.errors import BundleInvalid
from engine.workflow.service_tasks import ConnectorServiceTask
from engine.workflow.timers import clock_timers

DIAGRAM_SUFFIXES = (".bpmn", ".dmn")
# A form's file name: ours, and SpiffArena's ``<name>-schema.json`` beside the diagram (its ``-uischema.json``
# is a layout, not a form, and does not match). Any other .json file is not read (``FolderFiles.unread``).
FORM_SUFFIXES = (".schema.json", "-schema.json")
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


class BudgetflowParser(SpiffBpmnParser):
    # Copy before changing: updating the inherited dict would change SpiffBpmnParser for everyone.
    OVERRIDE_PARSER_CLASSES = dict(SpiffBpmnParser.OVERRIDE_PARSER_CLASSES)
    OVERRIDE_PARSER_CLASSES[full_tag("serviceTask")] = (ServiceTaskParser, ConnectorServiceTask)


@dataclass
class Bundle:
    sha256: str
    files: dict[str, str]  # relative path -> text; forms included
    processes: dict[str, tuple[Any, dict[str, Any]]] = field(default_factory=dict)  # id -> (spec, subprocess specs)
    # What the engine, not a person, sets: PROTECTED_VARIABLES and every variable a service task,
    # an error or message event, a DMN table or a multi-instance item of these diagrams writes.
    protected: frozenset[str] = PROTECTED_VARIABLES
    _forms: dict[str, FormSchema] = field(default_factory=dict, repr=False)

    def spec(self, process_id: str) -> tuple[Any, dict[str, Any]]:
        try:
            return self.processes[process_id]
        except KeyError:
            raise BundleInvalid([f"no executable process {process_id!r} in bundle {self.sha256[:12]}"]) from None

    def form(self, diagram_file: str, form_name: str) -> FormSchema:
        """The compiled schema a user task of ``diagram_file`` names (parsed once per bundle)."""
        path = resolve_form_path(self.files, diagram_file, form_name)
        if path is None:
            raise BundleInvalid([f"{diagram_file}: form {form_name!r} is not in bundle {self.sha256[:12]}"])
        found = self._forms.get(path)
        if found is None:
            try:
                found = self._forms[path] = FormSchema(json.loads(self.files[path]), name=path)
            except ValueError as exc:  # not JSON, or not a usable schema: a deploy-time check missed it
                raise BundleInvalid([f"{path}: {exc}"]) from None
        return found


def resolve_form_path(files: Mapping[str, str], diagram_file: str, form_name: str) -> str | None:
    """Where a user task's ``formJsonSchemaFilename`` points: beside the diagram, in its forms/ folder, or as given."""
    folder = posixpath.dirname(diagram_file)
    for joined in (posixpath.join(folder, form_name), posixpath.join(folder, "forms", form_name), form_name):
        candidate = posixpath.normpath(joined)
        if candidate in files:
            return candidate
    return None


def engine_variables(trees: Iterable[Any]) -> frozenset[str]:
    """Variables the diagrams' machinery writes (service results, error/message payloads, DMN outputs, MI items)."""
    found: set[str] = set()
    for tree in trees:
        for element in tree.iter():
            if not isinstance(element.tag, str):
                continue
            local = etree.QName(element).localname
            if element.tag == f"{SPIFF}serviceTaskOperator":
                found.add(element.get("resultVariable") or "")
            elif element.tag in (f"{SPIFF}variableName", f"{SPIFF}messageVariable", f"{BPMN}loopDataOutputRef"):
                found.add((element.text or "").strip())
            elif element.tag in (f"{BPMN}inputDataItem", f"{BPMN}outputDataItem") or local == "output":
                found.add(element.get("name") or "")
    return frozenset(found - {""})


class FolderFiles(dict[str, str]):
    """What ``read_folder`` read (path -> text), and what ``bpmn check`` needs to say about the rest:
    ``unread``, the folder's other .json files (a form named ``x.json`` "is there, under a name that is not
    read", not "not found"); ``undecodable``, diagram or form files that are not UTF-8 (path -> why)."""

    unread: tuple[str, ...] = ()
    undecodable: dict[str, str]

    def __init__(self) -> None:
        super().__init__()
        self.undecodable = {}


def is_form_file(name: str) -> bool:
    return name.endswith(FORM_SUFFIXES)


def read_folder(folder: Path) -> FolderFiles:
    """Every diagram and form file under ``folder``, keyed by its path relative to it."""
    files, unread = FolderFiles(), []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(folder).as_posix()
        if path.suffix in DIAGRAM_SUFFIXES or is_form_file(path.name):
            try:
                files[name] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:  # e.g. an ISO-8859-1 diagram: said by the check, never a crash
                files.undecodable[name] = (f"the file is not UTF-8 text (byte {exc.object[exc.start]:#04x} at "
                                           f"offset {exc.start}); save it as UTF-8")
        elif path.suffix == ".json":
            unread.append(name)
    files.unread = tuple(unread)
    return files


def content_hash(files: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return digest.hexdigest()


def parse(files: Mapping[str, str]) -> Bundle:
    """Parse every diagram; raise BundleInvalid with ``file:element-id: message`` lines."""
    parser = BudgetflowParser(validator=VALIDATOR)
    problems: list[str] = []
    trees = []
    for name, text in sorted(files.items()):
        if not name.endswith(DIAGRAM_SUFFIXES):
            continue
        tree = None
        try:
            tree = etree.fromstring(text.encode("utf-8"), parser=safe_parser())
            trees.append(tree)
            if name.endswith(".dmn"):
                parser.add_dmn_xml(tree, filename=name)
            else:
                parser.add_bpmn_xml(tree, filename=name)
        except (ValidationException, etree.XMLSyntaxError, ValueError) as exc:
            problems.append(_describe(name, exc, tree))
        except Exception as exc:  # noqa: BLE001 -- SpiffWorkflow's parser fails on odd files with bare errors
            problems.append(f"{name}:-: SpiffWorkflow cannot read this file ({type(exc).__name__}: {exc})")
    bundle = Bundle(sha256=content_hash(files), files=dict(files),
                    protected=PROTECTED_VARIABLES | engine_variables(trees))
    for process_id in parser.get_process_ids() if not problems else []:
        home = _file_of(parser, process_id, files)
        try:
            spec, subprocess_specs = parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
            clock_timers([spec, *subprocess_specs.values()])
            bundle.processes[process_id] = (spec, subprocess_specs)
        except ValidationException as exc:
            problems.append(_describe(getattr(exc, "file_name", "") or home, exc))
        except Exception as exc:  # noqa: BLE001 -- e.g. an IndexError from a DMN table SpiffWorkflow cannot read
            problems.append(f"{home}:{process_id}: SpiffWorkflow cannot build this process "
                            f"({type(exc).__name__}: {exc})")
    if problems:
        raise BundleInvalid(problems)
    return bundle


def safe_parser() -> etree.XMLParser:
    """A parser for uploaded diagrams: no entity expansion (no local file read into a diagram), no network."""
    return etree.XMLParser(resolve_entities=False, no_network=True)


def _file_of(parser: Any, process_id: str, files: Mapping[str, str]) -> str:
    """The diagram that defines ``process_id`` (a message never says ``?`` for its file)."""
    found = getattr(parser.process_parsers.get(process_id), "filename", None)
    return str(found) if found else (sorted(n for n in files if n.endswith(DIAGRAM_SUFFIXES)) or ["-"])[0]


def _describe(name: str, exc: Exception, tree: Any = None) -> str:
    """``file:element-id: message``; a schema error names the nearest element with an id around its line."""
    line = getattr(exc, "line_number", None) or getattr(exc, "lineno", None)
    element = getattr(exc, "id", None) or _id_at_line(tree, line) or (f"line {line}" if line else "-")
    message = getattr(exc, "msg", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
    message = message.replace("{http://www.omg.org/spec/BPMN/20100524/MODEL}", "bpmn:").split(" Expected is")[0]
    internal = _INTERNAL.match(message.rstrip(". "))  # SpiffWorkflow wrapped one of its own errors: say whose it is
    if internal:
        message = f"SpiffWorkflow cannot read this element ({internal['kind']}: {internal['text']})"
    file_name = getattr(exc, "file_name", None) or name
    return f"{file_name}:{str(element).replace(':', '_') or '-'}: {message.rstrip('. ') or type(exc).__name__}"


# A parser message that is the repr of a Python exception, e.g. TypeError("... got an unexpected keyword ...")
_INTERNAL = re.compile(r"^(?P<kind>[A-Z]\w*(?:Error|Exception))\((?P<q>['\"])(?P<text>.*)(?P=q)\)$", re.DOTALL)


def _id_at_line(tree: Any, line: int | None) -> str | None:
    if tree is None or not line:
        return None
    hits = [el for el in tree.iter() if isinstance(el.tag, str) and el.sourceline == line]
    for el in hits:
        node = el
        while node is not None and not node.get("id"):
            node = node.getparent()
        if node is not None:
            return str(node.get("id"))
    return None


_CACHE: dict[str, Bundle] = {}
_CACHE_LOCK = threading.Lock()


def cached(sha256: str, load_files: Any) -> Bundle:
    """The parsed bundle for ``sha256``; ``load_files()`` supplies its files on a cache miss."""
    bundle = _CACHE.get(sha256)
    if bundle is None:
        with _CACHE_LOCK:
            bundle = _CACHE.get(sha256)
            if bundle is None:
                bundle = _CACHE[sha256] = parse(load_files())
    return bundle


def remember(bundle: Bundle) -> None:
    with _CACHE_LOCK:
        _CACHE[bundle.sha256] = bundle
