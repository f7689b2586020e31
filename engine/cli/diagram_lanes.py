"""Which lanes `bpmn check` judges a diagram by: those of the data dictionary the diagrams will run with.

A designer who adds a lane edits the dictionary's lanes.csv and the diagram together, so every command
that checks a folder of diagrams takes the lanes of the dictionary it will use: the one given with
``--dictionary``, else the configured database's imported one, else the built-in lanes.
"""

from __future__ import annotations

from pathlib import Path

from engine.cli.context import App
from engine.persistence import schema
from engine.services import read_models
from engine.services.lanes import dictionary_lanes, known_lanes
from engine.services.masterdata.folder import ReadLimits


def lanes_of(app: App, dictionary: Path) -> dict[str, str]:
    """The lanes of the dictionary folder ``dictionary`` (MasterDataInvalid, naming every problem, if invalid)."""
    settings = app.settings
    return dictionary_lanes(dictionary, ReadLimits(settings.masterdata_max_bytes, settings.masterdata_max_total_bytes))


def lanes_for(app: App, dictionary: Path | None) -> dict[str, str] | None:
    """``dictionary``'s lanes when given; else the configured database's, if it is set up; else None (built-ins)."""
    if dictionary is not None:
        return lanes_of(app, dictionary)
    if read_models.schema_revision(app.reader) != schema.head_revision():
        return None  # no database yet (a designer's laptop) or an older one: the built-in lanes
    with app.reader() as uow:
        return known_lanes(uow)
