"""Which lanes a diagram may use: those of the data dictionary the diagrams will run with.

A designer who adds a lane edits the dictionary's lanes.csv and the diagram together, so every command
that checks or lists lanes takes the lanes of the dictionary it will use: the one given with
``--dictionary``, else the configured database's imported one, else the built-in lanes (a designer's
laptop with no database yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.cli.context import App
from engine.domain.lanes import LaneRule, in_force, lane_catalog
from engine.persistence import schema
from engine.persistence.db_errors import DatabaseMissing
from engine.services import read_models
from engine.services.masterdata.folder import ReadLimits
from engine.services.masterdata.importing import load_folder


@dataclass(frozen=True)
class LaneSource:
    rules: list[LaneRule]  # in force: the dictionary's, then the built-ins it does not name
    from_dictionary: frozenset[str]  # lanes the dictionary itself declares
    where: str  # "folder", "database" or "built-in"


def lane_source(app: App, dictionary: Path | None) -> LaneSource:
    """``dictionary``'s lanes when given (MasterDataInvalid, naming every problem, if it is not a valid one);
    else the configured database's, if it is set up; else the built-ins."""
    if dictionary is not None:
        settings = app.settings
        limits = ReadLimits(settings.masterdata_max_bytes, settings.masterdata_max_total_bytes)
        declared = list(load_folder(dictionary, limits).lanes)
        return LaneSource(in_force(declared), frozenset(r.lane for r in declared), "folder")
    if not _set_up(app):
        return LaneSource(in_force([]), frozenset(), "built-in")
    with app.reader() as uow:
        declared = uow.lanes.rules()
    return LaneSource(in_force(declared), frozenset(r.lane for r in declared), "database")


def lanes_of(app: App, dictionary: Path) -> dict[str, str]:
    """Lane name → description of the dictionary folder ``dictionary``."""
    return lane_catalog(lane_source(app, dictionary).rules)


def lanes_for(app: App, dictionary: Path | None) -> dict[str, str]:
    """Lane name → description: ``dictionary``'s when given, else the configured database's, else the built-ins."""
    return lane_catalog(lane_source(app, dictionary).rules)


def _set_up(app: App) -> bool:
    """Whether the configured database exists at the current schema (not on a designer's laptop without one)."""
    try:
        return read_models.schema_revision(app.reader) == schema.head_revision()
    except DatabaseMissing:
        return False
