"""a technician's day in one index range: job_technicians.appointment_start (the job's, copied)

The copy is kept by the database itself (triggers), whoever writes: this code, a
process still running the code before this revision, SQL by hand. On PostgreSQL a
write racing another on the same job is covered too: the trigger's statements read
what has been committed when they run (an assignment adds its technician under the
job's row lock, which a sync's UPDATE of the job waits for).

SQLite recreates a table to alter it (batch mode) and its triggers go with it: a
later revision that batch-alters jobs or job_technicians must create them again
(TRIGGERS below; tests/integration/test_technician_days.py would fail).

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

POSTGRESQL = [
    """CREATE FUNCTION techapi_job_start_to_technicians() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE job_technicians SET appointment_start = NEW.appointment_start
       WHERE service_job_id = NEW.service_job_id AND appointment_start IS DISTINCT FROM NEW.appointment_start;
      RETURN NULL;
    END $$""",
    """CREATE TRIGGER jobs_start_to_technicians AFTER UPDATE OF appointment_start ON jobs
       FOR EACH ROW EXECUTE FUNCTION techapi_job_start_to_technicians()""",
    """CREATE FUNCTION techapi_technician_job_start() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.appointment_start := (SELECT appointment_start FROM jobs WHERE service_job_id = NEW.service_job_id);
      RETURN NEW;
    END $$""",
    """CREATE TRIGGER job_technicians_job_start BEFORE INSERT OR UPDATE ON job_technicians
       FOR EACH ROW EXECUTE FUNCTION techapi_technician_job_start()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS job_technicians_job_start ON job_technicians",
    "DROP FUNCTION IF EXISTS techapi_technician_job_start()",
    "DROP TRIGGER IF EXISTS jobs_start_to_technicians ON jobs",
    "DROP FUNCTION IF EXISTS techapi_job_start_to_technicians()",
]
SQLITE = [
    """CREATE TRIGGER jobs_start_to_technicians AFTER UPDATE OF appointment_start ON jobs
    BEGIN
      UPDATE job_technicians SET appointment_start = NEW.appointment_start WHERE service_job_id = NEW.service_job_id;
    END""",
    """CREATE TRIGGER job_technicians_job_start AFTER INSERT ON job_technicians
    BEGIN
      UPDATE job_technicians SET appointment_start =
        (SELECT appointment_start FROM jobs WHERE service_job_id = NEW.service_job_id) WHERE rowid = NEW.rowid;
    END""",
    """CREATE TRIGGER job_technicians_job_start_kept AFTER UPDATE ON job_technicians
    WHEN NEW.appointment_start IS NOT (SELECT appointment_start FROM jobs WHERE service_job_id = NEW.service_job_id)
    BEGIN
      UPDATE job_technicians SET appointment_start =
        (SELECT appointment_start FROM jobs WHERE service_job_id = NEW.service_job_id) WHERE rowid = NEW.rowid;
    END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS job_technicians_job_start_kept",
    "DROP TRIGGER IF EXISTS job_technicians_job_start",
    "DROP TRIGGER IF EXISTS jobs_start_to_technicians",
]
TRIGGERS = {"postgresql": (POSTGRESQL, POSTGRESQL_DROP), "sqlite": (SQLITE, SQLITE_DROP)}


def upgrade() -> None:
    with op.batch_alter_table('job_technicians', schema=None) as batch_op:
        batch_op.add_column(sa.Column('appointment_start', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE job_technicians SET appointment_start = (SELECT jobs.appointment_start FROM jobs "
               "WHERE jobs.service_job_id = job_technicians.service_job_id)")
    with op.batch_alter_table('job_technicians', schema=None) as batch_op:
        # The new index leads with technician_id: it serves the old one's lookups too.
        batch_op.drop_index('ix_job_technicians_technician_id')
        batch_op.create_index('ix_job_technicians_technician_start', ['technician_id', 'appointment_start'])
    for statement in TRIGGERS[op.get_bind().dialect.name][0]:
        op.execute(statement)


def downgrade() -> None:
    for statement in TRIGGERS[op.get_bind().dialect.name][1]:
        op.execute(statement)
    with op.batch_alter_table('job_technicians', schema=None) as batch_op:
        batch_op.drop_index('ix_job_technicians_technician_start')
        batch_op.create_index('ix_job_technicians_technician_id', ['technician_id'])
        batch_op.drop_column('appointment_start')
