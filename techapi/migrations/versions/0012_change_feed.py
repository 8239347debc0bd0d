"""the delta feed: a change counter, each job's last change, the jobs that left a technician or a store

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    counter = op.create_table(
        'change_counter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.Column('epoch', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(counter, [{'id': 1, 'value': 0, 'epoch': uuid.uuid4().hex}])
    op.create_table(
        'job_departures',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('service_job_id', sa.String(length=100), nullable=False),
        sa.Column('technician_id', sa.String(length=50), nullable=True),
        sa.Column('store_id', sa.String(length=100), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_job_departures_seq', 'job_departures', ['seq'])
    op.create_index('ix_job_departures_at', 'job_departures', ['at'])
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('change_seq', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.create_index('ix_jobs_change_seq', ['change_seq'])


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_change_seq')
        batch_op.drop_column('change_seq')
    op.drop_index('ix_job_departures_at', table_name='job_departures')
    op.drop_index('ix_job_departures_seq', table_name='job_departures')
    op.drop_table('job_departures')
    op.drop_table('change_counter')
