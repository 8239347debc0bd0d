"""The blob store on local files and on S3 (moto's server on loopback, over real HTTP)."""

from __future__ import annotations

import io

import boto3
import pytest

from techapi.storage import BlobNotFound, LocalBlobStore, S3BlobStore, open_store
from tests import media
from tests.conftest import free_port


@pytest.fixture
def s3_store(s3_endpoint, request):
    bucket = f"techapi-{request.node.name[:20].lower().replace('_', '-').strip('-')}-{free_port()}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    return open_store(f"s3://{bucket}/evidence", s3_endpoint)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    return request.getfixturevalue("s3_store")


def test_put_get_delete_and_list(store):
    store.put_bytes("documents/a/original", b"hello")
    store.put_file("documents/a/normalised", io.BytesIO(b"world"))
    assert store.get_bytes("documents/a/original") == b"hello"
    assert store.open("documents/a/normalised").read() == b"world"
    assert store.keys() == ["documents/a/normalised", "documents/a/original"]
    store.delete("documents/a/original")
    with pytest.raises(BlobNotFound):
        store.get_bytes("documents/a/original")
    store.delete("documents/a/original")  # deleting twice is fine


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../../b", "", "a b"])
def test_keys_cannot_escape_the_store(store, key):
    with pytest.raises(ValueError):
        store.put_bytes(key, b"x")


def test_s3_objects_are_encrypted_at_rest(s3_store: S3BlobStore):
    s3_store.put_bytes("documents/x/original", b"secret")
    s3_store.put_file("documents/x/normalised", io.BytesIO(b"secret"))
    assert s3_store.server_side_encryption("documents/x/original") == "AES256"
    assert s3_store.server_side_encryption("documents/x/normalised") == "AES256"


def test_documents_go_to_s3_and_refused_files_leave_nothing_there(s3_store, settings, clock, sandbox):
    from techapi import create_app
    from techapi.jobs.sync import sync_day

    app = create_app(settings, clock=clock, sandbox=sandbox, store=s3_store)
    deps = app.extensions["techapi"]
    sync_day(deps, clock.now().date())
    client = app.test_client()
    from tests.conftest import Auth

    helper = Auth(deps, client)
    helper.user("tech", "technician", technician_id=sandbox.world.technician_ids[0])
    h = helper.headers("tech")
    job_id = client.get("/v1/jobs", headers=h).get_json()["jobs"][0]["serviceJobId"]
    bad = client.post(f"/v1/jobs/{job_id}/documents", headers=h, content_type="multipart/form-data",
                      data={"kind": "PHOTO", "file": (io.BytesIO(media.truncated_jpeg()), "t.jpg")})
    assert bad.status_code == 422 and s3_store.keys() == []
    good = client.post(f"/v1/jobs/{job_id}/documents", headers=h, content_type="multipart/form-data",
                       data={"kind": "PHOTO", "file": (io.BytesIO(media.jpeg()), "p.jpg")})
    assert good.status_code == 201
    doc_id = good.get_json()["id"]
    assert s3_store.keys() == [f"documents/{doc_id}/normalised", f"documents/{doc_id}/original"]
    content = client.get(f"/v1/jobs/{job_id}/documents/{doc_id}/content", headers=h)
    assert content.status_code == 200 and content.data == s3_store.get_bytes(f"documents/{doc_id}/normalised")
    deps.db.dispose()
