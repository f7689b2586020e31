"""Correlation between OA approval instances and budgetflow documents (``oa_external_ref``), and the look-ups
the OA jobs make by OA user id and document number.

An OA instance belongs to at most one document: the primary key (vendor, external id) makes a second claim
fail, which is how an approval the OA reports twice starts one document, never two.
"""

from __future__ import annotations

from sqlalchemy import Engine, delete, select

from engine.persistence.db import read_only, upsert_insert
from engine.persistence.oa_tables import OaExternalRef
from engine.persistence.people_lookups import OA_ID_COLUMNS
from engine.persistence.tables import Employee
from engine.persistence.workflow_tables import ProcessInstance

_ref = OaExternalRef.__table__


class SqlExternalRefs:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def remember(self, vendor: str, external_id: str, document_no: str, kind: str) -> str:
        """Link the OA instance to ``document_no``; the document it belongs to (an earlier link wins)."""
        stmt = upsert_insert(self.engine.dialect, _ref).values(vendor=vendor, external_id=external_id,
                                                              document_no=document_no, kind=kind)
        with self.engine.begin() as conn:
            conn.execute(stmt.on_conflict_do_nothing(index_elements=[_ref.c.vendor, _ref.c.external_id]))
            return str(conn.execute(select(_ref.c.document_no).where(
                _ref.c.vendor == vendor, _ref.c.external_id == external_id)).scalar_one())

    def document_of(self, vendor: str, external_id: str) -> tuple[str, str] | None:
        """(document number, kind) the OA instance belongs to, if any."""
        with read_only(self.engine.connect()) as conn:
            found = conn.execute(select(_ref.c.document_no, _ref.c.kind).where(
                _ref.c.vendor == vendor, _ref.c.external_id == external_id)).first()
        return None if found is None else (str(found.document_no), str(found.kind))

    def forget(self, vendor: str, external_id: str, document_no: str) -> None:
        """Drop the link made for a document that then failed to start (a later event may start it)."""
        with self.engine.begin() as conn:
            conn.execute(delete(_ref).where(_ref.c.vendor == vendor, _ref.c.external_id == external_id,
                                            _ref.c.document_no == document_no))

    def instance_of(self, document_no: str) -> tuple[int, str, str] | None:
        """(instance id, process id, status) of the document."""
        with read_only(self.engine.connect()) as conn:
            found = conn.execute(select(ProcessInstance.id, ProcessInstance.process_id, ProcessInstance.status)
                                 .where(ProcessInstance.business_key == document_no)).first()
        return None if found is None else (int(found.id), str(found.process_id), str(found.status))

    def employee_of(self, vendor: str, oa_id: str) -> str | None:
        """The active employee whose ``vendor`` user id is ``oa_id`` (Feishu: open_id)."""
        column = OA_ID_COLUMNS[vendor]
        with read_only(self.engine.connect()) as conn:
            return conn.execute(select(Employee.code).where(column == oa_id, Employee.active.is_(True))
                                ).scalar_one_or_none()
