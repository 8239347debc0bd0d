"""Orphan blobs (written by a process that died before committing the document
row) are swept on local files and on S3 (moto's server over HTTP), by
`techapi sweep` and by the worker; a blob with a row, or too young to judge, stays."""

from __future__ import annotations

import io
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from techapi import create_app
from techapi.evidence.sweep import MIN_AGE, sweep_orphans
from techapi.storage import LocalBlobStore, S3BlobStore, open_store
from techapi.worker.runner import Worker
from tests import media
from tests.conftest import Auth, free_port


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalBlobStore(tmp_path / "swept")
    return new_s3_store(request.getfixturevalue("s3_endpoint"))


def new_s3_store(endpoint: str) -> S3BlobStore:
    bucket = f"techapi-sweep-{free_port()}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    store = open_store(f"s3://{bucket}/evidence", endpoint)
    assert isinstance(store, S3BlobStore)
    return store


@pytest.fixture
def sweep_app(settings, clock, sandbox, store):
    app = create_app(settings, clock=clock, sandbox=sandbox, store=store)
    yield app
    app.extensions["techapi"].db.dispose()


def committed_document(app, sandbox) -> str:
    """A photo uploaded through the API: its row and its two blobs."""
    from techapi.jobs.sync import sync_day

    deps, client = app.extensions["techapi"], app.test_client()
    sync_day(deps, deps.clock.now().date())
    auth = Auth(deps, client)
    auth.user("tech", "technician", technician_id=sandbox.world.technician_ids[0])
    headers = auth.headers("tech")
    job_id = client.get("/v1/jobs", headers=headers).get_json()["jobs"][0]["serviceJobId"]
    response = client.post(f"/v1/jobs/{job_id}/documents", headers=headers, content_type="multipart/form-data",
                           data={"kind": "PHOTO", "file": (io.BytesIO(media.jpeg()), "p.jpg")})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def write_orphan(store) -> list[str]:
    """What a process killed between writing the blobs and committing the row leaves."""
    doc_id = str(uuid.uuid4())
    keys = [f"documents/{doc_id}/normalised", f"documents/{doc_id}/original"]
    for key in keys:
        store.put_bytes(key, b"bytes of an upload that never committed")
    return keys


def backdate(store: LocalBlobStore, keys: list[str], age: timedelta) -> None:
    then = time.time() - age.total_seconds()
    for key in keys:
        os.utime(store.root / key, (then, then))


def test_an_orphan_is_swept_while_a_committed_document_stays(sweep_app, sandbox, store):
    doc_id = committed_document(sweep_app, sandbox)
    orphan = write_orphan(store)
    store.put_bytes("elsewhere/not-ours", b"left alone: not a key techapi writes")
    later = datetime.now(UTC) + MIN_AGE + timedelta(minutes=1)
    result = sweep_orphans(sweep_app.extensions["techapi"].db, store, later)
    assert result.removed == orphan
    assert store.keys() == ["documents/" + doc_id + "/normalised", "documents/" + doc_id + "/original",
                            "elsewhere/not-ours"]
    assert sweep_orphans(sweep_app.extensions["techapi"].db, store, later).removed == []  # nothing left to do


def test_an_upload_in_flight_is_never_swept(sweep_app, store):
    orphan = write_orphan(store)  # blobs written, row not committed yet
    result = sweep_orphans(sweep_app.extensions["techapi"].db, store, datetime.now(UTC))
    assert result.removed == [] and result.kept_young == 2
    assert store.keys() == orphan


def test_a_half_written_local_file_is_removed_once_old(tmp_path):
    store = LocalBlobStore(tmp_path / "partial")
    partial = store.root / "documents" / "x" / ".tmp-killed"  # put_file's temporary name, killed mid-write
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"half")
    theirs = store.root / "elsewhere" / ".tmp-not-ours"  # someone else's temporary file in the same folder
    theirs.parent.mkdir(parents=True)
    theirs.write_bytes(b"theirs")
    assert store.remove_partial(datetime.now(UTC) - MIN_AGE, under="documents") == 0  # may still be written
    assert store.remove_partial(datetime.now(UTC) + timedelta(minutes=1), under="documents") == 1
    assert not partial.exists() and theirs.exists()


def test_an_abandoned_s3_multipart_upload_is_aborted(s3_endpoint):
    store = new_s3_store(s3_endpoint)
    started = store.client.create_multipart_upload(Bucket=store.bucket, Key=store._key("documents/x/original"))
    theirs = store.client.create_multipart_upload(Bucket=store.bucket, Key=store._key("backups/dump.sql"))
    # moto dates every multipart upload in 2010, so only the removal is checked here.
    assert store.remove_partial(datetime.now(UTC), under="documents") == 1
    uploads = [u["UploadId"] for u in store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])]
    assert started["UploadId"] not in uploads and theirs["UploadId"] in uploads


def test_techapi_sweep_removes_old_orphans_and_says_how_many(runner, tmp_path):
    blobs = tmp_path / "cli-blobs"
    store = LocalBlobStore(blobs)
    old, young = write_orphan(store), write_orphan(store)
    backdate(store, old, MIN_AGE + timedelta(minutes=5))
    env = {"TECHAPI_STORAGE_URL": f"file://{blobs}", "TECHAPI_S3_ENDPOINT_URL": None}
    assert runner.invoke(["db", "upgrade"], env=env).exit_code == 0
    result = runner.invoke(["sweep"], env=env)
    assert result.exit_code == 0, result.output
    assert "removed 2 orphan blob(s)" in result.output and "2 blob(s) younger than 30 min" in result.output
    assert store.keys() == sorted(young)


def test_the_worker_sweeps_when_it_starts(settings, clock, sandbox, tmp_path):
    store = LocalBlobStore(tmp_path / "worker-blobs")
    app = create_app(settings, clock=clock, sandbox=sandbox, store=store)
    try:
        orphan = write_orphan(store)
        backdate(store, orphan, timedelta(hours=2))
        Worker(app).tick()
        assert store.keys() == []
    finally:
        app.extensions["techapi"].db.dispose()
