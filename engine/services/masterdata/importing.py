"""Master data use cases: import a data-dictionary folder, seed the demo company.

Open the folder without trusting it (``folder.py``), stream and validate it completely
(engine.domain.masterdata), then bring the database in line with it in one transaction: all
of it or, on any problem, none.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from engine.domain.masterdata.dictionary import parse_dictionary, require_unchanged_version
from engine.domain.masterdata.records import ImportSummary, MasterData
from engine.seed import demo_folder
from engine.services.masterdata.folder import ReadLimits, open_folder

DEFAULT_LIMITS = ReadLimits()


class MasterDataStore(Protocol):
    """One import's transaction (implemented by engine.persistence.masterdata_repository)."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Roll back unless committed."""

    def commit(self) -> None: ...

    def imported_checksum(self, version: str) -> str | None:
        """The checksum ``version`` was last imported with; None if never."""

    def was_imported(self, checksum: str) -> bool: ...

    def apply(self, data: MasterData) -> ImportSummary:
        """Upsert everything and book budget changes; MasterDataInvalid if the database refuses some of it."""

    def record_import(self, summary: ImportSummary, *, source: str) -> None: ...


def load_folder(path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> MasterData:
    """Read and validate a dictionary folder; MasterDataInvalid lists every problem."""
    with open_folder(path, limits) as folder:
        return parse_dictionary(folder.files, unexpected=folder.unexpected)


def import_master_data(path: Path, store: MasterDataStore, *, limits: ReadLimits = DEFAULT_LIMITS) -> ImportSummary:
    """Import the dictionary folder at ``path``: all of it in one transaction, or nothing."""
    data = load_folder(path, limits)
    with store:
        require_unchanged_version(data, store.imported_checksum(data.manifest.version))
        summary = store.apply(data)
        # Re-importing the same folder changes nothing, and records nothing either.
        if summary.changed or not store.was_imported(data.checksum):
            store.record_import(summary, source=str(path.resolve()))
        store.commit()
    return summary


def seed_demo(store: MasterDataStore) -> ImportSummary:
    """Import the shipped demo company (青禾智造); running it again changes nothing."""
    return import_master_data(demo_folder(), store)
