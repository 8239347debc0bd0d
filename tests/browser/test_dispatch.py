"""The supervisor's day in Chromium: the day board, rescheduling into a slot,
assigning a technician (done once the worker ran), time off added, moved and
cancelled, the performance report; and what another store's supervisor and a
form without its CSRF token get."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SCREENSHOTS, WAIT_MS, sign_in
from tests.conftest import NOW, PASSWORD

pytestmark = pytest.mark.browser
DAY = NOW.date().isoformat()


def day_jobs(console, technician: int) -> list[str]:
    """The job IDs of DAY whose appointment names the store's technician, by start (as the sandbox has them)."""
    tech_id = console.sandbox.world.technician_ids[technician]
    found = []
    for job in console.sandbox.state.jobs.values():
        for a in job.payload.get("appointments") or []:
            if a["appointmentStatus"] == "ACTIVE" and a["appointmentTime"]["startTime"].startswith(DAY) and \
                    tech_id in [t["technicianId"] for t in a.get("assignedTechnicians") or []]:
                found.append((a["appointmentTime"]["startTime"], job.job_id))
    return [job_id for _, job_id in sorted(found)]


def active_start(console, job_id: str) -> str:
    (appointment,) = [a for a in console.sandbox.state.jobs[job_id].payload["appointments"]
                      if a["appointmentStatus"] == "ACTIVE"]
    return appointment["appointmentTime"]["startTime"]


def upstream_technicians(console, job_id: str) -> list[str]:
    (appointment,) = [a for a in console.sandbox.state.jobs[job_id].payload["appointments"]
                      if a["appointmentStatus"] == "ACTIVE"]
    return [t["technicianId"] for t in appointment.get("assignedTechnicians") or []]


def weekday_ahead(days: int) -> datetime:
    """09:00 UTC on a weekday at least `days` ahead of the real clock (`techapi serve` runs on it)."""
    day = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def test_the_day_board_shows_each_technicians_appointments_in_time_order(page: Page, console):
    world = console.sandbox.world
    sign_in(page, "boss")
    page.get_by_role("link", name="Board").click()
    expect(page.get_by_role("heading", name="Day board")).to_be_visible()
    page.get_by_label("Day").fill(DAY)
    page.get_by_role("button", name="Show").click()
    for tech_id in world.technician_ids[:3]:  # the first store's three
        row = page.locator(f"#tech-{tech_id}")
        expect(row.locator("li.job")).to_have_count(5)
        times = row.locator("time").evaluate_all("ts => ts.map(t => t.dateTime)")
        assert times == sorted(times) and all(t.startswith(DAY) for t in times)
    first = page.locator(f"#tech-{world.technician_ids[0]} li.job")
    expect(first.first).not_to_contain_text("late start")  # its start was recorded (a pending closure)
    expect(first.last).to_contain_text("late start")  # 16:30 back in June, never started
    expect(first.last).to_contain_text("Still needed: start time, end time, poa document")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "board.png"), full_page=False)


def test_a_supervisor_reschedules_a_job_into_one_of_its_slots(page: Page, console):
    job_id = day_jobs(console, 1)[0]
    sign_in(page, "boss")
    page.goto(f"/console/board?date={DAY}")
    page.locator(f"#tech-{console.sandbox.world.technician_ids[1]} [data-job-card='{job_id}']") \
        .get_by_role("link", name=re.compile("^Reschedule")).click()
    expect(page.get_by_role("heading", name=re.compile("^Reschedule"))).to_be_visible()
    slot = page.get_by_label("Slot")
    slot.select_option(index=2)
    chosen = slot.input_value()
    page.get_by_label("Reason").select_option(index=1)
    reason = page.get_by_label("Reason").input_value()
    page.get_by_role("button", name="Reschedule").click()

    expect(page.get_by_role("status")).to_contain_text(f"Rescheduled job {job_id}")
    expect(page).to_have_url(re.compile(rf"date={chosen[:10]}"))
    expect(page.locator(f"#lane-{job_id}")).to_be_visible()  # Amazon dropped its technician
    new_start = datetime.fromisoformat(chosen)
    assert datetime.fromisoformat(active_start(console, job_id).replace("Z", "+00:00")) == new_start
    job = httpx.get(f"{console.base}/v1/jobs/{job_id}", headers=console.token("boss")).json()
    assert datetime.fromisoformat(job["appointment"]["start"]) == new_start
    history = httpx.get(f"{console.base}/v1/jobs/{job_id}/history", headers=console.token("boss")).json()
    assert any(e["action"] == "appointment.rescheduled" and e["details"]["reasonCode"] == reason
               for e in history["events"])


