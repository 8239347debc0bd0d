"""The phone's polls beneath the framework (techapi.reads.fast, PostgreSQL): the
same answers as the views give, byte for byte and header for header, in one
statement; and every request it is not sure of answered by the app as before."""

from __future__ import annotations

import gzip

import pytest
from sqlalchemy import select, text

from techapi import create_app
from techapi.auth.models import User
from tests.api.test_conditional_gets import fast_reads, statements
from tests.conftest import TEST_DATABASE_URL

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="the fast reads run on PostgreSQL only")


@pytest.fixture
def people(auth, world, synced):
    store = world.store_ids[0]
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    auth.user("tech2", "technician", technician_id=world.technician_ids[1], timezone="America/New_York")
    auth.user("boss", "supervisor", stores=(store,))
    return {name: auth.headers(name) for name in ("tech", "tech2", "boss")}


@pytest.fixture
def plain(settings, clock, sandbox):
    """The same service on the same database without the fast reads: the views alone."""
    app = create_app(settings.with_overrides(fast_reads=False), clock=clock, sandbox=sandbox)
    app.config["TESTING"] = True
    yield app.test_client()
    app.extensions["techapi"].db.dispose()


def answered(client, url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    response = client.get(url, headers=headers)
    body = response.data
    if response.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)  # gzip's header holds the time: compare what it holds
    # A request's own ID; and Date, which flask-compress sets on what it compresses and the
    # server (gunicorn) on every answer.
    sent = {k: v for k, v in response.headers.items() if k not in ("X-Request-ID", "Date")}
    return response.status_code, sent, body


def cursor_of(client, headers) -> str:
    body = client.get("/v1/sync/changes", headers=headers).get_json()
    for _ in range(10):
        if not body["hasMore"]:
            return body["cursor"]
        body = client.get("/v1/sync/changes", query_string={"since": body["cursor"]}, headers=headers).get_json()
    raise AssertionError("more than 10 pages")


def test_every_poll_it_answers_is_the_views_answer_byte_for_byte(app, client, plain, people):
    assert fast_reads(app) is not None
    requests = []
    for who in ("tech", "tech2", "boss"):
        h = people[who]
        tag = client.get("/v1/jobs", headers=h).headers["ETag"]
        since = cursor_of(client, h)
        requests += [
            ("/v1/jobs", h), ("/v1/jobs?date=2026-06-15", h), ("/v1/jobs?date=2026-06-16", h),
            ("/v1/jobs", {**h, "If-None-Match": tag}),
            ("/v1/jobs", {**h, "If-None-Match": f'"other", {tag}'}),
            ("/v1/jobs", {**h, "If-None-Match": f"W/{tag}"}),
            ("/v1/jobs", {**h, "If-None-Match": tag[:-1] + ':gzip"'}),
            ("/v1/jobs", {**h, "If-None-Match": '"stale"'}),
            ("/v1/jobs", {**h, "If-None-Match": "*"}),
            ("/v1/jobs", {**h, "Accept-Encoding": "gzip"}),
            ("/v1/jobs", {**h, "Accept-Encoding": "br;q=0, gzip"}),
            ("/v1/jobs", {**h, "Accept-Encoding": "gzip", "If-Match": '"other"'}),
            ("/v1/jobs", {**h, "If-None-Match": f'{tag}, {tag[:-1]}:gzip"'}),
            ("/v1/jobs", {**h, "If-None-Match": f'W/{tag[:-1]}:gzip", {tag[:-1]}:br"'}),
            ("/v1/jobs?date=1999-12-31", h), ("/v1/jobs?date=2026-02-30", h), ("/v1/jobs?needs=assignment", h),
            ("/v1/jobs?date=2026-06-15&date=2026-06-16", h),
            (f"/v1/sync/changes?since={since}", h),
            (f"/v1/sync/changes?since={since}", {**h, "Accept-Encoding": "gzip"}),
            (f"/v1/sync/changes?since={since[:-2]}", h),
            ("/v1/sync/changes?since=", h),
        ]
    requests += [("/v1/jobs", {"Authorization": "Bearer nope"}), ("/v1/jobs", {}),
                 ("/v1/sync/changes?since=c1.x", {"Authorization": "Bearer nope"})]
    with statements(app) as fast_statements:
        for url, headers in requests:
            assert answered(client, url, headers) == answered(plain, url, headers), (url, headers)
    assert fast_statements  # it did answer some of them itself
    statuses = {answered(client, url, headers)[0] for url, headers in requests}
    assert {200, 304, 401, 410, 412, 422} <= statuses


def test_a_poll_is_one_statement_and_the_token_is_checked_in_it(app, client, people):
    tech = people["tech"]
    tag = client.get("/v1/jobs", headers=tech).headers["ETag"]
    since = cursor_of(client, tech)
    for url, headers, status in [("/v1/jobs", tech, 200), ("/v1/jobs", {**tech, "If-None-Match": tag}, 304),
                                 (f"/v1/sync/changes?since={since}", tech, 200)]:
        with statements(app) as seen:
            assert client.get(url, headers=headers).status_code == status
        assert len(seen) == 1 and "access_tokens" in seen[0] and "revoked_at" in seen[0], seen


