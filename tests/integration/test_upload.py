"""Documents reach SP-API: the worker uploads them to the sandbox over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import io

import pytest
from PIL import Image
from sqlalchemy import select

from techapi import create_app
from techapi.auth.services import create_user
from techapi.config import load_settings
from techapi.evidence.models import Document
from techapi.evidence.upload import UploadUrlRejected, check_upload_url
from techapi.jobs.sync import sync_day
from techapi.queue.models import Task
from techapi.spapi import plans
from techapi.spapi.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN, Faults
from techapi.spapi.sandbox.rules import decrypt
from techapi.spapi.types import FulfillmentData, FulfillmentDocument
from techapi.worker.runner import Worker
from tests import media
from tests.conftest import NOW, PASSWORD
from tests.integration.test_closure_pipeline import World


@pytest.fixture
def real_app(tmp_path, clean_database, clock, http_sandbox):
    """techapi configured for "real" SP-API: the sandbox over HTTP on loopback."""
    settings = load_settings(environ={
        "TECHAPI_DATABASE_URL": clean_database,
        "TECHAPI_INSTANCE_PATH": str(tmp_path),
        "TECHAPI_SPAPI_ENDPOINT": http_sandbox.url,
        "TECHAPI_LWA_TOKEN_URL": f"{http_sandbox.url}/auth/o2/token",
        "TECHAPI_LWA_CLIENT_ID": SANDBOX_CLIENT_ID,
        "TECHAPI_LWA_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
        "TECHAPI_LWA_REFRESH_TOKEN": SANDBOX_REFRESH_TOKEN,
        "TECHAPI_UPLOAD_ALLOWED_HOSTS": "127.0.0.1",
    }).with_overrides(argon2_time_cost=1, argon2_memory_kib=1024)
    app = create_app(settings, clock=clock)
    deps = app.extensions["techapi"]
    sync_day(deps, NOW.date())
    world = http_sandbox.sandbox.world
    with deps.db.session() as session:
        create_user(session, deps.passwords, clock, "tech", "technician", PASSWORD,
                    technician_id=world.technician_ids[0])
    yield app
    deps.db.dispose()


def headers(client):
    token = client.post("/v1/auth/token", json={"username": "tech", "password": PASSWORD}).get_json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def first_open_job(client, h) -> str:
    return client.get("/v1/jobs", headers=h).get_json()["jobs"][0]["serviceJobId"]


def send(client, h, job_id, data, kind="PHOTO", name="p.jpg"):
    return client.post(f"/v1/jobs/{job_id}/documents", headers=h, content_type="multipart/form-data",
                       data={"kind": kind, "file": (io.BytesIO(data), name)})


def test_an_uploaded_photo_decrypts_on_the_spapi_side_to_exactly_the_normalised_bytes(real_app, http_sandbox):
    client = real_app.test_client()
    h = headers(client)
    job_id = first_open_job(client, h)
    doc = send(client, h, job_id, media.jpeg((640, 480), gps=True)).get_json()
    assert Worker(real_app).drain(max_seconds=30) == 0

    deps = real_app.extensions["techapi"]
    with deps.db.session() as session:
        stored = session.get(Document, doc["id"])
        assert stored.status == "UPLOADED" and stored.upload_destination_id and stored.content_sha256
        dest_id, content_sha = stored.upload_destination_id, stored.content_sha256
    normalised = deps.store.get_bytes(f"documents/{doc['id']}/normalised")
    dest = http_sandbox.sandbox.state.destinations[dest_id]
    plain = decrypt(dest, dest.data)
    assert plain == normalised
    assert dest.content_length == len(normalised)
    assert dest.content_md5 == base64.b64encode(hashlib.md5(normalised).digest()).decode()
    assert content_sha == base64.b64encode(hashlib.sha256(dest.data).digest()).decode()
    assert dest.content_type == "JPEG" and dest.puts == 1
    # SP-API's own checks at fulfillment time accept it.
    job = http_sandbox.sandbox.state.jobs[job_id]
    appt = job.payload["appointments"][0]["appointmentId"]
    deps.spapi.set_appointment_fulfillment_data(job_id, appt, FulfillmentData(
        start=NOW.replace(hour=8, minute=5), end=NOW.replace(hour=9),
        documents=(FulfillmentDocument(dest_id, content_sha),)))
    assert job.fulfillment["fulfillmentDocuments"][0]["uploadDestinationId"] == dest_id
    assert client.get(f"/v1/jobs/{job_id}/documents/{doc['id']}", headers=h).get_json()["status"] == "UPLOADED"


def test_an_expired_destination_is_replaced_by_a_fresh_one(real_app, http_sandbox):
    client = real_app.test_client()
    h = headers(client)
    job_id = first_open_job(client, h)
    http_sandbox.sandbox.set_faults(Faults(expired_urls=1))
    doc = send(client, h, job_id, media.png()).get_json()
    assert Worker(real_app).drain(max_seconds=30) == 0
    state = http_sandbox.sandbox.state
    assert state.calls_of("upload", 403) == 1 and state.calls_of("upload", 200) == 1
    assert state.calls_of(plans.CREATE_UPLOAD_DESTINATION, 200) == 2
    with real_app.extensions["techapi"].db.session() as session:
        stored = session.get(Document, doc["id"])
        assert stored.status == "UPLOADED"
        assert state.destinations[stored.upload_destination_id].data is not None


def test_a_destination_on_a_host_not_allowed_is_never_contacted(real_app, http_sandbox):
    deps = real_app.extensions["techapi"]
    deps.upload_allowed_hosts = ("*.amazonaws.com",)
    client = real_app.test_client()
    h = headers(client)
    doc = send(client, h, first_open_job(client, h), media.jpeg()).get_json()
    assert Worker(real_app).drain(max_seconds=30) == 1  # failed for good
    assert http_sandbox.sandbox.state.calls_of("upload") == 0
    with deps.db.session() as session:
        stored = session.get(Document, doc["id"])
        assert stored.status == "FAILED" and "not in TECHAPI_UPLOAD_ALLOWED_HOSTS" in stored.failure_reason


# Giving up ----------------------------------------------------------------------------------


@pytest.fixture
def upload_world(tmp_path, clean_database, http_sandbox, storage_env):
    """One job in real mode on the real clock, with task back-offs of a few milliseconds."""
    made: list[World] = []

    def make(**extra: str) -> World:
        made.append(World(tmp_path, clean_database, http_sandbox, 1, storage_env, TECHAPI_TASK_BACKOFF_SECONDS="0.01",
                          TECHAPI_TASK_BACKOFF_MAX_SECONDS="0.05", **extra))
        return made[-1]

    yield make
    for world in made:
        world.close()


def upload_task(world: World) -> tuple[str, int, str]:
    with world.deps.db.session() as session:
        task = session.scalars(select(Task).where(Task.kind == "upload_document")).one()
        return task.state, task.attempts, task.last_error


@pytest.mark.slow
def test_an_upload_whose_every_put_fails_gets_three_fresh_destinations_per_attempt_then_fails(upload_world):
    world = upload_world(TECHAPI_TASK_MAX_ATTEMPTS="3")  # 8 by default: see the next test
    world.sandbox.set_faults(Faults(expired_urls=1000))  # every URL handed out has already expired
    job_id = world.job_ids[0]
    doc = send(world.client, world.tech, job_id, media.jpeg()).get_json()
    assert Worker(world.app).drain(max_seconds=60) == 1  # a task failed for good
    shown = world.client.get(f"/v1/jobs/{job_id}/documents/{doc['id']}", headers=world.tech).get_json()
    assert shown["status"] == "FAILED"
    assert shown["failureReason"] == "gave up after 3 attempts: UploadFailed: PUT answered 403 AccessDenied"
    state = world.sandbox.state
    assert state.calls_of(plans.CREATE_UPLOAD_DESTINATION) == state.calls_of(plans.CREATE_UPLOAD_DESTINATION, 200) == 9
    assert state.calls_of("upload") == state.calls_of("upload", 403) == 9
    assert upload_task(world)[:2] == ("FAILED", 3)
    history = world.client.get(f"/v1/jobs/{job_id}/history", headers=world.tech).get_json()["events"]
    assert [e["action"] for e in history][-1] == "document.failed"


def test_by_default_an_upload_is_tried_8_times_and_then_worker_drain_exits_1(upload_world):
    world = upload_world(TECHAPI_SPAPI_MAX_ATTEMPTS="1")  # one SP-API call per task attempt
    assert "TECHAPI_TASK_MAX_ATTEMPTS" not in world.env
    world.sandbox.set_faults(Faults(script={plans.CREATE_UPLOAD_DESTINATION: [503] * 20}))
    job_id = world.job_ids[0]
    doc = send(world.client, world.tech, job_id, media.jpeg()).get_json()
    result = world.run_cli("worker", "--drain", timeout=120)
    assert result.returncode == 1, result.stderr[-2000:]
    state, attempts, last_error = upload_task(world)
    assert (state, attempts) == ("FAILED", 8)
    assert last_error.startswith("gave up after 8 attempts: SpApiServerError")
    assert world.sandbox.state.calls_of(plans.CREATE_UPLOAD_DESTINATION) == 8
    shown = world.client.get(f"/v1/jobs/{job_id}/documents/{doc['id']}", headers=world.tech).get_json()
    assert shown["status"] == "FAILED" and shown["failureReason"] == last_error


@pytest.mark.parametrize("url, allowed", [
    ("https://bucket.s3.amazonaws.com/x?sig=1", ("*.amazonaws.com",)),
    ("http://127.0.0.1:9000/x", ("127.0.0.1",)),
])
def test_allowed_upload_urls(url, allowed):
    check_upload_url(url, allowed)


@pytest.mark.parametrize("url, allowed", [
    ("http://bucket.s3.amazonaws.com/x", ("*.amazonaws.com",)),  # wildcard hosts need https
    ("https://169.254.169.254/latest/meta-data", ("*.amazonaws.com",)),
    ("https://amazonaws.com.evil.example/x", ("*.amazonaws.com",)),
    ("https://evilamazonaws.com/x", ("*.amazonaws.com",)),
    ("https://user:pw@bucket.s3.amazonaws.com/x", ("*.amazonaws.com",)),
    ("file:///etc/passwd", ("*.amazonaws.com",)),
    ("ftp://127.0.0.1/x", ("127.0.0.1",)),
])
def test_refused_upload_urls(url, allowed):
    with pytest.raises(UploadUrlRejected):
        check_upload_url(url, allowed)


# Normalisation of real phone-sized images ------------------------------------------------------


@pytest.mark.slow
def test_a_12_mp_heic_becomes_a_jpeg_under_5_mib(client, auth, world, synced, deps):
    data = media.heic(4032, 3024)
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    h = auth.headers("tech")
    job_id = client.get("/v1/jobs", headers=h).get_json()["jobs"][0]["serviceJobId"]
    doc = send(client, h, job_id, data, name="IMG_0001.HEIC").get_json()
    assert doc["detectedType"] == "HEIC" and doc["contentType"] == "JPEG"
    assert doc["size"] <= 5_242_880
    sent = deps.store.get_bytes(f"documents/{doc['id']}/normalised")
    with Image.open(io.BytesIO(sent)) as img:
        assert img.format == "JPEG" and img.size == (4032, 3024)  # it fit without shrinking


def test_a_20_mb_jpeg_becomes_one_under_5_mib(client, auth, world, synced, deps):
    data = media.noise_jpeg(4032, 3024, quality=100)
    assert len(data) >= 20_000_000
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    h = auth.headers("tech")
    job_id = client.get("/v1/jobs", headers=h).get_json()["jobs"][0]["serviceJobId"]
    doc = send(client, h, job_id, data).get_json()
    assert doc["contentType"] == "JPEG" and doc["size"] <= 5_242_880
    assert doc["width"] >= 2000  # shrunk no more than needed
