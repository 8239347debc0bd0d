"""Conditional GETs: a phone that polls gets 304 with no body while nothing it
shows has changed, and a new ETag after every change it would see."""

from __future__ import annotations

import io
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from techapi.jobs.sync import sync_day
from techapi.worker.runner import Worker
from tests import media
from tests.closing import ask_closure, make_ready
from tests.conftest import NOW


@pytest.fixture
def people(auth, world, synced):
    store = world.store_ids[0]
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    auth.user("boss", "supervisor", stores=(store,))
    auth.user("boss2", "supervisor", stores=(store,))
    auth.user("root", "admin")
    return {name: auth.headers(name) for name in ("tech", "boss", "boss2", "root")}


@pytest.fixture
def job_id(client, people) -> str:
    return client.get("/v1/jobs", headers=people["tech"]).get_json()["jobs"][1]["serviceJobId"]


def etag(client, url, headers) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "private, no-cache"
    tag = response.headers["ETag"]
    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
    return tag


def revalidate(client, url, headers, tag: str):
    return client.get(url, headers={**headers, "If-None-Match": tag})


@contextmanager
def statements(app):
    """The SQL statements run while the block runs, through the engine or the fast reads' connections."""
    deps = app.extensions["techapi"]
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(deps.db.engine, "before_cursor_execute", count)
    fast = fast_reads(app)
    if fast is not None:  # PostgreSQL: the polls it answers run on its own connections
        fast.connections.observers.append(seen.append)
    try:
        yield seen
    finally:
        event.remove(deps.db.engine, "before_cursor_execute", count)
        if fast is not None:
            fast.connections.observers.remove(seen.append)


def fast_reads(app):
    """The app's FastReads layer (techapi.reads.fast): on PostgreSQL only."""
    return app.extensions.get("techapi.fast_reads")


def urls(job_id: str) -> list[str]:
    return ["/v1/jobs", f"/v1/jobs/{job_id}", f"/v1/jobs/{job_id}/documents"]


def test_an_unchanged_list_is_304_with_no_body_and_its_validators(client, people, job_id):
    for url in [*urls(job_id), "/v1/me"]:
        tag = etag(client, url, people["tech"])
        again = revalidate(client, url, people["tech"], tag)
        assert again.status_code == 304, url
        assert again.data == b""
        assert again.headers["ETag"] == tag and again.headers["Cache-Control"] == "private, no-cache"
        assert "Authorization" in again.headers["Vary"]
    tag = etag(client, "/v1/closures", people["boss"])
    assert revalidate(client, "/v1/closures", people["boss"], tag).status_code == 304


def test_the_list_takes_two_queries_and_its_304_two_small_ones_with_no_serialisation(app, client, people):
    tag = etag(client, "/v1/jobs", people["tech"])
    with statements(app) as full:
        assert client.get("/v1/jobs", headers=people["tech"]).status_code == 200
    with statements(app) as cheap:
        assert revalidate(client, "/v1/jobs", people["tech"], tag).status_code == 304
    # The list: the token (with its user and stores), then the jobs with their evidence and versions;
    # on PostgreSQL a technician's poll is one statement holding both (techapi.reads.fast).
    each = 1 if fast_reads(app) else 2
    queries = [s for s in full if not s.startswith("BEGIN")]
    assert len(queries) == each, full
    assert "access_tokens" in queries[0]
    assert "time_records" in queries[-1] and "documents" in queries[-1] and "payload" not in queries[-1]
    queries = [s for s in cheap if not s.startswith("BEGIN")]
    assert len(queries) == each, cheap
    assert not any("time_records" in s or "documents" in s for s in queries)


