"""The closure pipeline against the sandbox over real HTTP: end to end, under
faults, with workers side by side, and at full speed (workers stopped in the
middle of a closure: test_stopping_workers.py)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from techapi import create_app
from techapi.auth.services import create_user
from techapi.clock import SystemClock
from techapi.config import load_settings
from techapi.evidence.models import Document
from techapi.jobs.sync import sync_day
from techapi.queue import leases
from techapi.queue.kinds import TaskKind
from techapi.queue.models import Task
from techapi.queue.outbox import enqueue
from techapi.retry import RetryPolicy
from techapi.spapi import plans
from techapi.spapi.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN, Faults
from techapi.spapi.sandbox.seed import seed_bulk
from techapi.worker.runner import Worker
from tests import pdfs
from tests.closing import ask_closure, make_ready
from tests.conftest import NOW, PASSWORD
from tests.workers import approve_all, ready_and_uploaded

ROOT = Path(__file__).resolve().parents[2]
TECH, STORE = "ABULKTECH00001", "bulk-store-0001"
DAY = NOW.date().isoformat()


def environment(tmp_path, database_url, sandbox_url, **extra) -> dict[str, str]:
    return {
        "TECHAPI_DATABASE_URL": database_url,
        "TECHAPI_INSTANCE_PATH": str(tmp_path),
        "TECHAPI_SPAPI_ENDPOINT": sandbox_url,
        "TECHAPI_LWA_TOKEN_URL": f"{sandbox_url}/auth/o2/token",
        "TECHAPI_LWA_CLIENT_ID": SANDBOX_CLIENT_ID,
        "TECHAPI_LWA_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
        "TECHAPI_LWA_REFRESH_TOKEN": SANDBOX_REFRESH_TOKEN,
        "TECHAPI_UPLOAD_ALLOWED_HOSTS": "127.0.0.1",
        "TECHAPI_TASK_BACKOFF_SECONDS": "0.2",
        **extra,
    }


class World:
    """techapi (real mode, real clock) + the sandbox over HTTP + N bulk jobs."""

    def __init__(self, tmp_path, database_url, server, jobs: int, storage: dict[str, str], **extra: str) -> None:
        self.server, self.sandbox = server, server.sandbox
        self.job_ids = seed_bulk(self.sandbox.state, jobs, NOW.date(), "UTC", "ATVPDKIKX0DER",
                                 technician_id=TECH, store_id=STORE)
        self.env = environment(tmp_path, database_url, server.url, **storage, **extra)
        settings = load_settings(environ=self.env).with_overrides(argon2_time_cost=1, argon2_memory_kib=1024)
        self.app = create_app(settings, clock=SystemClock())
        self.deps = self.app.extensions["techapi"]
        self.deps.spapi.retry = RetryPolicy(max_attempts=5, base_delay=0.05, max_delay=0.5)
        sync_day(self.deps, NOW.date())
        with self.deps.db.session() as session:
            create_user(session, self.deps.passwords, self.deps.clock, "tech", "technician", PASSWORD,
                        technician_id=TECH)
            create_user(session, self.deps.passwords, self.deps.clock, "boss", "supervisor", PASSWORD,
                        stores=[STORE])
        self.client = self.app.test_client()
        self.tech = self._login("tech")
        self.boss = self._login("boss")

    def _login(self, username: str) -> dict[str, str]:
        token = self.client.post("/v1/auth/token", json={"username": username, "password": PASSWORD}).get_json()
        return {"Authorization": f"Bearer {token['access_token']}"}

    def approve_all(self, photos: int = 0) -> dict[str, dict]:
        evidence = {}
        for job_id in self.job_ids:
            evidence[job_id] = make_ready(self.client, self.tech, job_id, photos=photos)
            assert ask_closure(self.client, self.tech, job_id).status_code == 200
            assert self.client.post(f"/v1/jobs/{job_id}/closure/approve", headers=self.boss).status_code == 200
        return evidence

    def states(self) -> dict[str, str]:
        return {j: self.client.get(f"/v1/jobs/{j}/closure", headers=self.boss).get_json()["state"]
                for j in self.job_ids}

    def completions(self) -> list[int]:
        return [self.sandbox.state.jobs[j].completions for j in self.job_ids]

    def process_env(self) -> dict[str, str]:
        return {**{k: v for k, v in os.environ.items() if not k.startswith("TECHAPI_")}, **self.env}

    def run_cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        env = self.process_env()
        return subprocess.run([sys.executable, "-m", "techapi", *args], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout)

    def close(self) -> None:
        self.deps.db.dispose()


@pytest.fixture
def make_world(tmp_path, clean_database, http_sandbox, storage_env):
    made: list[World] = []

    def make(jobs: int, **extra: str) -> World:
        world = World(tmp_path, clean_database, http_sandbox, jobs, storage_env, **extra)
        made.append(world)
        return world

    yield make
    for world in made:
        world.close()


@pytest.mark.slow
def test_end_to_end_technician_closes_supervisor_approves_worker_drains(make_world):
    world = make_world(3)
    evidence = world.approve_all(photos=1)
    result = world.run_cli("worker", "--drain")
    assert result.returncode == 0, result.stderr[-2000:]
    assert set(world.states().values()) == {"COMPLETED"}
    for job_id, ev in evidence.items():
        job = world.sandbox.state.jobs[job_id]
        assert job.status == "COMPLETED" and job.completions == 1
        assert job.fulfillment["fulfillmentTime"] == {"startTime": ev["start"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                                                      "endTime": ev["finish"].strftime("%Y-%m-%dT%H:%M:%S.000Z")}
        assert job.fulfillment["appointmentResources"] == [{"resourceId": TECH}]
        sent = {d["uploadDestinationId"] for d in job.fulfillment["fulfillmentDocuments"]}
        assert len(sent) == len(ev["documents"]) == 2
        assert all(world.sandbox.state.destinations[d].data for d in sent)


@pytest.mark.slow
def test_under_5xx_after_commit_and_timeouts_every_closure_completes_exactly_once(make_world):
    world = make_world(30, TECHAPI_SPAPI_READ_TIMEOUT="0.5")
    evidence = world.approve_all()
    world.sandbox.set_faults(Faults(error_rate=0.2, error_after_commit_rate=0.1, latency_seconds=1.0,
                                    slow_rate=0.05, seed=11))
    assert Worker(world.app).drain(max_seconds=240) == 0
    assert set(world.states().values()) == {"COMPLETED"}
    assert world.completions() == [1] * 30
    for job_id, ev in evidence.items():  # no document lost on the way
        docs = world.sandbox.state.jobs[job_id].fulfillment["fulfillmentDocuments"]
        assert len(docs) == len(ev["documents"])
    state = world.sandbox.state
    assert state.calls_of(plans.COMPLETE_SERVICE_JOB, 500) + state.calls_of(plans.COMPLETE_SERVICE_JOB, 503) > 0


def test_a_poa_amazon_finds_malware_in_fails_as_a_document_to_replace_and_the_retry_completes(make_world):
    world = make_world(1)
    job_id, client, tech, boss = world.job_ids[0], world.client, world.tech, world.boss
    ready = make_ready(client, tech, job_id, photos=1, poa=pdfs.infected())  # EICAR in the content stream
    infected, photo = ready["documents"][0]["id"], ready["documents"][1]["id"]
    assert ask_closure(client, tech, job_id).status_code == 200
    assert client.post(f"/v1/jobs/{job_id}/closure/approve", headers=boss).status_code == 200
    assert Worker(world.app).drain(max_seconds=30) == 1  # the closure failed for good, once

    closure = client.get(f"/v1/jobs/{job_id}/closure", headers=boss).get_json()
    assert closure["state"] == "FAILED"
    assert infected in closure["failureReason"] and photo not in closure["failureReason"]
    assert "Document failed to meet malware check" in closure["failureReason"]
    assert "replacement" in closure["failureReason"]
    documents = {d["id"]: d for d in client.get(f"/v1/jobs/{job_id}/documents", headers=tech).get_json()["documents"]}
    assert documents[infected]["status"] == "FAILED" and "malware check" in documents[infected]["failureReason"]
    assert documents[photo]["status"] == "UPLOADED"
    assert "POA_DOCUMENT" in client.get(f"/v1/jobs/{job_id}", headers=tech).get_json()["stillNeeded"]
    assert world.sandbox.state.jobs[job_id].status == "NOT_SERVICED"

    # Retried before a replacement: failed at once, nothing sent again.
    sent = world.sandbox.state.calls_of(plans.SET_FULFILLMENT_DATA)
    assert client.post(f"/v1/jobs/{job_id}/closure/retry", headers=boss).status_code == 200
    assert Worker(world.app).drain(max_seconds=30) == 1
    closure = client.get(f"/v1/jobs/{job_id}/closure", headers=boss).get_json()
    assert closure["state"] == "FAILED" and infected in closure["failureReason"]
    assert world.sandbox.state.calls_of(plans.SET_FULFILLMENT_DATA) == sent

    replacement = client.post(f"/v1/jobs/{job_id}/documents", headers=tech, content_type="multipart/form-data",
                              data={"kind": "POA", "file": (io.BytesIO(pdfs.signed()), "poa-rescan.pdf")})
    assert replacement.status_code == 201, replacement.get_json()
    assert client.post(f"/v1/jobs/{job_id}/closure/retry", headers=boss).status_code == 200
    assert Worker(world.app).drain(max_seconds=30) == 0
    assert world.states() == {job_id: "COMPLETED"} and world.completions() == [1]
    with world.deps.db.session() as session:
        uploaded = dict(session.execute(select(Document.id, Document.upload_destination_id)).all())
    sent_last = {d["uploadDestinationId"] for d in world.sandbox.state.jobs[job_id].fulfillment["fulfillmentDocuments"]}
    assert sent_last == {uploaded[photo], uploaded[replacement.get_json()["id"]]}
    history = client.get(f"/v1/jobs/{job_id}/closure", headers=boss).get_json()["history"]
    failed = [e for e in history if e["action"] == "closure.failed"]
    assert len(failed) == 2


RACE = TaskKind("race", priority=5, run=lambda deps, ref, attempt: None)


def test_two_workers_never_claim_the_same_task(make_world):
    world = make_world(1)
    db, clock = world.deps.db, world.deps.clock
    for round_ in range(25):
        with db.session() as session:
            enqueue(session, RACE, f"ref-{round_}", clock.now())
            session.commit()
        barrier = threading.Barrier(2)
        claims: list = []

        def grab(owner: str, barrier: threading.Barrier = barrier, claims: list = claims) -> None:
            barrier.wait()
            claims.append(leases.claim(db, owner, clock.now(), 60))

        threads = [threading.Thread(target=grab, args=(f"w{i}",)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        won = [c for c in claims if c is not None]
        assert len(won) == 1, f"round {round_}: {claims}"
        leases.complete(db, won[0], clock.now())


def run_workers_side_by_side(world: World, n: int, max_seconds: float = 120) -> list[int]:
    """`n` workers, each built in its own thread (its own lease owner), released at
    once so their first claims race, each draining the queue."""
    gate = threading.Barrier(n)
    results: list[int] = []

    def work() -> None:
        worker = Worker(world.app)
        gate.wait(timeout=30)
        results.append(worker.drain(max_seconds=max_seconds))

    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max_seconds + 60)
    return results


def test_four_workers_side_by_side_claim_each_task_once_and_complete_each_closure_once(make_world):
    world = make_world(16)
    ready_and_uploaded(world)  # the documents go up first: only the 16 closures are left to claim
    approve_all(world)
    assert run_workers_side_by_side(world, 4) == [0, 0, 0, 0]
    assert set(world.states().values()) == {"COMPLETED"}
    assert world.completions() == [1] * 16
    # The pipeline's own idempotency hides a task claimed twice from the results
    # above; the claims and the calls SP-API saw do not.
    with world.deps.db.session() as session:
        closing = session.execute(select(Task.state, Task.attempts).where(Task.kind == "close_job")).all()
    assert sorted(closing) == [("DONE", 1)] * 16  # each claimed once, by one worker
    state = world.sandbox.state
    assert state.calls_of(plans.SET_FULFILLMENT_DATA) == 16
    assert state.calls_of(plans.COMPLETE_SERVICE_JOB) == state.calls_of(plans.COMPLETE_SERVICE_JOB, 200) == 16


def test_a_closure_and_its_documents_own_upload_on_two_workers_send_the_document_once(make_world):
    world = make_world(1)
    job_id = world.job_ids[0]
    make_ready(world.client, world.tech, job_id)  # queues the POA's upload
    assert ask_closure(world.client, world.tech, job_id).status_code == 200
    assert world.client.post(f"/v1/jobs/{job_id}/closure/approve", headers=world.boss).status_code == 200
    # A slow destination keeps both uploads in flight at once, as under load.
    world.sandbox.set_faults(Faults(latency_seconds=0.5, operations=(plans.CREATE_UPLOAD_DESTINATION,)))
    gate = threading.Barrier(2)

    def one_task() -> None:
        worker = Worker(world.app)
        gate.wait(timeout=30)
        worker.run_one()  # one takes close_job, the other upload_document

    threads = [threading.Thread(target=one_task) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert Worker(world.app).drain(max_seconds=30) == 0
    assert world.states() == {job_id: "COMPLETED"} and world.completions() == [1]
    state = world.sandbox.state
    assert state.calls_of(plans.CREATE_UPLOAD_DESTINATION) == 1 and state.calls_of("upload") == 1
    with world.deps.db.session() as session:
        tasks = dict(session.execute(select(Task.kind, Task.attempts)).all())
    # Whoever started the upload did it once; a closure that found it in flight
    # waited for it (one more attempt of its own), never sent it again.
    assert tasks["upload_document"] == 1 and tasks["close_job"] in (1, 2)


def plan_minimum(counts: dict[str, int]) -> float:
    """Least time the usage plans allow for these calls: burst first, then the rate."""
    return max(max(0, n - plans.USAGE_PLANS[op].burst) / plans.USAGE_PLANS[op].rate for op, n in counts.items())


@pytest.mark.slow
def test_100_closures_finish_within_10_percent_of_the_usage_plans(make_world):
    world = make_world(100)
    for job_id in world.job_ids:
        make_ready(world.client, world.tech, job_id)
        assert ask_closure(world.client, world.tech, job_id).status_code == 200
    assert Worker(world.app).drain(max_seconds=120) == 0  # the documents go up first, untimed
    for job_id in world.job_ids:
        assert world.client.post(f"/v1/jobs/{job_id}/closure/approve", headers=world.boss).status_code == 200
    state = world.sandbox.state
    before = {op: state.calls_of(op, 200) + state.calls_of(op, 204) for op in plans.USAGE_PLANS}
    started = time.monotonic()
    assert Worker(world.app).drain(max_seconds=120) == 0
    elapsed = time.monotonic() - started
    calls = {op: state.calls_of(op, 200) + state.calls_of(op, 204) - before[op] for op in plans.USAGE_PLANS}
    assert calls[plans.SET_FULFILLMENT_DATA] == calls[plans.COMPLETE_SERVICE_JOB] == 100
    minimum = plan_minimum(calls)
    print(f"\n100 closures: {elapsed:.2f} s, usage plans allow {minimum:.2f} s: ratio {elapsed / minimum:.3f}")
    assert state.throttled() == 0
    assert world.completions() == [1] * 100
    assert elapsed <= minimum * 1.10
