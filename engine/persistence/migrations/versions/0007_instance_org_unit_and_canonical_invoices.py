"""Store each document's org unit with its instance; claimed invoices in their canonical form.

``process_instance.org_unit``: the applicant's unit when the document was made, set by the
engine. Budget operators take the budget line's unit from here, never from task data (a form
could otherwise reserve another department's budget). Existing instances get their
applicant's current unit.

``claimed_invoice``: invoice codes and numbers are compared and stored in one canonical form
(engine/domain/identifiers.py: NFKC, no spaces or format characters, case folded), so that
``０１２３`` and ``0123`` are the same invoice. Rows are rewritten to that form; where two rows
turn out to be the same invoice (it was paid twice before this check), the later one keeps
its old spelling and is reported, for finance to review.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.domain.identifiers import InvalidIdentifier, canonical_identifier

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("org_unit", sa.String(length=64), nullable=True))
    op.execute("UPDATE process_instance SET org_unit = (SELECT org_unit.code FROM employee "
               "JOIN org_unit ON org_unit.id = employee.org_unit_id WHERE employee.code = process_instance.applicant)")
    _canonical_invoices(op.get_bind())


def _canonical_invoices(conn: sa.Connection) -> None:
    rows = conn.execute(sa.text("SELECT id, invoice_code, invoice_number, document_no FROM claimed_invoice "
                                "ORDER BY id")).all()
    taken = {(code, number) for _, code, number, _ in rows}
    for row_id, code, number, document in rows:
        try:
            canonical = (canonical_identifier(code, field="invoice_code", max_length=40, required=False),
                         canonical_identifier(number, field="invoice_number", max_length=40))
        except InvalidIdentifier as exc:
            print(f"claimed_invoice {row_id} ({document}): left as it is: {exc}")
            continue
        if canonical == (code, number):
            continue
        if canonical in taken:
            print(f"claimed_invoice {row_id} ({document}): invoice {canonical[0]}-{canonical[1]} was claimed "
                  "more than once; review it")
            continue
        conn.execute(sa.text("UPDATE claimed_invoice SET invoice_code = :c, invoice_number = :n WHERE id = :i"),
                     {"c": canonical[0], "n": canonical[1], "i": row_id})
        taken.discard((code, number))
        taken.add(canonical)


def downgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_column("org_unit")
