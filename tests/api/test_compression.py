"""Compressed JSON for phones on cellular data; document bytes and small answers as they are."""

from __future__ import annotations

import gzip
import io
import json

import brotli
import pytest
from flask import Flask, make_response, request

from techapi.compression import init_app as init_compression
from tests import media, pdfs

DECODE = {"gzip": gzip.decompress, "br": brotli.decompress}


@pytest.fixture
def admin(auth, synced):
    auth.user("boss", "admin")
    return auth.headers("boss")


def test_a_big_job_list_is_compressed_as_asked_and_decodes_to_the_same_json(client, admin):
    plain = client.get("/v1/jobs", headers=admin)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert len(plain.data) > 1024 and "Accept-Encoding" in plain.headers["Vary"]
    for encoding in ("gzip", "br"):
        packed = client.get("/v1/jobs", headers={**admin, "Accept-Encoding": encoding})
        assert packed.status_code == 200 and packed.headers["Content-Encoding"] == encoding
        assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data) / 3
        assert json.loads(DECODE[encoding](packed.data)) == plain.get_json()
        assert "Accept-Encoding" in packed.headers["Vary"]


def test_brotli_is_preferred_when_both_are_welcome_and_identity_when_none_is(client, admin):
    both = client.get("/v1/jobs", headers={**admin, "Accept-Encoding": "gzip, deflate, br"})
    assert both.headers["Content-Encoding"] == "br"
    refused = client.get("/v1/jobs", headers={**admin, "Accept-Encoding": "identity"})
    assert "Content-Encoding" not in refused.headers and refused.get_json()["jobs"]


def test_a_small_answer_is_not_compressed_but_still_varies(client, admin):
    me = client.get("/v1/me", headers={**admin, "Accept-Encoding": "gzip, br"})
    assert me.status_code == 200 and len(me.data) < 1024
    assert "Content-Encoding" not in me.headers and "Accept-Encoding" in me.headers["Vary"]


@pytest.mark.parametrize(("data", "kind", "name", "form", "mimetype"), [
    (media.jpeg((640, 480)), "PHOTO", "photo.jpg", {}, "image/jpeg"),
    (pdfs.signed(pages=3), "POA", "signed.pdf", {"poaType": "CUSTOMER_SIGNATURE"}, "application/pdf"),
], ids=["jpeg", "pdf"])
def test_document_content_is_never_compressed(client, auth, world, synced, data, kind, name, form, mimetype):
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    tech = auth.headers("tech")
    job_id = client.get("/v1/jobs", headers=tech).get_json()["jobs"][2]["serviceJobId"]
    doc = client.post(f"/v1/jobs/{job_id}/documents", headers=tech, content_type="multipart/form-data",
                      data={"kind": kind, **form, "file": (io.BytesIO(data), name)}).get_json()
    content = client.get(f"/v1/jobs/{job_id}/documents/{doc['id']}/content",
                         headers={**tech, "Accept-Encoding": "gzip, br"})
    assert content.status_code == 200 and content.mimetype == mimetype and len(content.data) > 1024
    assert "Content-Encoding" not in content.headers
    assert len(content.data) == doc["size"]


def test_an_idempotent_replay_is_compressed_for_the_client_asking_this_time(client, afternoon_job, auth):
    tech = {**auth.headers("tech"), "Idempotency-Key": "big-batch"}
    actions = [{"idempotencyKey": f"k-{n}", "type": "start", "serviceJobId": f"NO-SUCH-JOB-{n}",
                "at": "2026-06-15T12:35:00Z"} for n in range(20)]
    body = {"sentAt": "2026-06-15T15:00:00Z", "actions": actions}
    first = client.post("/v1/sync/actions", json=body, headers={**tech, "Accept-Encoding": "gzip"})
    assert first.status_code == 200 and first.headers["Content-Encoding"] == "gzip"
    answer = json.loads(gzip.decompress(first.data))
    assert len(answer["results"]) == 20
    again = client.post("/v1/sync/actions", json=body, headers={**tech, "Accept-Encoding": "br"})
    assert again.headers["Idempotent-Replayed"] == "true" and again.headers["Content-Encoding"] == "br"
    assert json.loads(brotli.decompress(again.data)) == answer
    plain = client.post("/v1/sync/actions", json=body, headers=tech)
    assert plain.headers["Idempotent-Replayed"] == "true" and "Content-Encoding" not in plain.headers
    assert plain.get_json() == answer


@pytest.fixture
def tagged():
    """A view revalidating cheaply, the way techapi's GETs do: its tag, compared before any body is built."""
    app = Flask(__name__)
    init_compression(app)
    built = []

    @app.get("/things")
    def things():
        if request.if_none_match.contains("v7"):
            response = make_response("", 304)
        else:
            built.append(1)
            response = app.json.response({"things": ["thing"] * 400})
        response.set_etag("v7")
        return response

    return app.test_client(), built


def test_a_compressed_representation_has_its_own_strong_etag_and_revalidates_without_a_body(tagged):
    client, built = tagged
    packed = client.get("/things", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip" and packed.headers["ETag"] == '"v7:gzip"'
    plain = client.get("/things")
    assert plain.headers["ETag"] == '"v7"'
    assert len(built) == 2
    again = client.get("/things", headers={"Accept-Encoding": "gzip", "If-None-Match": '"v7:gzip"'})
    assert again.status_code == 304 and again.data == b"" and len(built) == 2  # the view's cheap path
    assert again.headers["ETag"] == '"v7:gzip"' and "Accept-Encoding" in again.headers["Vary"]
    old = client.get("/things", headers={"Accept-Encoding": "br", "If-None-Match": '"v6:br"'})
    assert old.status_code == 200 and old.headers["ETag"] == '"v7:br"'


@pytest.mark.parametrize("header", ['W/"", W/"#OM{zv"', '"', 'W/', ', ,', '"a", garbage"'])
def test_a_malformed_if_none_match_is_ignored_not_a_500(client, admin, header):
    response = client.get("/v1/jobs", headers={**admin, "If-None-Match": header})
    assert response.status_code == 200
