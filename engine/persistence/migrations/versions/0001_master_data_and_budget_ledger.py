"""Master data and the budget ledger.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-27 20:44:21.631524
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.persistence.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('currency',
    sa.Column('code', sa.String(length=3), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('minor_units', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('expense_subject',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('gl_kingdee', sa.String(length=64), nullable=True),
    sa.Column('gl_yonyou', sa.String(length=64), nullable=True),
    sa.Column('gl_sap', sa.String(length=64), nullable=True),
    sa.Column('tax_treatment', sa.String(length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('ledger_operation',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('created_at', engine.persistence.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('master_data_import',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('imported_at', engine.persistence.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('org_unit',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('manager_code', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('role',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('cost_center',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('cost_center', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cost_center_org_unit_id'), ['org_unit_id'], unique=False)

    op.create_table('employee',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dingtalk_userid', sa.String(length=100), nullable=True),
    sa.Column('wecom_userid', sa.String(length=100), nullable=True),
    sa.Column('feishu_open_id', sa.String(length=100), nullable=True),
    sa.Column('erp_employee_code', sa.String(length=64), nullable=True),
    sa.Column('erp_vendor_code', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    sa.UniqueConstraint('dingtalk_userid'),
    sa.UniqueConstraint('feishu_open_id'),
    sa.UniqueConstraint('wecom_userid')
    )
    with op.batch_alter_table('employee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_employee_org_unit_id'), ['org_unit_id'], unique=False)

    op.create_table('budget_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_key', sa.String(length=300), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('cost_center_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project', sa.String(length=64), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('control_mode', sa.String(length=8), nullable=False),
    sa.Column('tolerance_pct', engine.persistence.types.ExactDecimal(), nullable=False),
    sa.Column('budget', engine.persistence.types.ExactDecimal(), nullable=False),
    sa.Column('reserved', engine.persistence.types.ExactDecimal(), nullable=False),
    sa.Column('consumed', engine.persistence.types.ExactDecimal(), nullable=False),
    sa.Column('created_at', engine.persistence.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cost_center_id'], ['cost_center.id'], ),
    sa.ForeignKeyConstraint(['currency'], ['currency.code'], ),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], ),
    sa.ForeignKeyConstraint(['subject_id'], ['expense_subject.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('line_key')
    )
    op.create_table('employee_role',
    sa.Column('employee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role_code', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employee.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_code'], ['role.code'], ),
    sa.PrimaryKeyConstraint('employee_id', 'role_code')
    )
    op.create_table('reservation',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_ref', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', engine.persistence.types.ExactDecimal(), nullable=False),
    sa.Column('consumed', engine.persistence.types.ExactDecimal(), nullable=False),
    sa.Column('released', engine.persistence.types.ExactDecimal(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_at', engine.persistence.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', engine.persistence.types.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['line_id'], ['budget_line.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reservation_document_ref'), ['document_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_reservation_line_id'), ['line_id'], unique=False)

    op.create_table('ledger_entry',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('amount', engine.persistence.types.ExactDecimal(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('budget_delta', engine.persistence.types.ExactDecimal(), nullable=False),
    sa.Column('reserved_delta', engine.persistence.types.ExactDecimal(), nullable=False),
    sa.Column('consumed_delta', engine.persistence.types.ExactDecimal(), nullable=False),
    sa.Column('reservation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('operation_key', sa.String(length=200), nullable=False),
    sa.Column('document_ref', sa.String(length=200), nullable=True),
    sa.Column('over_budget', sa.Boolean(), nullable=False),
    sa.Column('memo', sa.String(length=500), nullable=True),
    sa.Column('created_at', engine.persistence.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['line_id'], ['budget_line.id'], ),
    sa.ForeignKeyConstraint(['reservation_id'], ['reservation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entry_line', ['line_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entry_operation_key'), ['operation_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entry_reservation_id'), ['reservation_id'], unique=False)



    _append_only("ledger_entry")
    role = sa.table("role", sa.column("code", sa.String), sa.column("name", sa.String))
    op.bulk_insert(role, [{"code": code, "name": name} for code, name in ROLES])


ROLES = [
    ("employee", "Employee 员工"),
    ("manager", "Manager 部门经理"),
    ("finance", "Finance 财务"),
    ("budget_admin", "Budget administrator 预算管理员"),
    ("process_designer", "Process designer 流程设计"),
    ("auditor", "Auditor 审计"),
    ("admin", "Administrator 系统管理员"),
]


def _append_only(table: str) -> None:
    """Refuse UPDATE and DELETE on ``table`` in the database itself, not only in our code."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION budgetflow_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION budgetflow_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )

def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_entry")
        op.execute("DROP FUNCTION IF EXISTS budgetflow_append_only()")
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entry_reservation_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_entry_operation_key'))
        batch_op.drop_index('ix_ledger_entry_line')

    op.drop_table('ledger_entry')
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reservation_line_id'))
        batch_op.drop_index(batch_op.f('ix_reservation_document_ref'))

    op.drop_table('reservation')
    op.drop_table('employee_role')
    op.drop_table('budget_line')
    with op.batch_alter_table('employee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_employee_org_unit_id'))

    op.drop_table('employee')
    with op.batch_alter_table('cost_center', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cost_center_org_unit_id'))

    op.drop_table('cost_center')
    op.drop_table('role')
    op.drop_table('org_unit')
    op.drop_table('master_data_import')
    op.drop_table('ledger_operation')
    op.drop_table('expense_subject')
    op.drop_table('currency')
