"""closures and cancellations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cancellations',
    sa.Column('service_job_id', sa.String(length=100), nullable=False),
    sa.Column('reason_code', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('failure_reason', sa.String(length=1000), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_cancellations_requested_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['service_job_id'], ['jobs.service_job_id'], name=op.f('fk_cancellations_service_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('service_job_id', name=op.f('pk_cancellations'))
    )
    op.create_table('closures',
    sa.Column('service_job_id', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rejection_reason', sa.String(length=500), nullable=True),
    sa.Column('failure_reason', sa.String(length=1000), nullable=True),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('upstream_status', sa.String(length=32), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_closures_decided_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_closures_requested_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['service_job_id'], ['jobs.service_job_id'], name=op.f('fk_closures_service_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('service_job_id', name=op.f('pk_closures'))
    )
    with op.batch_alter_table('closures', schema=None) as batch_op:
        batch_op.create_index('ix_closures_state', ['state'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('closures', schema=None) as batch_op:
        batch_op.drop_index('ix_closures_state')

    op.drop_table('closures')
    op.drop_table('cancellations')
