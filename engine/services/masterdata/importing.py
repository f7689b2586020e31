"""Master data use cases: import a data-dictionary folder, seed the demo company.

Open the folder without trusting it (``folder.py``), stream and validate it completely
(engine.domain.masterdata), then bring the database in line with it in one transaction: all
of it or, on any problem, none.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.domain.masterdata.dictionary import parse_dictionary, require_unchanged_version
from engine.domain.masterdata.records import ImportSummary, MasterData
from engine.seed import demo_folder
from engine.services.masterdata.folder import ReadLimits, open_folder
from engine.services.ports import MasterDataStoreFactory

DEFAULT_LIMITS = ReadLimits()


def load_folder(path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> MasterData:
    """Read and validate a dictionary folder; MasterDataInvalid lists every problem."""
    with open_folder(path, limits) as folder:
        return parse_dictionary(folder.files, unexpected=folder.unexpected)


IMPORT_STEPS = 3  # read and check the folder, bring the database in line, commit: what ``step`` counts


def import_master_data(path: Path, store_factory: MasterDataStoreFactory, *,
                       limits: ReadLimits = DEFAULT_LIMITS, step: Callable[[], None] | None = None) -> ImportSummary:
    """Import the dictionary folder at ``path``: all of it in one transaction, or nothing.

    ``step`` is called after each of the IMPORT_STEPS phases (a progress bar for a large dictionary).
    """
    done = step or (lambda: None)
    data = load_folder(path, limits)
    done()
    with store_factory() as store:
        require_unchanged_version(data, store.imported_checksum(data.manifest.version))
        summary = store.apply(data)
        done()
        # Re-importing the same folder changes nothing, and records nothing either.
        if summary.changed or not store.was_imported(data.checksum):
            store.record_import(summary, source=str(path.resolve()))
        store.commit()
    done()
    return summary


def seed_demo(store_factory: MasterDataStoreFactory) -> ImportSummary:
    """Import the shipped demo company (青禾智造); running it again changes nothing."""
    return import_master_data(demo_folder(), store_factory)