def test_a_revoked_token_is_refused_by_the_very_next_poll(client, people):
    tech = people["tech"]
    tag = client.get("/v1/jobs", headers=tech).headers["ETag"]
    assert client.get("/v1/jobs", headers={**tech, "If-None-Match": tag}).status_code == 304  # remembered now
    assert client.post("/v1/auth/logout", headers=tech).status_code == 204
    for headers in (tech, {**tech, "If-None-Match": tag}):
        refused = client.get("/v1/jobs", headers=headers)
        assert refused.status_code == 401 and refused.get_json()["message"] == "Invalid or revoked bearer token"


def test_an_expired_token_or_a_disabled_account_is_refused(client, people, clock, deps):
    tech, other = people["tech"], people["tech2"]
    assert client.get("/v1/jobs", headers=tech).status_code == 200
    assert client.get("/v1/jobs", headers=other).status_code == 200
    with deps.db.session() as session:
        session.scalars(select(User).where(User.username == "tech2")).one().active = False
        session.commit()
    assert client.get("/v1/jobs", headers=other).get_json()["message"] == "Account is disabled"
    clock.advance(seconds=deps.settings.token_ttl_seconds + 1)
    assert client.get("/v1/jobs", headers=tech).get_json()["message"] == "Bearer token has expired; log in again"


def test_a_changed_time_zone_is_seen_by_the_next_poll(client, people):
    tech = people["tech"]
    before = client.get("/v1/jobs", headers=tech)
    assert before.get_json()["timezone"] == "UTC"
    assert client.patch("/v1/me", json={"timezone": "Asia/Tokyo"}, headers=tech).status_code == 200
    after = client.get("/v1/jobs", headers={**tech, "If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.get_json()["timezone"] == "Asia/Tokyo"
    assert client.get("/v1/jobs", headers=tech).get_json()["timezone"] == "Asia/Tokyo"


def test_a_connection_the_database_dropped_costs_nothing_but_itself(app, client, people, deps):
    tech = people["tech"]
    expected = client.get("/v1/jobs", headers=tech).get_json()
    fast = fast_reads(app)
    assert fast.connections.idle.qsize() >= 1
    pids = [item[0].info.backend_pid for item in list(fast.connections.idle.queue)]
    with deps.db.engine.connect() as conn:
        for pid in pids:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    again = client.get("/v1/jobs", headers=tech)  # the dead connection fails; the app answers
    assert again.status_code == 200 and again.get_json() == expected
    with statements(app) as seen:
        assert client.get("/v1/jobs", headers=tech).get_json() == expected
    assert len(seen) == 1  # answered beneath the framework again, on a new connection


def test_a_change_from_another_process_ends_the_304s_at_once_and_another_technicians_does_not(
        app, client, plain, people):
    tech, other = people["tech"], people["tech2"]
    mine = client.get("/v1/jobs", headers=tech)
    theirs = client.get("/v1/jobs?date=2026-06-15", headers=other).get_json()["jobs"]
    tag = mine.headers["ETag"]
    assert client.get("/v1/jobs", headers={**tech, "If-None-Match": tag}).status_code == 304
    # Another technician's job changes, through another app (another process's sessions): the
    # counter moves, the versions are read again, and they are the same.
    assert plain.post(f"/v1/jobs/{theirs[0]['serviceJobId']}/start", json={}, headers=other).status_code == 200
    with statements(app) as seen:
        assert client.get("/v1/jobs", headers={**tech, "If-None-Match": tag}).status_code == 304
    assert len(seen) == 2 and "job_technicians" in seen[1], seen  # the counter moved: versions read again
    with statements(app) as seen:
        assert client.get("/v1/jobs", headers={**tech, "If-None-Match": tag}).status_code == 304
    assert len(seen) == 1 and "job_technicians" not in seen[0], seen  # and remembered at the new value
    # Now one of the technician's own jobs: the next poll is a 200 with a new tag.
    job = mine.get_json()["jobs"][0]["serviceJobId"]
    assert plain.post(f"/v1/jobs/{job}/start", json={}, headers=tech).status_code == 200
    changed = client.get("/v1/jobs", headers={**tech, "If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert "START_TIME" not in changed.get_json()["jobs"][0]["stillNeeded"]


def test_a_supervisors_polls_go_to_the_app_after_one_look_at_the_token(app, client, people):
    boss = people["boss"]
    with statements(app) as first:
        assert client.get("/v1/jobs", headers=boss).status_code == 200
    assert sum("caller_revoked_at" in s for s in first) == 1  # the layer looked once, then gave way
    with statements(app) as seen:
        assert client.get("/v1/jobs", headers=boss).status_code == 200
        assert client.get("/v1/sync/changes", headers=boss).status_code == 200
    assert not any("caller_revoked_at" in s for s in seen), seen  # the app alone answers a supervisor