def test_recording_a_time_or_adding_a_document_changes_the_jobs_etags(client, people, job_id):
    tech = people["tech"]
    before = {url: etag(client, url, tech) for url in urls(job_id)}
    started = client.post(f"/v1/jobs/{job_id}/start", json={}, headers=tech)
    assert started.status_code == 200, started.get_json()
    after_time = {url: etag(client, url, tech) for url in urls(job_id)}
    assert after_time["/v1/jobs"] != before["/v1/jobs"]
    assert after_time[f"/v1/jobs/{job_id}"] != before[f"/v1/jobs/{job_id}"]
    for url, tag in before.items():
        assert revalidate(client, url, tech, tag).status_code == 200, url

    added = client.post(f"/v1/jobs/{job_id}/documents", headers=tech, content_type="multipart/form-data",
                        data={"kind": "PHOTO", "file": (io.BytesIO(media.jpeg()), "p.jpg")})
    assert added.status_code == 201, added.get_json()
    after_document = {url: etag(client, url, tech) for url in urls(job_id)}
    assert all(after_document[url] != after_time[url] for url in urls(job_id))


def test_a_closure_asked_and_decided_changes_the_list_the_detail_and_the_closure_list(
        app, client, people, job_id, deps):
    tech, boss = people["tech"], people["boss"]
    make_ready(client, tech, job_id)
    before = {url: etag(client, url, tech) for url in urls(job_id)}
    assert ask_closure(client, tech, job_id).status_code == 200
    asked = {url: etag(client, url, tech) for url in urls(job_id)}
    assert asked["/v1/jobs"] != before["/v1/jobs"] and asked[urls(job_id)[1]] != before[urls(job_id)[1]]
    closures = etag(client, "/v1/closures", boss)
    assert revalidate(client, "/v1/closures", boss, closures).status_code == 304

    assert client.post(f"/v1/jobs/{job_id}/closure/approve", headers=boss).status_code == 200
    assert revalidate(client, "/v1/closures", boss, closures).status_code == 200
    assert revalidate(client, urls(job_id)[1], tech, asked[urls(job_id)[1]]).status_code == 200
    approved = etag(client, urls(job_id)[1], tech)
    assert Worker(app).drain(max_seconds=60) == 0  # the worker sends it: the job completes
    assert revalidate(client, urls(job_id)[1], tech, approved).status_code == 200


def test_a_sync_changes_the_etag_only_when_the_job_changed(client, people, job_id, sandbox, deps, clock):
    tech = people["tech"]
    tag = etag(client, "/v1/jobs", tech)
    detail = etag(client, f"/v1/jobs/{job_id}", tech)
    clock.advance(minutes=5)
    sync_day(deps, NOW.date())  # nothing changed upstream: the phone keeps its copy
    assert revalidate(client, "/v1/jobs", tech, tag).status_code == 304
    assert revalidate(client, f"/v1/jobs/{job_id}", tech, detail).status_code == 304

    job = sandbox.state.jobs[job_id]
    with sandbox.state.lock:
        job.payload["serviceLocation"]["address"]["addressLine1"] = "1 Changed Street"
        job.updated_at = clock.now()
    clock.advance(minutes=10)
    sync_day(deps, NOW.date())
    assert revalidate(client, "/v1/jobs", tech, tag).status_code == 200
    assert revalidate(client, f"/v1/jobs/{job_id}", tech, detail).status_code == 200
    assert "1 Changed Street" in client.get(f"/v1/jobs/{job_id}", headers=tech).get_data(as_text=True)


def test_a_job_rescheduled_away_changes_the_technicians_list(client, people, job_id):
    tech = people["tech"]
    tag = etag(client, "/v1/jobs", tech)
    moved = client.post(f"/v1/jobs/{job_id}/reschedule", headers=people["boss"],
                        json={"start": (NOW + timedelta(days=2)).replace(hour=8).isoformat(), "reasonCode": "RS4"})
    assert moved.status_code == 200, moved.get_json()
    response = revalidate(client, "/v1/jobs", tech, tag)
    assert response.status_code == 200
    assert job_id not in [j["serviceJobId"] for j in response.get_json()["jobs"]]


