"""The delta feed: an offline-first phone asks what changed since its cursor and
gets exactly the jobs that did, the IDs that left its view, and a new cursor."""

from __future__ import annotations

import io
import random
from datetime import timedelta

import pytest
from sqlalchemy import text

from techapi import create_app
from techapi.jobs.models import Job
from techapi.jobs.sync import sync_day
from techapi.spapi.sandbox.seed import make_job
from techapi.worker.runner import Worker
from tests import media
from tests.api.test_conditional_gets import fast_reads, statements
from tests.closing import ask_closure, make_ready
from tests.conftest import NOW, TEST_DATABASE_URL


@pytest.fixture
def people(auth, world, synced):
    store = world.store_ids[0]
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    auth.user("tech2", "technician", technician_id=world.technician_ids[1])
    auth.user("boss", "supervisor", stores=(store,))
    auth.user("root", "admin")
    return {name: auth.headers(name) for name in ("tech", "tech2", "boss", "root")}


@pytest.fixture
def job_id(client, people) -> str:
    return client.get("/v1/jobs", headers=people["tech"]).get_json()["jobs"][1]["serviceJobId"]


def changes(client, headers, since: str | None = None, status: int = 200) -> dict:
    response = client.get("/v1/sync/changes", query_string={"since": since} if since else {}, headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def settled(client, headers) -> str:
    """The cursor after a whole first sync."""
    body = changes(client, headers)
    while body["hasMore"]:
        body = changes(client, headers, body["cursor"])
    return body["cursor"]


def changed_ids(body: dict) -> list[str]:
    return [j["serviceJobId"] for j in body["changes"]]


def test_without_a_cursor_the_feed_holds_the_whole_window_like_the_day_list(client, people):
    tech = people["tech"]
    body = changes(client, tech)
    listed = sorted(j["serviceJobId"] for j in client.get("/v1/jobs", headers=tech).get_json()["jobs"])
    assert body["full"] is True and body["hasMore"] is False and body["removed"] == []
    assert changed_ids(body) == listed and listed
    assert body["windowFrom"] == NOW.date().isoformat()
    assert body["windowTo"] == (NOW.date() + timedelta(days=7)).isoformat()
    day_entry = next(j for j in client.get("/v1/jobs", headers=tech).get_json()["jobs"])
    assert next(j for j in body["changes"] if j["serviceJobId"] == day_entry["serviceJobId"]) == day_entry


def test_with_nothing_changed_the_answer_is_empty_and_costs_one_query_after_authentication(app, client, people):
    tech = people["tech"]
    cursor = settled(client, tech)
    with statements(app) as seen:
        body = changes(client, tech, cursor)
    assert body == {**body, "changes": [], "removed": [], "hasMore": False, "full": False, "cursor": cursor}
    assert len([s for s in seen if "change_counter" in s]) == 1
    assert not any("FROM jobs" in s or "job_departures" in s for s in seen), seen
    # On PostgreSQL (techapi.reads.fast) the token's check is in that same statement.
    assert len([s for s in seen if not s.startswith("BEGIN")]) == (1 if fast_reads(app) else 2), seen


def test_a_recorded_time_returns_exactly_that_job(client, people, job_id):
    tech = people["tech"]
    cursor = settled(client, tech)
    assert client.post(f"/v1/jobs/{job_id}/start", json={}, headers=tech).status_code == 200
    body = changes(client, tech, cursor)
    assert changed_ids(body) == [job_id] and body["removed"] == [] and body["full"] is False
    assert "START_TIME" not in body["changes"][0]["stillNeeded"]
    assert changes(client, tech, body["cursor"])["changes"] == []


def test_a_document_added_and_its_upload_each_return_that_job(app, client, people, job_id):
    tech = people["tech"]
    cursor = settled(client, tech)
    added = client.post(f"/v1/jobs/{job_id}/documents", headers=tech, content_type="multipart/form-data",
                        data={"kind": "PHOTO", "file": (io.BytesIO(media.jpeg()), "p.jpg")})
    assert added.status_code == 201, added.get_json()
    body = changes(client, tech, cursor)
    assert changed_ids(body) == [job_id]
    assert Worker(app).drain(max_seconds=30) == 0  # the worker uploads it: another change, from another session
    assert changed_ids(changes(client, tech, body["cursor"])) == [job_id]


def test_a_closure_asked_and_decided_returns_that_job_to_its_technician(app, client, people, job_id):
    tech, boss = people["tech"], people["boss"]
    make_ready(client, tech, job_id)
    cursor = settled(client, tech)
    assert ask_closure(client, tech, job_id).status_code == 200
    asked = changes(client, tech, cursor)
    assert changed_ids(asked) == [job_id]
    assert client.post(f"/v1/jobs/{job_id}/closure/approve", headers=boss).status_code == 200
    decided = changes(client, tech, asked["cursor"])
    assert changed_ids(decided) == [job_id]


def test_a_sync_returns_the_job_only_when_it_changed_upstream(client, people, job_id, sandbox, deps, clock):
    tech = people["tech"]
    cursor = settled(client, tech)
    clock.advance(minutes=5)
    sync_day(deps, NOW.date())
    assert changes(client, tech, cursor)["changes"] == []
    with sandbox.state.lock:
        job = sandbox.state.jobs[job_id]
        job.payload["serviceLocation"]["address"]["addressLine1"] = "1 Changed Street"
        job.updated_at = clock.now()
    clock.advance(minutes=10)
    sync_day(deps, NOW.date())
    body = changes(client, tech, cursor)
    assert changed_ids(body) == [job_id]
    assert body["changes"][0]["address"]["addressLine1"] == "1 Changed Street"


def test_a_job_rescheduled_within_the_window_is_a_change_and_beyond_it_is_removed(client, people):
    tech, boss = people["tech"], people["boss"]
    first, second = [j["serviceJobId"] for j in client.get("/v1/jobs", headers=tech).get_json()["jobs"]][:2]
    mine, store = settled(client, tech), settled(client, boss)
    for job, days in ((first, 2), (second, 9)):
        moved = client.post(f"/v1/jobs/{job}/reschedule", headers=boss, json={
            "start": (NOW + timedelta(days=days)).replace(hour=8).isoformat(), "reasonCode": "RS4"})
        assert moved.status_code == 200, moved.get_json()
    body = changes(client, boss, store)
    assert changed_ids(body) == [first]
    assert body["changes"][0]["appointment"]["start"].startswith((NOW + timedelta(days=2)).date().isoformat())
    assert body["removed"] == [second]
    # SP-API drops the technicians of a rescheduled appointment: both jobs leave the technician.
    left = changes(client, tech, mine)
    assert left["changes"] == [] and left["removed"] == sorted([first, second])


def test_a_job_reassigned_leaves_one_technician_and_reaches_the_other(app, client, people, job_id, world):
    tech, other, boss = people["tech"], people["tech2"], people["boss"]
    mine, theirs = settled(client, tech), settled(client, other)
    asked = client.put(f"/v1/jobs/{job_id}/technicians", json={"technicianIds": [world.technician_ids[1]]},
                       headers=boss)
    assert asked.status_code == 202, asked.get_json()
    assert Worker(app).drain(max_seconds=30) == 0
    left = changes(client, tech, mine)
    assert left["removed"] == [job_id] and left["changes"] == []
    arrived = changes(client, other, theirs)
    assert changed_ids(arrived) == [job_id] and arrived["removed"] == []


def test_a_cursor_issued_before_a_restart_still_works(settings, clock, sandbox, client, people, job_id):
    tech = people["tech"]
    cursor = settled(client, tech)
    assert client.post(f"/v1/jobs/{job_id}/start", json={}, headers=tech).status_code == 200
    # A new process: another engine, another random Flask secret, the same database.
    restarted = create_app(settings, clock=clock, sandbox=sandbox)
    try:
        body = changes(restarted.test_client(), tech, cursor)
    finally:
        restarted.extensions["techapi"].db.dispose()
    assert changed_ids(body) == [job_id]


def test_the_counter_is_shared_by_every_process_and_only_moves_up(settings, clock, sandbox, client, people, job_id):
    tech = people["tech"]
    cursor = settled(client, tech)
    other = create_app(settings, clock=clock, sandbox=sandbox)
    try:
        stopped = other.test_client().post(f"/v1/jobs/{job_id}/start", json={}, headers=tech)
        assert stopped.status_code == 200
        body = changes(client, tech, cursor)  # written by one app, seen through the other
    finally:
        other.extensions["techapi"].db.dispose()
    assert changed_ids(body) == [job_id]
    assert client.post(f"/v1/jobs/{job_id}/finish", json={}, headers=tech).status_code == 200
    assert changed_ids(changes(client, tech, body["cursor"])) == [job_id]


def test_the_first_poll_of_a_new_day_resends_the_window_and_drops_yesterday(client, auth, people, clock):
    tech = people["tech"]
    today = {j["serviceJobId"] for j in client.get("/v1/jobs", headers=tech).get_json()["jobs"]}
    cursor = settled(client, tech)
    clock.advance(days=1)
    tech = auth.headers("tech")  # yesterday's token has expired
    body = changes(client, tech, cursor)
    assert body["full"] is True and body["windowFrom"] == (NOW.date() + timedelta(days=1)).isoformat()
    assert set(body["removed"]) == today and body["changes"] == []


@pytest.mark.parametrize("why", ["expired", "another user", "garbage", "altered"])
def test_an_expired_or_foreign_cursor_is_410_with_a_hint_to_sync_again(client, auth, people, clock, why):
    cursor = settled(client, people["tech"])
    headers = people["tech"]
    if why == "expired":
        clock.advance(days=8)
        headers = auth.headers("tech")
    elif why == "another user":
        headers = people["tech2"]
    elif why == "garbage":
        cursor = "c1.!!!not-base64"
    else:
        cursor = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    body = changes(client, headers, cursor, status=410)
    assert "without `since`" in body["message"]


def test_a_cursor_of_another_database_is_410(client, people, deps):
    cursor = settled(client, people["tech"])
    with deps.db.transaction() as session:
        session.execute(text("UPDATE change_counter SET epoch = 'another'"))
    assert changes(client, people["tech"], cursor, status=410)["code"] == 410


def test_supervisors_see_their_stores_jobs_and_never_another_technicians_in_a_technicians_feed(client, people):
    tech, boss = people["tech"], people["boss"]
    mine = set(changed_ids(changes(client, tech)))
    store = set(changed_ids(changes(client, boss)))
    assert mine < store
    other = set(changed_ids(changes(client, people["tech2"])))
    assert not mine & other


def test_pages_hold_at_most_200_jobs_and_lose_none_changed_while_paging(app, client, auth, sandbox, world, deps):
    rng = random.Random(7)
    tech = ("ABIGDAY0001", "Busy Tech")
    with sandbox.state.lock:
        for n in range(450):
            start = NOW.replace(hour=8, minute=0) + timedelta(minutes=n)
            sandbox.state.add_job(make_job(rng, marketplace_id="ATVPDKIKX0DER", store_id=world.store_ids[0],
                                           technician=tech, start=start, created=start - timedelta(days=3)))
    sync_day(deps, NOW.date())
    auth.user("busy", "technician", technician_id=tech[0])
    headers = auth.headers("busy")
    seen: list[str] = []
    body = changes(client, headers)
    pages = 1
    first_page = changed_ids(body)
    # A job of the first page changes while the phone pages: it comes with the next delta.
    assert client.post(f"/v1/jobs/{first_page[0]}/start", json={}, headers=headers).status_code == 200
    seen += first_page
    while body["hasMore"]:
        body = changes(client, headers, body["cursor"])
        seen += changed_ids(body)
        pages += 1
    assert pages == 3 and len(seen) == len(set(seen)) == 450
    assert all(len(p) <= 200 for p in (first_page,))
    assert changed_ids(changes(client, headers, body["cursor"])) == [first_page[0]]


def test_a_bad_since_is_a_clear_4xx_never_a_500(client, people):
    for since in ["x" * 2000, "c1." + "A" * 1000, "c1.e30", "\u00e9"]:
        response = client.get("/v1/sync/changes", query_string={"since": since}, headers=people["tech"])
        assert response.status_code in (410, 422), (since, response.get_json())


def test_the_feed_needs_a_token(client):
    assert client.get("/v1/sync/changes").status_code == 401


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="SQLite runs one writer at a time: no interleaving to show")
def test_a_change_committed_after_a_later_one_is_not_skipped(client, people, deps):
    """Transaction A writes first and commits last; a poll between the two commits
    must not hand out a cursor that skips A (it would with a sequence or a timestamp)."""
    tech = people["tech"]
    first, second = [j["serviceJobId"] for j in client.get("/v1/jobs", headers=tech).get_json()["jobs"]][:2]
    cursor = settled(client, tech)
    with deps.db.session() as slow:
        slow.get(Job, first).customer_name = "Written first"
        slow.flush()  # A holds its row and its version bump, not yet committed
        with deps.db.transaction() as quick:
            quick.get(Job, second).customer_name = "Committed first"
        between = changes(client, tech, cursor)
        slow.commit()
    assert changed_ids(between) == [second]
    after = changes(client, tech, between["cursor"])
    assert changed_ids(after) == [first] and after["changes"][0]["customer"]["name"] == "Written first"


