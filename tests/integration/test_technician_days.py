"""A technician's day is read through their own rows' copy of the job's start
(job_technicians.appointment_start, copied by the triggers of migration 0013): the copy follows the job
whatever moves it, and the list follows the copy."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import select, text

from techapi.db import Database
from techapi.jobs.models import Job, JobTechnician
from techapi.jobs.sync import sync_day
from tests.conftest import NOW


def stale_copies(deps) -> list[tuple[str, str]]:
    """(job, technician) rows whose copy is not the job's start."""
    with deps.db.session() as session:
        return [(t.service_job_id, t.technician_id) for t, start in session.execute(
            select(JobTechnician, Job.appointment_start).join(Job, Job.service_job_id == JobTechnician.service_job_id))
            if t.appointment_start != start]


def listed(client, headers, day) -> set[str]:
    response = client.get(f"/v1/jobs?date={day.isoformat()}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return {j["serviceJobId"] for j in response.get_json()["jobs"]}


def test_a_job_amazon_moves_to_tomorrow_with_its_technician_moves_in_the_technicians_days(
        client, tech, job_id, deps, sandbox, clock):
    today, tomorrow = NOW.date(), NOW.date() + timedelta(days=1)
    assert job_id in listed(client, tech, today) and stale_copies(deps) == []
    clock.advance(minutes=10)
    job = sandbox.state.jobs[job_id]
    with sandbox.state.lock:
        for appointment in job.payload["appointments"]:
            time = appointment["appointmentTime"]
            time["startTime"] = time["startTime"].replace(today.isoformat(), tomorrow.isoformat())
        job.updated_at = clock.now()
    assert sync_day(deps, today).updated == 1
    assert stale_copies(deps) == []
    assert job_id not in listed(client, tech, today)
    assert job_id in listed(client, tech, tomorrow)


def test_a_technician_row_added_on_its_own_takes_the_jobs_start(client, auth, world, job_id, deps):
    auth.user("tech2", "technician", technician_id=world.technician_ids[1])
    with deps.db.transaction() as session:
        session.add(JobTechnician(service_job_id=job_id, technician_id=world.technician_ids[1], name="Two"))
    assert stale_copies(deps) == []
    assert job_id in listed(client, auth.headers("tech2"), NOW.date())


def test_a_start_changed_on_the_job_alone_is_copied_to_its_technicians(client, tech, job_id, deps):
    with deps.db.transaction() as session:
        job = session.get(Job, job_id)
        job.appointment_start += timedelta(days=2)
    assert stale_copies(deps) == []
    assert job_id in listed(client, tech, NOW.date() + timedelta(days=2))


def test_a_start_or_a_technician_written_by_hand_in_sql_is_copied_too(client, auth, world, tech, job_id, deps):
    """As an older release's process, or an operator, would write them."""
    auth.user("tech2", "technician", technician_id=world.technician_ids[1])
    with deps.db.transaction() as session:
        session.execute(text("UPDATE jobs SET appointment_start = :start WHERE service_job_id = :id"),
                        {"start": NOW + timedelta(days=3), "id": job_id})
        session.execute(text("INSERT INTO job_technicians (service_job_id, technician_id) VALUES (:id, :tech)"),
                        {"id": job_id, "tech": world.technician_ids[1]})
    assert stale_copies(deps) == []
    later = NOW.date() + timedelta(days=3)
    assert job_id in listed(client, tech, later) and job_id in listed(client, auth.headers("tech2"), later)


def test_a_new_job_and_its_technician_added_side_by_side_in_one_flush(client, auth, deps):
    auth.user("tech9", "technician", technician_id="T9")
    with deps.db.transaction() as session:
        session.add(Job(service_job_id="NEW-1", status="NOT_SERVICED", payload={}, synced_at=NOW,
                        appointment_start=NOW))
        session.add(JobTechnician(service_job_id="NEW-1", technician_id="T9"))
    assert stale_copies(deps) == []
    assert listed(client, auth.headers("tech9"), NOW.date()) == {"NEW-1"}


def test_the_migration_copies_the_starts_of_the_jobs_already_there(empty_database_url):
    """A database at 0012 with jobs: 0013 fills every copy; down and up again, it still does."""
    db = Database(empty_database_url())
    cfg = db.alembic_config()
    try:
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0012")
            conn.execute(text("INSERT INTO jobs (service_job_id, status, payload, synced_at, appointment_start) "
                              "VALUES ('J1', 'NOT_SERVICED', '{}', :now, :now)"), {"now": NOW})
            conn.execute(text("INSERT INTO job_technicians (service_job_id, technician_id) VALUES ('J1', 'T1')"))
            command.upgrade(cfg, "0013")
            command.downgrade(cfg, "0012")
            command.upgrade(cfg, "head")
            copied, start = conn.execute(text("SELECT t.appointment_start, j.appointment_start FROM job_technicians t "
                                              "JOIN jobs j ON j.service_job_id = t.service_job_id")).one()
        assert copied is not None and copied == start
    finally:
        db.dispose()
