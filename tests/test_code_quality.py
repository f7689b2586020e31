"""Lint, layering, types and schema drift are part of the suite, so CI fails on them like on any test."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from engine.persistence.db import make_engine
from engine.persistence.tables import Base

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# A file named in code, tests or docs: a path from the repository root, or a bare document name.
FILE_REFERENCE = re.compile(r"(?<![\w./{-])((?:docs|bpmn|engine|connectors|web|tests)/[\w./-]+"
                            r"\.(?:md|py|json|bpmn|dmn|csv)|[\w-]+\.md)\b")
PACKAGES = ("engine", "connectors", "web", "tests")
ROADMAP_TAG = re.compile(r"[\[(]\d+/\d+[\])]")  # step 3 of 5, bracketed: a plan the reader cannot see


def written_text() -> Iterator[tuple[str, int, str]]:
    """(file, line number, line) of every source, test and document of the repository."""
    paths = [*ROOT.glob("*.md"), *ROOT.glob("docs/*.md"), *ROOT.glob("bpmn/**/*.md"), ROOT / "pyproject.toml"]
    for package in PACKAGES:
        paths.extend(ROOT.glob(f"{package}/**/*.py"))
    for path in sorted(paths):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            yield str(path.relative_to(ROOT)), number, line


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)


def test_ruff_finds_nothing():
    result = run(sys.executable, "-m", "ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_layers_hold():
    result = run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_no_type_errors(tmp_path):
    """engine/ and connectors/ type-check under [tool.mypy] in pyproject.toml (a cache of its own: a fresh run)."""
    result = run(sys.executable, "-m", "mypy", "engine", "connectors", "--cache-dir", str(tmp_path / "mypy"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_file_a_comment_or_document_names_is_in_the_repository():
    folders = (*PACKAGES, "docs", "bpmn")
    documents = {path.name for path in ROOT.glob("*.md")} | {
        path.name for folder in folders for path in (ROOT / folder).glob("**/*.md")}
    missing = [f"{where}:{number}: {name}" for where, number, line in written_text()
               for name in FILE_REFERENCE.findall(line)
               if not ((ROOT / name).exists() if "/" in name else name in documents)]
    assert missing == [], "references to files that are not in the repository:\n" + "\n".join(missing)


def test_no_roadmap_tags_in_code_or_documents():
    tagged = [f"{where}:{number}: {line.strip()}" for where, number, line in written_text()
              if ROADMAP_TAG.search(line)]
    assert tagged == [], "say what a step is in words, not as a tag of a plan:\n" + "\n".join(tagged)


def test_migrations_build_exactly_the_declared_schema(db_url):
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_no_test_package_shadows_a_package_a_test_script_imports():
    """tests/crash_worker.py runs as a script, with tests/ first on sys.path: a package named connectors under
    tests once hid the real connectors package from it (ModuleNotFoundError in every crash-safety test)."""
    tests = Path(__file__).parent
    imported = {"engine", "connectors", "bpmn"}  # what the scripts directly under tests/ import
    shadowing = sorted(p.name for p in tests.iterdir() if p.is_dir() and p.name in imported)
    assert shadowing == [], f"rename tests/{shadowing[0]}: it hides the package of that name from test scripts"
