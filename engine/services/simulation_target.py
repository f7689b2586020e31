"""May ``simulate`` write into the configured database? Only if that holds nothing but the demo company.

A company's database must never get the demo company's master data, nor its budgets reset
to the demo's (an import books ADJUST entries for changed amounts), nor fail half-way on a
line whose budget was used. So ``simulate --into-configured-database`` runs only on a
database with no master data at all, or one whose master data came only from the demo's
dictionary and would not change by importing it again (checked by importing it in a
transaction that is rolled back). Everything else is refused before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Self

from engine.domain.errors import BudgetflowError, MasterDataInvalid
from engine.domain.masterdata.records import ImportSummary, MasterData
from engine.services import read_models
from engine.services.masterdata.folder import ReadLimits
from engine.services.masterdata.importing import import_master_data, load_folder
from engine.services.ports import MasterDataStore, MasterDataStoreFactory
from engine.services.read_models import Reader


class NotTheDemo(BudgetflowError):
    """The configured database holds data other than the demo company's: simulate stays out of it."""

    code = "NOT_THE_DEMO"


def refuse_unless_demo_only(reader: Reader, stores: MasterDataStoreFactory, demo: Path, limits: ReadLimits) -> None:
    """Raise NotTheDemo unless the demo's dictionary can be imported without changing anything that is there."""
    imports = read_models.master_data_imports(reader)
    checksum = load_folder(demo, limits).checksum
    foreign = [i for i in imports if i["checksum"] != checksum]
    if foreign:
        last = foreign[-1]
        raise NotTheDemo(f"it holds master data {last['version']} imported from {last['source']}, not the demo "
                         "company's")
    if not imports:
        if read_models.master_data_rows(reader):
            raise NotTheDemo("it holds employees or budget lines that were not imported from the demo company")
        return  # an empty database: the demo company goes in
    try:
        summary = import_master_data(demo, lambda: _RolledBack(stores()), limits=limits)
    except MasterDataInvalid as exc:
        raise NotTheDemo(f"importing the demo company again would fail: {exc.problems[0]}") from None
    if summary.changed or summary.adjustments:
        raise NotTheDemo(f"its master data differs from the demo company's now ({_changes(summary)}); importing "
                         "the demo again would change it")


def _changes(summary: ImportSummary) -> str:
    changed = [f"{name} {c.created} new, {c.updated} changed" for name, c in summary.counts.items()
               if c.created or c.updated]
    if summary.oa_forms_removed:  # mappings are replaced, so a removed one is a change too
        changed.append(f"oa_forms {summary.oa_forms_removed} removed")
    if summary.posting_rules_removed:
        changed.append(f"posting_rules {summary.posting_rules_removed} removed")
    return "; ".join(changed) or f"{summary.adjustments} budget adjustment(s)"


class _RolledBack:
    """A master-data store whose commit does nothing: leaving it rolls everything back."""

    def __init__(self, inner: MasterDataStore) -> None:
        self.inner = inner

    def __enter__(self) -> Self:
        self.inner.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.inner.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        """Deliberately nothing: this import is only asked what it would change."""

    def imported_checksum(self, version: str) -> str | None:
        return self.inner.imported_checksum(version)

    def was_imported(self, checksum: str) -> bool:
        return self.inner.was_imported(checksum)

    def apply(self, data: MasterData) -> ImportSummary:
        return self.inner.apply(data)

    def record_import(self, summary: ImportSummary, *, source: str) -> None:
        self.inner.record_import(summary, source=source)