def test_a_supervisor_assigns_a_technician_and_the_board_shows_it_done_after_the_worker(page: Page, console):
    world, boss = console.sandbox.world, console.token("boss")
    job_id, tech_id = day_jobs(console, 1)[1], world.technician_ids[1]
    # Rescheduled through the API first: the new appointment has no technician.
    slots = httpx.get(f"{console.base}/v1/jobs/{job_id}/slots", headers=boss).json()["slots"]
    reasons = httpx.get(f"{console.base}/v1/reschedule-reasons", params={"serviceJobId": job_id},
                        headers=boss).json()["reasons"]
    moved = httpx.post(f"{console.base}/v1/jobs/{job_id}/reschedule", headers=boss,
                       json={"start": slots[3]["start"], "reasonCode": reasons[0]["code"]})
    assert moved.status_code == 200, moved.text
    new_day = slots[3]["start"][:10]

    sign_in(page, "boss")
    page.goto(f"/console/board?date={new_day}")
    card = page.locator(f"#lane-{job_id}")
    card.get_by_text("Assign").first.click()  # opens the technician choice
    card.get_by_label("Sofia Rossi").check()
    card.get_by_role("button", name="Assign").click()
    expect(page.get_by_role("status").first).to_contain_text(f"Asked Amazon to assign Sofia Rossi to job {job_id}")
    badge = page.locator(f"#lane-{job_id} [data-assignment]")
    was = badge.get_attribute("data-assignment")
    assert was in ("PENDING", "DONE")  # `techapi serve` has a worker too

    console.run.run("worker", "--drain")
    expect(badge).to_have_attribute("data-assignment", "DONE")  # the page's poll, without a reload
    expect(badge).to_contain_text("Assigned: Sofia Rossi")
    if was == "PENDING":
        expect(page.locator("#board-changed")).to_be_visible()
    deadline = time.monotonic() + 10
    while upstream_technicians(console, job_id) != [tech_id] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert upstream_technicians(console, job_id) == [tech_id]
    page.reload()
    expect(page.locator(f"#tech-{tech_id} [data-job-card='{job_id}']")).to_be_visible()
    expect(page.locator(f"#lane-{job_id}")).to_have_count(0)


@pytest.fixture(scope="module")
def rossi(console) -> str:
    """An account for the store's second technician, Sofia Rossi: time off is for a store's technician accounts."""
    world = console.sandbox.world
    console.run.run("users", "create", "--username", "rossi", "--role", "technician", "--technician-id",
                    world.technician_ids[1], "--store", world.store_ids[0], "--password-stdin", stdin=PASSWORD + "\n")
    return world.technician_ids[1]


