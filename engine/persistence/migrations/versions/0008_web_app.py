"""The web app's side of the engine: sign-in, API tokens, document numbers, attachments, inbox columns.

- ``login_account`` (local argon2 password hashes), ``external_identity`` (SSO provider user -> employee),
  ``api_token`` (SHA-256 of bearer secrets, scoped by role);
- ``document_counter``: the last number handed out per prefix and year, taken under a row lock;
- ``attachment``: receipts and e-invoices of a document;
- ``process_instance.subject/amount/currency/purpose``: what the document is about, copied from the run's
  data at every save, and ``withdrawable`` (the run waits for the applicant's withdraw message). Instances
  saved before this migration get theirs at their next step;
- ``human_task.candidate_count`` (1: the person's own task; 2 or more: a pool to claim from; filled here for
  open tasks from the candidate index, 0 for history), ``human_task.delegated_by`` and an index on done tasks
  by person (completed_by, completed_at) for the inbox's "done" view;
- ``human_task_candidate.pool/taken/created_at``: copies of the task's, indexed with the person
  (``ix_human_task_candidate_inbox`` replaces ``ix_human_task_candidate_employee``), so the inbox counts and
  pages a person's own and claimable tasks from that index alone.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 07:05:39
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.persistence.types

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_token',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('employee_code', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('created_at', engine.persistence.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('expires_at', engine.persistence.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', engine.persistence.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', engine.persistence.types.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_employee_code'), ['employee_code'], unique=False)

    op.create_table('document_counter',
    sa.Column('prefix', sa.String(length=8), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('prefix', 'year')
    )
    op.create_table('external_identity',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('employee_code', sa.String(length=64), nullable=False),
    sa.Column('created_at', engine.persistence.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider', 'subject', name='uq_external_identity')
    )
    with op.batch_alter_table('external_identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_identity_employee_code'), ['employee_code'], unique=False)

    op.create_table('login_account',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('employee_code', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('password_changed_at', engine.persistence.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_at', engine.persistence.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('employee_code')
    )
    op.create_table('attachment',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('document_no', sa.String(length=100), nullable=False),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', engine.persistence.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_no'], ['process_instance.business_key'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index('ix_attachment_document', ['document_no', 'created_at'], unique=False)

    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('candidate_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('delegated_by', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_human_task_delegated_by'), ['delegated_by'], unique=False)
        batch_op.create_index('ix_human_task_done', ['completed_by', 'completed_at'], unique=False)

    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('amount', engine.persistence.types.ExactDecimal(), nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('purpose', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('withdrawable', sa.Boolean(), nullable=False, server_default='0'))
    op.execute("UPDATE human_task SET candidate_count = (SELECT count(*) FROM human_task_candidate "
               "WHERE human_task_candidate.task_id = human_task.id) WHERE status = 'open'")
    with op.batch_alter_table('human_task_candidate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pool', sa.Boolean(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('taken', sa.Boolean(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('created_at', engine.persistence.types.UtcDateTime(timezone=True), nullable=True))
        batch_op.drop_index('ix_human_task_candidate_employee')
        batch_op.create_index('ix_human_task_candidate_inbox', ['employee', 'pool', 'taken', 'created_at', 'task_id'],
                              unique=False)
    op.execute("UPDATE human_task_candidate SET "
               "pool = (SELECT human_task.candidate_count >= 2 FROM human_task WHERE human_task.id = task_id), "
               "taken = (SELECT human_task.assignee IS NOT NULL FROM human_task WHERE human_task.id = task_id), "
               "created_at = (SELECT human_task.created_at FROM human_task WHERE human_task.id = task_id)")


def downgrade() -> None:
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_column('withdrawable')
        batch_op.drop_column('purpose')
        batch_op.drop_column('currency')
        batch_op.drop_column('amount')
        batch_op.drop_column('subject')

    with op.batch_alter_table('human_task_candidate', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_candidate_inbox')
        batch_op.create_index('ix_human_task_candidate_employee', ['employee', 'task_id'], unique=False)
        batch_op.drop_column('created_at')
        batch_op.drop_column('taken')
        batch_op.drop_column('pool')

    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_done')
        batch_op.drop_index(batch_op.f('ix_human_task_delegated_by'))
        batch_op.drop_column('delegated_by')
        batch_op.drop_column('candidate_count')

    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index('ix_attachment_document')

    op.drop_table('attachment')
    op.drop_table('login_account')
    with op.batch_alter_table('external_identity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_identity_employee_code'))

    op.drop_table('external_identity')
    op.drop_table('document_counter')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_employee_code'))

    op.drop_table('api_token')
