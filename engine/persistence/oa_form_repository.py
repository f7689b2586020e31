"""The OA form mappings of the data dictionary (table ``oa_form``, written by the master-data import).

One row per OA template; its controls are a JSON list in ``fields``. ``SqlOaForms`` is ``uow.oa_forms``:
the callback worker finds the mapping of a finished OA approval by vendor and template (mode 1), and
``oa/CreateApproval`` the template a process creates approvals of (mode 2).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from engine.domain.oa_forms import OaForm, OaFormField
from engine.persistence.oa_tables import OaForm as OaFormRow

_TABLE = OaFormRow.__table__


def fields_json(form: OaForm) -> str:
    """The ``fields`` column: the controls in order, keys sorted, so equal mappings store equal text."""
    return json.dumps([{"field": f.field, "oa_field": f.oa_field, "type": f.type, "required": f.required}
                       for f in form.fields], ensure_ascii=False, sort_keys=True)


def form_of(row: Any) -> OaForm:
    """A stored row (ORM or Core) as the domain's mapping."""
    fields = tuple(OaFormField(field=f["field"], oa_field=f["oa_field"], type=f["type"], required=bool(f["required"]))
                   for f in json.loads(row.fields))
    return OaForm(vendor=row.vendor, template=row.template, direction=row.direction, process_id=row.process_id,
                  fields=fields)


class SqlOaForms:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def by_template(self, vendor: str, template: str) -> OaForm | None:
        row = self._conn.execute(select(_TABLE).where(_TABLE.c.vendor == vendor, _TABLE.c.template == template)
                                 ).first()
        return None if row is None else form_of(row)

    def outgoing(self, vendor: str, process_id: str) -> OaForm | None:
        """The ``out`` form of ``process_id`` in ``vendor``'s OA (the dictionary allows at most one)."""
        row = self._conn.execute(select(_TABLE).where(
            _TABLE.c.vendor == vendor, _TABLE.c.process_id == process_id, _TABLE.c.direction == "out")).first()
        return None if row is None else form_of(row)

    def all(self) -> list[OaForm]:
        rows = self._conn.execute(select(_TABLE).order_by(_TABLE.c.vendor, _TABLE.c.template))
        return [form_of(row) for row in rows]
