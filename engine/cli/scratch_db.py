"""A throwaway SQLite database in a folder of its own: what `simulate`, `bpmn test` and `bpmn replay` run in.

It has its own audit key and anchor (in its folder), so nothing of the configured database,
its key or its anchor is touched; the folder is removed afterwards unless the caller keeps it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from engine.audit_anchoring import anchor_store
from engine.bootstrap import Container, build
from engine.config import Settings
from engine.persistence import schema
from engine.persistence.audit_anchor_file import AnchorFile


@dataclass(frozen=True)
class Scratch:
    container: Container
    anchor: AnchorFile
    folder: Path
    kept: bool


@contextmanager
def scratch_database(settings: Settings, *, keep: Path | None = None, prefix: str = "budgetflow-") -> Iterator[Scratch]:
    """A migrated, empty database in ``keep`` (kept) or in a temporary folder (removed on the way out)."""
    folder = keep.resolve() if keep else Path(tempfile.mkdtemp(prefix=prefix))
    folder.mkdir(parents=True, exist_ok=True)
    scratch_settings = replace(settings, instance_dir=folder, database_url=f"sqlite:///{folder / 'budgetflow.db'}")
    container = build(scratch_settings, audit_environ={})  # its own key and anchor, in its own folder
    try:
        schema.upgrade(container.engine)
        yield Scratch(container, anchor_store(scratch_settings, {}), folder=folder, kept=keep is not None)
    finally:
        container.dispose()
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
