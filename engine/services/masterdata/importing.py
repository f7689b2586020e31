"""Master data use cases: import a data-dictionary folder, seed the demo company.

Open the folder without trusting it (``folder.py``), stream and validate it completely
(engine.domain.masterdata), then bring the database in line with it in one transaction: all
of it or, on any problem, none.
"""

from __future__ import annotations

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


def import_master_data(path: Path, store_factory: MasterDataStoreFactory, *,
                       limits: ReadLimits = DEFAULT_LIMITS) -> ImportSummary:
    """Import the dictionary folder at ``path``: all of it in one transaction, or nothing."""
    data = load_folder(path, limits)
    with store_factory() as store:
        require_unchanged_version(data, store.imported_checksum(data.manifest.version))
        summary = store.apply(data)
        # Re-importing the same folder changes nothing, and records nothing either.
        if summary.changed or not store.was_imported(data.checksum):
            store.record_import(summary, source=str(path.resolve()))
        store.commit()
    return summary


def seed_demo(store_factory: MasterDataStoreFactory) -> ImportSummary:
    """Import the shipped demo company (青禾智造); running it again changes nothing."""
    return import_master_data(demo_folder(), store_factory)
