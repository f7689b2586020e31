"""Master data use cases: import a data-dictionary folder, seed the demo company.

Read the folder, validate it completely (engine.domain.masterdata), then bring the
database in line with it in one transaction: all of it or, on any problem, none.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from engine.domain.errors import MasterDataInvalid
from engine.domain.masterdata import parse_dictionary, require_unchanged_version
from engine.domain.masterdata_fields import MANIFEST
from engine.domain.masterdata_records import ImportSummary, MasterData
from engine.seed import demo_folder


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


def read_folder(path: Path) -> dict[str, bytes]:
    """The folder's ``manifest.toml`` and ``*.csv`` files by name; other files (a README, say) are ignored."""
    if not path.is_dir():
        raise MasterDataInvalid([f"{path}:-:-: is not a folder"])
    try:
        return {file.name: file.read_bytes() for file in sorted(path.iterdir())
                if file.is_file() and (file.suffix.lower() == ".csv" or file.name == MANIFEST)}
    except OSError as exc:
        raise MasterDataInvalid([f"{exc.filename or path}:-:-: cannot be read ({exc.strerror})"]) from None


def load_folder(path: Path) -> MasterData:
    """Read and validate a dictionary folder; MasterDataInvalid lists every problem."""
    return parse_dictionary(read_folder(path))


def import_master_data(path: Path, store: MasterDataStore) -> ImportSummary:
    """Import the dictionary folder at ``path``: all of it in one transaction, or nothing."""
    data = load_folder(path)
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
