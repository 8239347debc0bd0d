"""The day board, time off and the performance report over Flask's test client:
what the pages show, and that a bad form or query is a clear 4xx page, never a 500."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest

from techapi.worker.runner import Worker
from tests.api.test_console import console_login, csrf_of
from tests.conftest import NOW

DAY = NOW.date().isoformat()  # Monday 2026-06-15, 15:00 UTC; times shown in UTC


@pytest.fixture
def boss(client, auth, world, unassigned_job, synced):
    store = world.store_ids[0]
    techs = [t for t, _, s in world.technicians if s == store]
    auth.user("tech", "technician", technician_id=techs[0], stores=(store,))
    auth.user("boss", "supervisor", stores=(store,))
    console_login(client, "boss")
    return {"store": store, "other": world.store_ids[1], "techs": techs}


def page_of(client, url: str, status: int = 200) -> str:
    answer = client.get(url)
    assert answer.status_code == status, answer.get_data(as_text=True)[:2000]
    return answer.get_data(as_text=True)


def post(client, url: str, form: dict, referer: str = "/console/board") -> tuple[int, str]:
    data = {"csrf_token": csrf_of(page_of(client, referer)), **form}
    answer = client.post(url, data=data)
    return answer.status_code, answer.get_data(as_text=True)


def alert(page: str) -> str:
    found = re.search(r'role="alert"[^>]*>(.*?)</p>', page, re.S)
    return html.unescape(found.group(1).strip()) if found else ""


def test_the_board_has_a_row_per_technician_in_time_order_and_a_lane_for_the_job_without_one(client, boss,
                                                                                               unassigned_job):
    page = page_of(client, f"/console/board?date={DAY}")  # the first of my stores by default
    lane = page.split('id="h-lane"', 1)[1].split("</section>", 1)[0]
    assert f'id="lane-{unassigned_job}"' in lane and "Needs a technician (1)" in page
    for tech in boss["techs"]:
        row = page.split(f'id="tech-{tech}"', 1)[1].split("</section>", 1)[0]
        times = re.findall(r'<time datetime="([^"]+)"', row)
        assert len(times) == 5 and times == sorted(times), tech
    first = page.split(f'id="tech-{boss["techs"][0]}"', 1)[1].split("</section>", 1)[0]
    # 08:00-10:00 (the service's length) with no start recorded by 15:00: late; 16:30 not yet.
    cards = first.split("<li ")[1:]
    assert "late start" in cards[0] and "late start" not in cards[-1]
    assert "Still needed: start time, end time, poa document" in cards[0]


def test_assigning_from_the_board_is_pending_then_done_after_the_worker_ran(app, client, boss, unassigned_job,
                                                                             sandbox):
    status, _ = post(client, f"/console/jobs/{unassigned_job}/assign",
                     {"technician": boss["techs"][1], "store": boss["store"], "date": DAY})
    assert status == 303
    poll = client.get(f"/console/board/assignments?date={DAY}").get_json()["jobs"]
    assert poll[unassigned_job]["status"] == "PENDING" and poll[unassigned_job]["label"].startswith("Assigning")
    assert Worker(app).drain(max_seconds=30) == 0
    assert client.get(f"/console/board/assignments?date={DAY}").get_json()["jobs"][unassigned_job]["status"] == "DONE"
    appointment = sandbox.state.jobs[unassigned_job].payload["appointments"][-1]
    assert [t["technicianId"] for t in appointment["assignedTechnicians"]] == [boss["techs"][1]]
    page = page_of(client, f"/console/board?date={DAY}")
    row = page.split(f'id="tech-{boss["techs"][1]}"', 1)[1].split("</section>", 1)[0]
    assert unassigned_job in row and "Needs a technician (0)" in page


def test_an_assignment_amazon_refuses_shows_failed_with_its_reason_and_stays_in_the_lane(app, client, auth, boss,
                                                                                          unassigned_job):
    # An account made with a technicianId SP-API does not know.
    auth.user("typo", "technician", technician_id="ATYPOTECH00001", stores=(boss["store"],))
    status, _ = post(client, f"/console/jobs/{unassigned_job}/assign",
                     {"technician": "ATYPOTECH00001", "store": boss["store"], "date": DAY})
    assert status == 303
    assert Worker(app).drain(max_seconds=30) == 1
    poll = client.get(f"/console/board/assignments?date={DAY}").get_json()["jobs"][unassigned_job]
    assert poll == {"status": "FAILED", "label": "Assignment failed: typo "
                                                  "(Invalid resourceId : ATYPOTECH00001 provided in the input.)"}
    lane = page_of(client, f"/console/board?date={DAY}").split('id="h-lane"', 1)[1].split("</section>", 1)[0]
    assert f'id="lane-{unassigned_job}"' in lane and 'data-assignment="FAILED"' in lane


@pytest.mark.parametrize("url, status, message", [
    ("/console/board?date=2026-13-45", 422, "is not a date"),
    ("/console/board?date=1999-01-01", 422, "Must be between"),
    ("/console/board?store=no-such-store", 403, "You do not oversee this store"),
    ("/console/time-off?store=no-such-store", 403, "You do not oversee this store"),
    ("/console/jobs/no-such-job/reschedule", 404, "Job not found"),
    ("/console/reports/technicians?from=yesterday", 422, "From: Not a valid date"),
    ("/console/reports/technicians?from=2026-06-15&to=2026-06-01", 422, "The range ends before it starts"),
    ("/console/reports/technicians?from=2026-01-01&to=2026-06-01", 422, "at most 92 days"),
    ("/console/reports/technicians?store=no-such-store", 403, "You do not oversee this store"),
])
def test_a_bad_query_is_a_clear_error_page(client, boss, url, status, message):
    page = page_of(client, url, status)
    assert message in page


def test_another_stores_board_time_off_and_report_are_403_and_its_jobs_404(client, boss, sandbox):
    other_job = next(j.job_id for j in sandbox.state.jobs.values() if j.payload.get("storeId") == boss["other"]
                     and j.status == "NOT_SERVICED")
    assert "Job not found" in page_of(client, f"/console/jobs/{other_job}/reschedule", 404)
    code, page = post(client, f"/console/jobs/{other_job}/assign", {"technician": boss["techs"][0]})
    assert code == 404 and "Job not found" in alert(page)
    assert "You do not oversee this store" in page_of(client, f"/console/board?store={boss['other']}", 403)
    assert "You do not oversee this store" in page_of(client, f"/console/time-off?store={boss['other']}", 403)
    assert "You do not oversee this store" in page_of(
        client, f"/console/reports/technicians.csv?store={boss['other']}", 403)


@pytest.mark.parametrize("form, status, message", [
    ({}, 422, "Choose at least one technician"),
    ({"technician": "not a technician!"}, 422, "Technicians"),
    ({"technician": "ANOBODY00000001"}, 422, "Not a technician of store"),
])
def test_a_bad_assignment_is_refused_on_the_board_with_why(client, boss, unassigned_job, form, status, message):
    code, page = post(client, f"/console/jobs/{unassigned_job}/assign", {"store": boss["store"], "date": DAY, **form})
    assert code == status and message in alert(page)
    assert "Day board" in page  # the board again, with the message


def test_assigning_an_unknown_job_is_404(client, boss):
    form = {"technician": boss["techs"][0], "store": boss["store"], "date": DAY}
    code, page = post(client, "/console/jobs/no-such-job/assign", form)
    assert code == 404 and "Job not found" in alert(page)


@pytest.mark.parametrize("form, status, message", [
    ({"reason": "RS01"}, 422, "Choose one of the job's slots"),
    ({"start": "tomorrow", "reason": "RS01"}, 422, "Slot: Not a valid datetime"),
    ({"start": "2026-06-16T10:00:00", "reason": "RS01"}, 422, "Slot: Not a valid aware datetime"),
    ({"start": "2026-06-16T10:00:00+00:00", "reason": ""}, 422, "Choose a reason from the list"),
    ({"start": "2026-06-16T10:00:00+00:00", "reason": "XX99"}, 422, "Reason code XX99 is not valid in this"),
])
def test_a_bad_reschedule_is_refused_on_its_page_with_why(client, boss, unassigned_job, form, status, message):
    url = f"/console/jobs/{unassigned_job}/reschedule"
    code, page = post(client, url, form, referer=url)
    assert code == status and message in alert(page), alert(page)
    assert "Reschedule" in page and '<select id="reason"' in page  # the form again


def test_rescheduling_into_a_slot_moves_the_appointment_and_leads_to_that_days_board(client, boss, unassigned_job,
                                                                                        sandbox):
    url = f"/console/jobs/{unassigned_job}/reschedule"
    page = page_of(client, url)
    slot = re.findall(r'<option value="(2026-[^"]+)"', page)[0]
    reason = re.findall(r'<option value="(RS\d+)"', page)[0]
    answer = client.post(url, data={"csrf_token": csrf_of(page), "start": slot, "reason": reason})
    assert answer.status_code == 303 and f"date={slot[:10]}" in answer.headers["Location"]
    active = [a for a in sandbox.state.jobs[unassigned_job].payload["appointments"]
              if a["appointmentStatus"] == "ACTIVE"]
    assert [a["appointmentTime"]["startTime"][:16] for a in active] == [slot[:16]]
    assert f"Rescheduled job {unassigned_job}" in page_of(client, answer.headers["Location"])


def time_off(client, boss, **form) -> tuple[int, str]:
    fields = {"store": boss["store"], "type": "VACATION", "technician": boss["techs"][0],
              "start": "2026-06-17T09:00", "end": "2026-06-17T11:00", **form}
    return post(client, "/console/time-off", fields, referer="/console/time-off")


@pytest.mark.parametrize("form, status, message", [
    ({"start": "next week"}, 422, "Start: 'next week' is not a date and time"),
    ({"end": ""}, 422, "End: give a date and time"),
    ({"end": "2026-06-17T08:00"}, 422, "end must be after start"),
    ({"start": "2026-06-01T09:00"}, 422, "start must be in the future"),
    ({"type": "PARTY"}, 422, "Type: Must be one of"),
    ({"technician": "ANOBODY00000001"}, 422, "is not an active technician of store"),
    ({"store": "no-such-store"}, 403, "You do not oversee this store"),
    ({"start": "2026-06-15T16:00", "end": "2026-06-15T17:00"}, 409, "overlaps the technician's appointments"),
])
def test_bad_time_off_is_refused_on_the_page_with_why(client, boss, form, status, message):
    code, page = time_off(client, boss, **form)
    assert code == status and message in html.unescape(page)
    assert 'id="reservation-' not in page  # nothing was made


def test_time_off_is_added_moved_and_cancelled_with_its_api_id_kept(client, auth, boss):
    code, _ = time_off(client, boss, notes="Dentist")
    assert code == 303
    listed = client.get(f"/v1/stores/{boss['store']}/reservations", headers=auth.headers("boss")).get_json()
    (made,) = listed["reservations"]
    assert (made["type"], made["technicianId"], made["start"][:16], made["notes"]) == \
        ("VACATION", boss["techs"][0], "2026-06-17T09:00", "Dentist")
    moved = {"store": boss["store"], "start": "2026-06-18T13:00", "end": "2026-06-18T14:30"}
    code, _ = post(client, f"/console/time-off/{made['id']}/move", moved, "/console/time-off")
    assert code == 303
    code, _ = post(client, f"/console/time-off/{made['id']}/cancel", {"store": boss["store"]}, "/console/time-off")
    assert code == 303
    (after,) = client.get(f"/v1/stores/{boss['store']}/reservations", headers=auth.headers("boss")).get_json()[
        "reservations"]
    assert (after["id"], after["start"][:16], after["end"][:16], after["status"]) == \
        (made["id"], "2026-06-18T13:00", "2026-06-18T14:30", "CANCELLED")


def test_moving_or_cancelling_an_unknown_reservation_is_404(client, boss):
    for action in ("move", "cancel"):
        code, page = post(client, f"/console/time-off/no-such-id/{action}",
                          {"store": boss["store"], "start": "2026-06-18T13:00", "end": "2026-06-18T14:30"},
                          "/console/time-off")
        assert code == 404 and "No such reservation in this store" in alert(page), action


def test_the_report_page_shows_the_table_and_chart_and_the_csv_has_a_header_row(client, boss):
    page = page_of(client, "/console/reports/technicians?from=2026-06-14&to=2026-06-15")
    assert '<svg' in page and page.count("<tr>") == 1 + len(boss["techs"])
    answer = client.get("/console/reports/technicians.csv?from=2026-06-14&to=2026-06-15")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert 'filename="technicians-2026-06-14-to-2026-06-15.csv"' in answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0][:3] == ["technicianId", "name", "jobsAssigned"] and len(rows) == 1 + len(boss["techs"])