def test_two_supervisors_of_the_same_store_never_share_an_etag(client, people, job_id):
    for url in [*urls(job_id), "/v1/closures", "/v1/me", "/v1/jobs?needs=assignment"]:
        mine, theirs = etag(client, url, people["boss"]), etag(client, url, people["boss2"])
        assert mine != theirs, url
        assert revalidate(client, url, people["boss2"], mine).status_code == 200, url
    assert etag(client, "/v1/jobs?needs=assignment", people["boss"]) != etag(client, "/v1/jobs", people["boss"])


def test_my_time_zone_change_changes_me_and_the_list(client, people):
    tech = people["tech"]
    me, jobs = etag(client, "/v1/me", tech), etag(client, "/v1/jobs", tech)
    assert client.patch("/v1/me", json={"timezone": "Europe/Paris"}, headers=tech).status_code == 200
    assert revalidate(client, "/v1/me", tech, me).status_code == 200
    assert revalidate(client, "/v1/jobs", tech, jobs).status_code == 200


@pytest.mark.parametrize("header, status", [
    ('"nope", {tag}', 304),           # one of a list matches
    ('"a","b" , {tag}', 304),         # whitespace and no space around commas
    ("W/{tag}", 304),                 # If-None-Match compares weakly (RFC 9110 13.1.2)
    ("*", 304),                       # any current representation
    ('"nope", W/"other"', 200),
])
def test_if_none_match_lists_weak_tags_and_star_follow_rfc_9110(client, people, header, status):
    tag = etag(client, "/v1/jobs", people["tech"])
    value = header.format(tag=tag)
    response = revalidate(client, "/v1/jobs", people["tech"], value)
    assert response.status_code == status
    if status == 304:
        assert response.data == b"" and response.headers["ETag"] == tag


def test_star_on_a_job_i_may_not_see_is_still_404(client, people, world):
    every = [j["serviceJobId"] for j in client.get("/v1/jobs", headers=people["root"]).get_json()["jobs"]]
    hidden = next(i for i in every
                  if client.get(f"/v1/jobs/{i}", headers=people["root"]).get_json()["storeId"] == world.store_ids[1])
    assert revalidate(client, f"/v1/jobs/{hidden}", people["tech"], "*").status_code == 404
    assert revalidate(client, f"/v1/jobs/{hidden}/documents", people["boss"], "*").status_code == 404


def test_an_assignment_changes_the_detail_when_asked_and_the_lists_when_done(app, client, people, job_id, world):
    boss, tech = people["boss"], people["tech"]
    detail, mine = etag(client, f"/v1/jobs/{job_id}", boss), etag(client, "/v1/jobs", tech)
    asked = client.put(f"/v1/jobs/{job_id}/technicians", json={"technicianIds": [world.technician_ids[1]]},
                       headers=boss)
    assert asked.status_code == 202, asked.get_json()
    assert revalidate(client, f"/v1/jobs/{job_id}", boss, detail).status_code == 200  # shows PENDING
    pending = etag(client, f"/v1/jobs/{job_id}", boss)
    assert Worker(app).drain(max_seconds=30) == 0
    assert revalidate(client, f"/v1/jobs/{job_id}", boss, pending).status_code == 200  # DONE, new technician
    listed = revalidate(client, "/v1/jobs", tech, mine)
    assert listed.status_code == 200 and job_id not in [j["serviceJobId"] for j in listed.get_json()["jobs"]]


def test_the_worker_finishing_an_upload_changes_the_documents_etag(app, client, people, job_id):
    tech = people["tech"]
    added = client.post(f"/v1/jobs/{job_id}/documents", headers=tech, content_type="multipart/form-data",
                        data={"kind": "PHOTO", "file": (io.BytesIO(media.jpeg()), "p.jpg")})
    assert added.status_code == 201 and added.get_json()["status"] != "UPLOADED"
    tag = etag(client, f"/v1/jobs/{job_id}/documents", tech)
    assert Worker(app).drain(max_seconds=30) == 0
    response = revalidate(client, f"/v1/jobs/{job_id}/documents", tech, tag)
    assert response.status_code == 200 and response.get_json()["documents"][0]["status"] == "UPLOADED"
