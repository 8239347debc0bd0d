"""Requests that race each other over real HTTP, on the database of the run
(PostgreSQL when TECHAPI_TEST_DATABASE_URL is set, where the races are real;
SQLite serialises every transaction and must give the same answers)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from techapi import create_app
from techapi.audit.models import AuditEvent
from techapi.auth.services import create_user
from techapi.closures.models import Cancellation, Closure
from techapi.queue.models import Task
from tests.closing import make_ready
from tests.conftest import PASSWORD


@contextmanager
def served(app) -> Iterator[str]:
    """The app behind a real threaded HTTP server on loopback."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def at_once(base: str, calls: list[Callable[[httpx.Client], httpx.Response]]) -> list[httpx.Response]:
    """Every call in a thread of its own, released together."""
    barrier = threading.Barrier(len(calls))
    answers: list[httpx.Response | None] = [None] * len(calls)

    def run(i: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            barrier.wait(timeout=30)
            answers[i] = calls[i](http)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert all(a is not None for a in answers), "a request did not come back"
    return answers  # type: ignore[return-value]


def codes(answers: list[httpx.Response]) -> Counter:
    return Counter(a.status_code for a in answers)


def audited(deps, job_id: str, action: str) -> int:
    with deps.db.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.service_job_id == job_id, AuditEvent.action == action))


def tasks(deps, job_id: str) -> Counter:
    with deps.db.session() as session:
        return Counter(session.scalars(select(Task.kind).where(Task.ref == job_id,
                                                               Task.kind.in_(("close_job", "cancel_job")))))


# Lockout ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_25_wrong_passwords_at_once_check_no_more_passwords_than_the_lockout_allows(settings, clock, sandbox):
    # argon2 at a real cost, so the guesses really overlap
    app = create_app(settings.with_overrides(argon2_time_cost=2, argon2_memory_kib=16384), clock=clock,
                     sandbox=sandbox)
    deps = app.extensions["techapi"]
    try:
        with deps.db.session() as session:
            create_user(session, deps.passwords, clock, "tech", "technician", PASSWORD, technician_id="T1")
        guess = {"username": "tech", "password": "not the password"}
        with served(app) as base:
            answers = at_once(base, [lambda http: http.post("/v1/auth/token", json=guess)] * 25)
            counted = codes(answers)
            # Each 401 is one password checked; every other guess was refused before argon2.
            assert counted[401] == 5 and counted[429] == 20, counted
            right = httpx.post(f"{base}/v1/auth/token", json={"username": "tech", "password": PASSWORD})
            assert right.status_code == 429  # locked: not even the right password is checked
    finally:
        deps.db.dispose()


# Closure, approval, cancellation -----------------------------------------------------------


@pytest.fixture
def people(auth, world, synced):
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    auth.user("boss", "supervisor", stores=tuple(world.store_ids))
    return {name: auth.headers(name) for name in ("tech", "boss")}


@pytest.fixture
def jobs(client, people) -> list[str]:
    return [j["serviceJobId"] for j in client.get("/v1/jobs", headers=people["tech"]).get_json()["jobs"]]


@pytest.mark.slow
def test_six_identical_closure_requests_then_six_approvals_at_once_give_one_closure_one_approval(
        app, client, people, jobs, deps):
    job_id = jobs[1]
    make_ready(client, people["tech"], job_id)
    with served(app) as base:
        asked = at_once(base, [lambda http: http.post(f"/v1/jobs/{job_id}/closure", headers=people["tech"])] * 6)
        assert set(codes(asked)) <= {200, 409}, [a.text for a in asked]
        assert audited(deps, job_id, "closure.requested") == 1
        approved = at_once(base, [lambda http: http.post(f"/v1/jobs/{job_id}/closure/approve",
                                                         headers=people["boss"])] * 6)
        assert set(codes(approved)) <= {200, 409}, [a.text for a in approved]
    assert audited(deps, job_id, "closure.approved") == 1
    assert tasks(deps, job_id) == {"close_job": 1}
    with deps.db.session() as session:
        assert session.get(Closure, job_id).state == "QUEUED"


@pytest.mark.slow
def test_six_identical_cancellation_requests_at_once_give_one_cancellation(app, people, jobs, deps):
    job_id = jobs[2]
    with served(app) as base:
        answers = at_once(base, [lambda http: http.post(f"/v1/jobs/{job_id}/cancellation", json={"reasonCode": "S13"},
                                                        headers=people["tech"])] * 6)
    assert set(codes(answers)) <= {202, 409}, [a.text for a in answers]
    assert audited(deps, job_id, "cancellation.requested") == 1
    assert tasks(deps, job_id) == {"cancel_job": 1}


@pytest.mark.slow
def test_a_closure_and_a_cancellation_asked_at_once_leave_only_one_of_them(app, client, people, jobs, deps):
    job_id = jobs[1]
    make_ready(client, people["tech"], job_id)
    close = [lambda http: http.post(f"/v1/jobs/{job_id}/closure", headers=people["tech"])] * 3
    cancel = [lambda http: http.post(f"/v1/jobs/{job_id}/cancellation", json={"reasonCode": "S13"},
                                     headers=people["tech"])] * 3
    with served(app) as base:
        answers = at_once(base, close + cancel)
    assert set(codes(answers)) <= {200, 202, 409}, [a.text for a in answers]
    with deps.db.session() as session:
        both = session.get(Closure, job_id), session.get(Cancellation, job_id)
    assert sum(x is not None for x in both) == 1
    assert sum(tasks(deps, job_id).values()) == (1 if both[1] is not None else 0)


# Time off ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_six_identical_time_off_requests_at_once_take_the_stores_capacity_once(app, auth, world, deps, sandbox):
    store = world.store_ids[0]
    tech_id = next(t for t, _, s in world.technicians if s == store)
    auth.user("off", "technician", technician_id=tech_id, stores=(store,))
    headers = auth.headers("off")
    body = {"start": "2026-06-17T12:00:00Z", "end": "2026-06-17T13:00:00Z", "type": "BREAK"}
    with served(app) as base:
        answers = at_once(base, [lambda http: http.post("/v1/me/time-off", json=body, headers=headers)] * 6)
    # One wins; the others find its time off (409), or SP-API finds the store's capacity gone (422).
    assert codes(answers)[201] == 1 and set(codes(answers)) <= {201, 409, 422}, [a.text for a in answers]
    mine = app.test_client().get("/v1/me/time-off", headers=headers).get_json()["reservations"]
    assert [r["status"] for r in mine] == ["ACTIVE"]
    with sandbox.state.lock:  # the losers' reservations were cancelled on SP-API again
        live = [r for r in sandbox.state.calendars[store].reservations.values() if r.kind == "BREAK"]
    assert len(live) == 1 and live[0].reservation_id == mine[0]["spapiReservationId"]