def test_a_supervisor_adds_moves_and_cancels_time_off(page: Page, console, rossi):
    store = console.sandbox.world.store_ids[0]
    start = weekday_ahead(20)
    sign_in(page, "boss")
    page.get_by_role("link", name="Time off").click()
    page.get_by_label("Type").select_option("VACATION")
    page.get_by_label("Technician", exact=True).select_option(rossi)
    page.get_by_label("Start", exact=True).fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("End", exact=True).fill((start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Notes").fill("Dentist, then home")
    page.get_by_role("button", name="Add time off").click()
    expect(page.get_by_role("status")).to_contain_text("Added vacation for Sofia Rossi")
    row = page.locator("#reservations tbody tr", has_text="Dentist, then home")
    expect(row).to_contain_text("Sofia Rossi")

    def reservation() -> dict:
        listed = httpx.get(f"{console.base}/v1/stores/{store}/reservations", headers=console.token("boss")).json()
        (found,) = [r for r in listed["reservations"] if r["notes"] == "Dentist, then home"]
        return found

    made = reservation()
    assert (made["type"], made["technicianId"], made["status"]) == ("VACATION", rossi, "ACTIVE")
    assert datetime.fromisoformat(made["start"]) == start

    later = start + timedelta(hours=4)
    row.locator("summary").click()
    row.get_by_label("New start").fill(later.strftime("%Y-%m-%dT%H:%M"))
    row.get_by_label("New end").fill((later + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    row.get_by_role("button", name="Move").click()
    expect(page.get_by_role("status")).to_contain_text("Moved: vacation for Sofia Rossi")
    moved = reservation()
    assert moved["id"] == made["id"] and datetime.fromisoformat(moved["start"]) == later
    assert moved["spapiReservationId"] != made["spapiReservationId"]

    page.locator("#reservations tbody tr", has_text="Dentist, then home") \
        .get_by_role("button", name=re.compile("^Cancel")).click()
    expect(page.get_by_role("status")).to_contain_text("Cancelled vacation for Sofia Rossi")
    assert reservation()["status"] == "CANCELLED"
    expect(page.locator("#reservations tbody tr", has_text="Dentist, then home")).to_contain_text("cancelled")


def test_the_report_shows_a_table_and_a_chart_and_downloads_as_csv(page: Page, console):
    sign_in(page, "boss")
    page.get_by_role("link", name="Reports").click()
    page.get_by_label("From", exact=True).fill("2026-06-14")
    page.get_by_label("To", exact=True).fill("2026-06-15")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#technicians tbody tr")).to_have_count(3)
    expect(page.locator("#technicians")).to_contain_text("Sofia Brown")
    chart = page.get_by_role("img", name=re.compile("per technician"))
    expect(chart).to_be_visible()
    widths = page.locator("#chart > rect").evaluate_all("rs => rs.map(r => r.getBBox().width)")
    assert len(widths) == 3 + 3 * 3 and max(widths) > 100  # the legend's, then three bars a technician
    with page.expect_download() as waited:
        page.get_by_role("link", name="Download CSV").click()
    download = waited.value
    assert download.suggested_filename == "technicians-2026-06-14-to-2026-06-15.csv"
    lines = open(download.path(), encoding="utf-8").read().splitlines()
    assert lines[0].startswith("technicianId,name,jobsAssigned,startedOnTime") and len(lines) == 4


def test_a_supervisor_of_another_store_gets_403_or_404_on_its_board_time_off_report_and_jobs(page: Page, console):
    store, job_id = console.sandbox.world.store_ids[0], day_jobs(console, 2)[0]
    start = weekday_ahead(30)
    theirs = httpx.post(f"{console.base}/v1/stores/{store}/reservations", headers=console.token("boss"), json={
        "type": "TRAINING", "start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()})
    assert theirs.status_code == 201, theirs.text
    reservation_id = theirs.json()["id"]
    sign_in(page, "elsewhere")
    for url in (f"/console/board?store={store}&date={DAY}", f"/console/board/assignments?store={store}",
                f"/console/time-off?store={store}", f"/console/reports/technicians?store={store}",
                f"/console/reports/technicians.csv?store={store}"):
        assert page.request.get(url).status == 403, url
    assert page.request.get(f"/console/jobs/{job_id}/reschedule").status == 404
    page.goto("/console/board")
    token = page.locator("input[name=csrf_token]").first.input_value()  # their own, valid session
    posts = [(f"/console/jobs/{job_id}/assign", {"technician": console.sandbox.world.technician_ids[2]}, 404),
             (f"/console/jobs/{job_id}/reschedule", {"start": "2030-01-07T10:00:00+00:00", "reason": "RS01"}, 404),
             ("/console/time-off", {"store": store, "type": "BREAK", "start": "2030-01-07T10:00",
                                    "end": "2030-01-07T11:00"}, 403),
             (f"/console/time-off/{reservation_id}/cancel", {"store": store}, 403),
             (f"/console/time-off/{reservation_id}/cancel", {}, 404)]  # not in their own store
    for url, form, status in posts:
        assert page.request.post(url, form={"csrf_token": token, **form}, max_redirects=0).status == status, url
    listed = httpx.get(f"{console.base}/v1/stores/{store}/reservations", headers=console.token("boss")).json()
    assert next(r for r in listed["reservations"] if r["id"] == reservation_id)["status"] == "ACTIVE"
    assert upstream_technicians(console, job_id) == [console.sandbox.world.technician_ids[2]]


def test_the_dispatch_forms_refuse_a_post_without_its_csrf_token(page: Page, console):
    job_id = day_jobs(console, 2)[1]
    sign_in(page, "boss")
    for url in (f"/console/jobs/{job_id}/assign", f"/console/jobs/{job_id}/reschedule", "/console/time-off",
                "/console/time-off/any/move", "/console/time-off/any/cancel"):
        for form in ({}, {"csrf_token": "0" * 64}):
            answer = page.request.post(url, form={**form, "technician": "X"}, max_redirects=0)
            assert answer.status == 403 and "security token" in answer.text(), url
    assert upstream_technicians(console, job_id) == [console.sandbox.world.technician_ids[2]]


def test_the_board_time_off_and_report_fit_a_tablet_768_pixels_wide(browser, console):
    tablet = browser.new_context(base_url=console.base, viewport={"width": 768, "height": 1024})
    tablet.set_default_timeout(WAIT_MS)
    try:
        page = tablet.new_page()
        sign_in(page, "boss")
        for url in (f"/console/board?date={DAY}", "/console/time-off",
                    "/console/reports/technicians?from=2026-06-14&to=2026-06-15"):
            page.goto(url)
            assert page.evaluate("document.documentElement.scrollWidth") <= 768, url
    finally:
        tablet.close()
