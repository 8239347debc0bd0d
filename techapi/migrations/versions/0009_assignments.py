"""assignments: technician assignment requests sent through the queue

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'assignments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('service_job_id', sa.String(length=100), nullable=False),
        sa.Column('appointment_id', sa.String(length=100), nullable=False),
        sa.Column('technician_ids', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('error', sa.String(length=1000), nullable=True),
        sa.Column('requested_by', sa.Integer(), nullable=True),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_assignments_requested_by_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['service_job_id'], ['jobs.service_job_id'],
                                name=op.f('fk_assignments_service_job_id_jobs'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments')),
    )
    op.create_index('ix_assignments_job', 'assignments', ['service_job_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_assignments_job', table_name='assignments')
    op.drop_table('assignments')
