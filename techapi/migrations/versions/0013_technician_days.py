"""a technician's day in one index range: job_technicians.appointment_start (the job's, copied)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('job_technicians', schema=None) as batch_op:
        batch_op.add_column(sa.Column('appointment_start', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE job_technicians SET appointment_start = (SELECT jobs.appointment_start FROM jobs "
               "WHERE jobs.service_job_id = job_technicians.service_job_id)")
    with op.batch_alter_table('job_technicians', schema=None) as batch_op:
        # The new index leads with technician_id: it serves the old one's lookups too.
        batch_op.drop_index('ix_job_technicians_technician_id')
        batch_op.create_index('ix_job_technicians_technician_start', ['technician_id', 'appointment_start'])


def downgrade() -> None:
    with op.batch_alter_table('job_technicians', schema=None) as batch_op:
        batch_op.drop_index('ix_job_technicians_technician_start')
        batch_op.create_index('ix_job_technicians_technician_id', ['technician_id'])
        batch_op.drop_column('appointment_start')