def test_a_first_sync_holds_the_jobs_written_before_the_counter_existed(client, people, deps):
    tech = people["tech"]
    listed = sorted(j["serviceJobId"] for j in client.get("/v1/jobs", headers=tech).get_json()["jobs"])
    with deps.db.transaction() as session:  # as migration 0012 leaves a database that already had jobs
        session.execute(text("UPDATE jobs SET change_seq = 0"))
        session.execute(text("UPDATE change_counter SET value = 0"))
    assert changed_ids(changes(client, tech)) == listed


def test_a_hand_made_cursor_out_of_range_is_410_not_a_500(client, people):
    import base64
    import json

    cursor = settled(client, people["tech"])
    raw = json.loads(base64.urlsafe_b64decode(cursor[3:] + "=" * (-len(cursor[3:]) % 4)))
    for change in ({"since": 2**70}, {"upto": 2**64, "after": "x"}, {"upto": 1, "after": "a\x00b"},
                   {"upto": 1, "after": "\ud800"}, {"upto": 1, "after": 7}, {"since": -1}, {"window": "tomorrow"}):
        forged = "c1." + base64.urlsafe_b64encode(json.dumps({**raw, **change}).encode()).decode().rstrip("=")
        assert changes(client, people["tech"], forged, status=410)["code"] == 410, change


def test_a_counter_row_deleted_by_hand_starts_a_new_epoch_that_loses_no_job(client, people, deps, job_id):
    tech = people["tech"]
    cursor = settled(client, tech)
    listed = sorted(j["serviceJobId"] for j in client.get("/v1/jobs", headers=tech).get_json()["jobs"])
    with deps.db.transaction() as session:
        session.execute(text("DELETE FROM change_counter"))
    assert client.post(f"/v1/jobs/{job_id}/start", json={}, headers=tech).status_code == 200
    assert changes(client, tech, cursor, status=410)["code"] == 410  # every cursor of the old epoch
    assert changed_ids(changes(client, tech)) == listed
