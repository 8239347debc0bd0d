"""The technician report: figures from techapi's own records, checked against a
small fixture whose every expected number is worked out by hand below."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select

from techapi import create_app
from techapi.audit.trail import Actor, record
from techapi.auth.models import User
from techapi.capacity.models import Reservation
from techapi.closures.models import Cancellation
from techapi.evidence.models import TimeRecord
from techapi.jobs.models import Job, JobTechnician
from techapi.reports.scope import report_scope
from techapi.reports.technicians import technician_report

URL = "/v1/reports/technicians?from=2026-06-08&to=2026-06-12"  # Monday to Friday, all in UTC
EVIL_NAME = "=HYPERLINK(\"http://x\")"


def at(day: int, hhmm: str) -> datetime:
    return datetime(2026, 6, day, int(hhmm[:2]), int(hhmm[3:]), tzinfo=UTC)


def add_job(session, job_id, store, techs, day, window, start=None, finish=None, names=None):
    ws, we = at(day, window[0]), at(day, window[1])
    session.add(Job(service_job_id=job_id, status="NOT_STARTED", store_id=store, appointment_id=f"A-{job_id}",
                    appointment_status="ACTIVE", appointment_start=ws, appointment_end=we,
                    duration_minutes=int((we - ws).total_seconds() // 60), payload={}, synced_at=ws))
    session.flush()  # the job before the rows that name it: nothing orders that flush otherwise
    for tech in techs:
        session.add(JobTechnician(service_job_id=job_id, technician_id=tech, name=(names or {}).get(tech)))
    for kind, moment in (("start", start), ("finish", finish)):
        if moment:
            session.add(TimeRecord(service_job_id=job_id, kind=kind, at=moment, received_at=moment, source="api"))
    session.flush()


def reschedule(session, job_id, when, actor, code):
    record(session, job_id, "appointment.rescheduled", when, actor,
           details={"reasonCode": code, "oldAppointmentId": f"A-{job_id}", "newAppointmentId": f"B-{job_id}"})


def cancel(session, job_id, when, code, state, by):
    session.add(Cancellation(service_job_id=job_id, reason_code=code, state=state, requested_by=by,
                             requested_at=when, updated_at=when))


def time_off(session, store, tech, kind, start, end, status="ACTIVE", cancelled_at=None):
    session.add(Reservation(id=str(uuid.uuid4()), store_id=store, technician_id=tech, kind=kind, start=start,
                            end=end, status=status, created_at=start, updated_at=start, cancelled_at=cancelled_at))


@pytest.fixture
def people(auth):
    auth.user("ana", "technician", technician_id="T1", stores=("S-A",), timezone="UTC")
    auth.user("dora", "technician", technician_id="T4", stores=("S-A",), timezone="UTC")
    auth.user("boss", "supervisor", stores=("S-A",), timezone="UTC")
    auth.user("bossb", "supervisor", stores=("S-B",), timezone="UTC")
    auth.user("root", "admin", timezone="UTC")
    return {name: auth.headers(name) for name in ("ana", "boss", "bossb", "root")}


@pytest.fixture
def fixture_data(deps, people):
    with deps.db.transaction() as s:
        ids = {u.username: u.id for u in s.scalars(select(User))}
        ana, boss = Actor.user("ana", ids["ana"]), Actor.user("boss", ids["boss"])
        bossb = Actor.user("bossb", ids["bossb"])
        # T1 (ana), store S-A; windows 2 h; grace 15 min
        add_job(s, "J1", "S-A", ["T1"], 8, ("09:00", "11:00"), at(8, "09:10"), at(8, "10:40"),
                names={"T1": "Ana"})                                              # on time, within, 90 min
        add_job(s, "J2", "S-A", ["T1"], 9, ("09:00", "11:00"), at(9, "11:10"), at(9, "12:00"))  # 10 late: on
        # time only by the grace; finished after 11:00: not within; 50 min
        add_job(s, "J3", "S-A", ["T1"], 10, ("13:00", "15:00"), at(10, "15:30"), at(10, "16:30"))  # 30 late,
        # not within; 60 min
        add_job(s, "J4", "S-A", ["T1"], 20, ("09:00", "11:00"))  # rescheduled away to 20 June: not in range
        reschedule(s, "J4", at(11, "10:05"), ana, "RS11")         # ana at the door: T1 RS11, a no-show
        add_job(s, "J5", "S-A", ["T1", "T2"], 12, ("08:00", "10:00"), at(12, "07:50"), at(12, "09:30"),
                names={"T2": "Ben"})  # two-person job: 10 early (grace), within, 100 min, for T1 and T2
        add_job(s, "J6", "S-A", ["T1"], 25, ("09:00", "11:00"))
        reschedule(s, "J6", at(9, "16:00"), boss, "RS4")    # by a supervisor: the job's technician T1
        reschedule(s, "J6", at(14, "09:00"), boss, "RS11")  # 14 June: outside the range
        time_off(s, "S-A", "T1", "BREAK", at(8, "12:00"), at(8, "12:30"))      # 30 min
        time_off(s, "S-A", "T1", "VACATION", at(12, "12:00"), at(14, "12:00"))  # clipped at 13 June 00:00: 720
        time_off(s, "S-A", "T1", "BREAK", at(9, "12:00"), at(9, "13:00"), status="CANCELLED")  # not taken
        time_off(s, "S-A", "T1", "TRAINING", at(10, "12:00"), at(10, "14:00"), status="CANCELLED",
                 cancelled_at=at(10, "12:45"))  # cancelled once begun: 45 taken
        # T2 (Ben), store S-A
        add_job(s, "J7", "S-A", ["T2"], 10, ("10:00", "12:00"), at(10, "10:20"), at(10, "11:50"))  # on time,
        # within, 90 min
        add_job(s, "J8", "S-A", ["T2"], 9, ("14:00", "16:00"))
        cancel(s, "J8", at(9, "14:40"), "S1", "COMPLETED", ids["boss"])   # customer not there: a no-show
        add_job(s, "J9", "S-A", ["T2"], 10, ("16:00", "18:00"))
        cancel(s, "J9", at(10, "16:30"), "S1", "FAILED", ids["boss"])     # never cancelled: not counted
        add_job(s, "J10", "S-A", ["T2"], 30, ("09:00", "11:00"))
        cancel(s, "J10", at(10, "08:00"), "S13", "COMPLETED", ids["boss"])  # not a no-show code
        time_off(s, "S-A", "T2", "TRAINING", at(7, "20:00"), at(8, "02:00"))  # clipped at 8 June 00:00: 120
        # T3 (name a spreadsheet formula), store S-B
        add_job(s, "J11", "S-B", ["T3"], 10, ("09:00", "10:00"), at(10, "09:05"), at(10, "09:50"),
                names={"T3": EVIL_NAME})  # on time, within, 45 min
        add_job(s, "J12", "S-B", ["T3"], 22, ("09:00", "10:00"))
        reschedule(s, "J12", at(12, "11:00"), bossb, "RS8")
        time_off(s, "S-B", None, "TRAVEL", at(10, "12:00"), at(10, "13:00"))  # nobody's: not counted
    return people


def row(technician_id, name, assigned, on_time, within, by_reason, no_shows, median, time_off_minutes):
    return {"technicianId": technician_id, "name": name, "jobsAssigned": assigned, "startedOnTime": on_time,
            "completedWithinWindow": within, "rescheduled": sum(by_reason.values()),
            "rescheduledByReason": by_reason, "noShows": no_shows, "medianOnSiteMinutes": median,
            "timeOffMinutes": time_off_minutes}


# T1: J1, J2, J3, J5 assigned = 4; on time J1, J2 (grace), J5 (grace) = 3; within J1, J5 = 2;
#     RS11 (J4, ana) + RS4 (J6, boss) = 2, no-shows 1 (the RS11); median of 90, 50, 60, 100 = (60+90)/2 = 75.0;
#     time off 30 + 720 + 45 = 795 (the break cancelled before it began not counted; the training
#     cancelled 45 minutes in counted until then).
T1 = row("T1", "Ana", 4, 3, 2, {"RS11": 1, "RS4": 1}, 1, 75.0, 795)
# T2: J5, J7, J8, J9 = 4; on time J5, J7 = 2; within J5, J7 = 2; no reschedules; no-shows 1 (J8's S1; J9's
#     FAILED and J10's S13 not counted); median of 100, 90 = 95.0; time off 120.
T2 = row("T2", "Ben", 4, 2, 2, {}, 1, 95.0, 120)
# T3: J11 = 1, on time 1, within 1, RS8 (J12, bossb) = 1, median 45.0, no time off (the TRAVEL is nobody's).
T3 = row("T3", EVIL_NAME, 1, 1, 1, {"RS8": 1}, 0, 45.0, 0)
# T4: a technician of S-A with nothing in the range.
T4 = row("T4", "dora", 0, 0, 0, {}, 0, None, 0)


def test_a_supervisor_gets_the_hand_computed_figures_of_their_store(client, fixture_data):
    response = client.get(URL, headers=fixture_data["boss"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["technicians"] == [T1, T2, T4]
    assert (body["from"], body["to"], body["timezone"], body["storeIds"], body["graceMinutes"]) == \
        ("2026-06-08", "2026-06-12", "UTC", ["S-A"], 15)
    assert (body["noShowRescheduleCodes"], body["noShowCancellationCodes"]) == (["RS11"], ["S1"])


def test_an_admin_sees_every_store_or_the_one_asked_for(client, fixture_data):
    assert client.get(URL, headers=fixture_data["root"]).get_json()["technicians"] == [T1, T2, T3, T4]
    only_b = client.get(URL + "&storeId=S-B", headers=fixture_data["root"]).get_json()
    assert only_b["technicians"] == [T3] and only_b["storeIds"] == ["S-B"]


def test_the_csv_has_the_same_figures_a_header_and_no_formula(client, fixture_data):
    response = client.get(URL, headers={**fixture_data["root"], "Accept": "text/csv"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="technicians-2026-06-08-to-2026-06-12.csv"'
    assert response.get_data(as_text=True).endswith("\r\n")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows == [
        ["technicianId", "name", "jobsAssigned", "startedOnTime", "completedWithinWindow", "rescheduled",
         "rescheduledByReason", "noShows", "medianOnSiteMinutes", "timeOffMinutes"],
        ["T1", "Ana", "4", "3", "2", "2", "RS11=1; RS4=1", "1", "75.0", "795"],
        ["T2", "Ben", "4", "2", "2", "0", "", "1", "95.0", "120"],
        ["T3", "'" + EVIL_NAME, "1", "1", "1", "1", "RS8=1", "0", "45.0", "0"],
        ["T4", "dora", "0", "0", "0", "0", "", "0", "", "0"],
    ]


def test_a_shorter_grace_counts_fewer_starts_on_time(settings, clock, sandbox, fixture_data):
    strict = create_app(settings, clock=clock, sandbox=sandbox, ontime_grace_minutes=5)
    try:
        body = strict.test_client().get(URL, headers=fixture_data["boss"]).get_json()
    finally:
        strict.extensions["techapi"].db.dispose()
    # 5 minutes: J2 (10 late) and J5 (10 early) are no longer on time; J1 and J7 (inside the window) still are.
    assert [(t["technicianId"], t["startedOnTime"]) for t in body["technicians"]] == [("T1", 1), ("T2", 1),
                                                                                      ("T4", 0)]
    assert body["graceMinutes"] == 5


def test_technicians_and_other_stores_are_refused(client, fixture_data):
    assert client.get(URL, headers=fixture_data["ana"]).status_code == 403
    refused = client.get(URL + "&storeId=S-B", headers=fixture_data["boss"])
    assert refused.status_code == 403 and refused.get_json()["code"] == 403
    assert client.get(URL).status_code == 401


@pytest.mark.parametrize("query, field", [
    ("from=2026-06-01&to=2026-09-01", "to"),   # 93 days
    ("from=2026-06-12&to=2026-06-08", "to"),   # backwards
    ("from=1999-12-31&to=2000-01-02", "from"),  # before 2000
    ("from=2026-06-08&to=9999-12-31", "to"),   # after 2099
    ("to=2026-06-08", "from"),
])
def test_a_range_that_is_not_allowed_is_422(client, fixture_data, query, field):
    response = client.get(f"/v1/reports/technicians?{query}", headers=fixture_data["boss"])
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["query"]


def test_92_days_is_allowed(client, fixture_data):
    response = client.get("/v1/reports/technicians?from=2026-06-01&to=2026-08-31", headers=fixture_data["boss"])
    assert response.status_code == 200


def test_the_report_is_five_queries_whatever_the_number_of_technicians(deps, fixture_data):
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_rest):
        statements.append(statement)

    event.listen(deps.db.engine, "before_cursor_execute", count)
    try:
        with deps.db.session() as session:
            root = session.scalar(select(User).where(User.username == "root"))
            statements.clear()
            report = technician_report(session, report_scope(root, at(8, "00:00").date(), at(12, "00:00").date(),
                                                             None, "UTC"), 15)
    finally:
        event.remove(deps.db.engine, "before_cursor_execute", count)
    assert len(report.technicians) == 4
    assert len(statements) == 5
