"""Photos and POA documents: validated by content, normalised, stored, queued once."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from techapi.audit.models import AuditEvent
from techapi.evidence.models import Document
from techapi.queue.models import Task
from tests import media, pdfs


def send(client, headers, job_id, data: bytes, kind="PHOTO", name="photo.jpg", **form):
    payload = {"kind": kind, **form, "file": (io.BytesIO(data), name)}
    return client.post(f"/v1/jobs/{job_id}/documents", data=payload, headers=headers,
                       content_type="multipart/form-data")


def counts(deps) -> tuple[int, int, int, list[str]]:
    with deps.db.session() as session:
        return (session.scalar(select(func.count()).select_from(Document)),
                session.scalar(select(func.count()).select_from(Task)),
                session.scalar(select(func.count()).select_from(AuditEvent)),
                deps.store.keys())


def test_a_photo_is_accepted_normalised_and_queued(client, tech, job_id, deps):
    original = media.jpeg((64, 32), orientation=6, gps=True, taken="2026:06:15 09:12:00")
    response = send(client, tech, job_id, original)
    assert response.status_code == 201
    doc = response.get_json()
    assert doc["kind"] == "PHOTO" and doc["detectedType"] == "JPEG" and doc["contentType"] == "JPEG"
    assert doc["status"] == "RECEIVED" and doc["originalSize"] == len(original)
    assert (doc["width"], doc["height"]) == (32, 64)  # EXIF orientation applied
    assert doc["capturedAt"] == "2026-06-15T16:12:00+00:00"
    content = client.get(f"/v1/jobs/{job_id}/documents/{doc['id']}/content", headers=tech)
    assert content.status_code == 200 and content.mimetype == "image/jpeg"
    import hashlib

    assert hashlib.sha256(content.data).hexdigest() == doc["sha256"] and len(content.data) == doc["size"]
    sent = Image.open(io.BytesIO(content.data))
    assert 0x8825 not in sent.getexif() and not sent.getexif()  # no GPS, no metadata to Amazon
    with deps.db.session() as session:
        stored = session.get(Document, doc["id"])
        assert (stored.gps_latitude, stored.gps_longitude) == (47.61, -122.3330556)  # kept as evidence
    documents, tasks, _, keys = counts(deps)
    assert documents == 1 and tasks == 1
    assert sorted(keys) == [f"documents/{doc['id']}/normalised", f"documents/{doc['id']}/original"]


def test_the_same_bytes_twice_are_one_document(client, tech, job_id, deps):
    data = media.jpeg()
    first = send(client, tech, job_id, data)
    again = send(client, tech, job_id, data, name="again.jpg")
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    documents, tasks, _, keys = counts(deps)
    assert documents == 1 and tasks == 1 and len(keys) == 2


def test_a_poa_satisfies_readiness(client, tech, job_id):
    response = send(client, tech, job_id, pdfs.signed(), kind="POA", name="signed.pdf", poaType="CUSTOMER_SIGNATURE")
    assert response.status_code == 201
    assert response.get_json()["contentType"] == "PDF"
    detail = client.get(f"/v1/jobs/{job_id}", headers=tech).get_json()
    assert detail["stillNeeded"] == ["START_TIME", "END_TIME"]


def test_png_stays_png_when_it_fits(client, tech, job_id):
    doc = send(client, tech, job_id, media.png(), name="screen.png").get_json()
    assert doc["detectedType"] == "PNG" and doc["contentType"] == "PNG"


def normalised_of(client, tech, job_id, doc) -> Image.Image:
    content = client.get(f"/v1/jobs/{job_id}/documents/{doc['id']}/content", headers=tech)
    assert content.status_code == 200
    return Image.open(io.BytesIO(content.data))


def test_a_gif_stays_a_lossless_gif_when_it_fits(client, tech, job_id):
    original = media.gif((48, 24))
    doc = send(client, tech, job_id, original, name="drawing.gif").get_json()
    assert doc["detectedType"] == "GIF" and doc["contentType"] == "GIF"
    sent = normalised_of(client, tech, job_id, doc)
    # GIF has no EXIF orientation: upright is the way it was sent.
    assert sent.format == "GIF" and sent.size == (doc["width"], doc["height"]) == (48, 24)
    with Image.open(io.BytesIO(original)) as before:
        assert sent.convert("RGB").tobytes() == before.convert("RGB").tobytes()  # not a pixel changed


def test_a_gif_reaches_amazon_without_its_comment(client, tech, job_id):
    doc = send(client, tech, job_id, media.gif(comment=b"taken at 47.61 N 122.33 W"), name="x.gif").get_json()
    sent = normalised_of(client, tech, job_id, doc)
    assert "comment" not in sent.info


def test_a_tiff_becomes_an_upright_jpeg_without_metadata(client, tech, job_id):
    doc = send(client, tech, job_id, media.tiff((64, 32), orientation=6, artist="A. Technician"),
               name="scan.tif").get_json()
    assert doc["detectedType"] == "TIFF" and doc["contentType"] == "JPEG"
    sent = normalised_of(client, tech, job_id, doc)
    assert sent.format == "JPEG" and sent.size == (doc["width"], doc["height"]) == (32, 64)  # turned
    red, blue = sent.getpixel((0, 0)), sent.getpixel((31, 0))  # the blue corner went from top left to top right
    assert red[0] > 150 > red[2] and blue[2] > 150 > blue[0]
    assert not sent.getexif() and "exif" not in sent.info  # no orientation, no Artist, nothing


def test_a_multi_page_tiff_is_a_422_and_leaves_nothing_behind(client, tech, job_id, deps):
    response = send(client, tech, job_id, media.multipage_tiff(), kind="POA", name="pages.tif")
    assert response.status_code == 422
    assert response.get_json()["message"] == "Multi-page TIFF: send multi-page documents as one PDF"
    assert counts(deps) == (0, 0, 0, [])


def test_documents_are_listed_and_deleted(client, tech, job_id, deps, clock):
    a = send(client, tech, job_id, media.jpeg(color=(1, 2, 3))).get_json()
    clock.advance(seconds=1)
    b = send(client, tech, job_id, media.jpeg(color=(9, 8, 7))).get_json()
    listed = client.get(f"/v1/jobs/{job_id}/documents", headers=tech).get_json()["documents"]
    assert [d["id"] for d in listed] == [a["id"], b["id"]]
    assert client.get(f"/v1/jobs/{job_id}/documents/{a['id']}", headers=tech).get_json()["id"] == a["id"]
    assert client.delete(f"/v1/jobs/{job_id}/documents/{a['id']}", headers=tech).status_code == 204
    assert client.get(f"/v1/jobs/{job_id}/documents/{a['id']}", headers=tech).status_code == 404
    documents, _, _, keys = counts(deps)
    assert documents == 1 and not any(a["id"] in k for k in keys)
    with deps.db.session() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["document.added", "document.added", "document.removed"]


BAD_FILES = [
    ("wrong magic under an image name", lambda: b"hello, I am text" * 10, "photo.jpg", "PHOTO", 415),
    ("truncated JPEG", media.truncated_jpeg, "photo.jpg", "PHOTO", 422),
    ("pixel-flood PNG", media.pixel_flood_png, "flood.png", "PHOTO", 422),
    ("polyglot JPEG+ZIP", media.polyglot_jpeg_zip, "photo.jpg", "PHOTO", 422),
    ("zero bytes", lambda: b"", "empty.jpg", "PHOTO", 422),
    ("path-traversal filename", media.jpeg, "../../etc/passwd.jpg", "PHOTO", 422),
    ("unknown kind", media.jpeg, "photo.jpg", "SELFIE", 422),
    ("HTML page", lambda: b"<html><script>alert(1)</script></html>", "x.gif", "PHOTO", 415),
    ("PDF over 5 MiB", lambda: b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024 + 10) + b"\n%%EOF\n", "scan.pdf", "POA", 413),
    ("poaType on a photo", media.jpeg, "photo.jpg", "PHOTO", 422),
]


@pytest.mark.parametrize("what, make, name, kind, status", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_refused_and_leave_nothing_behind(client, tech, job_id, deps, what, make, name, kind, status):
    extra = {"poaType": "DUMMY_RECEIPT"} if what == "poaType on a photo" else {}
    response = send(client, tech, job_id, make(), kind=kind, name=name, **extra)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["code"] == status and response.get_json()["message"]
    assert counts(deps) == (0, 0, 0, [])


def test_a_40_mb_body_is_refused_before_it_is_read(client, tech, job_id, deps):
    response = send(client, tech, job_id, b"\xff\xd8\xff" + b"\0" * (40 * 1024 * 1024))
    assert response.status_code == 413
    assert counts(deps) == (0, 0, 0, [])


def test_another_technicians_job_is_a_404_on_every_evidence_endpoint(client, auth, world, job_id, tech):
    doc = send(client, tech, job_id, media.jpeg()).get_json()
    auth.user("other", "technician", technician_id=world.technician_ids[1])
    other = auth.headers("other")
    responses = [
        client.post(f"/v1/jobs/{job_id}/start", json={}, headers=other),
        client.post(f"/v1/jobs/{job_id}/finish", json={}, headers=other),
        client.get(f"/v1/jobs/{job_id}/times", headers=other),
        client.get(f"/v1/jobs/{job_id}/documents", headers=other),
        send(client, other, job_id, media.jpeg(color=(5, 5, 5))),
        client.get(f"/v1/jobs/{job_id}/documents/{doc['id']}", headers=other),
        client.get(f"/v1/jobs/{job_id}/documents/{doc['id']}/content", headers=other),
        client.delete(f"/v1/jobs/{job_id}/documents/{doc['id']}", headers=other),
    ]
    assert [r.status_code for r in responses] == [404] * len(responses)
    assert all(r.get_json()["message"] == "Job not found" for r in responses)


def test_a_supervisor_may_look_but_not_add(client, auth, world, job_id, tech):
    doc = send(client, tech, job_id, media.jpeg()).get_json()
    auth.user("boss", "supervisor", stores=(world.store_ids[0],))
    boss = auth.headers("boss")
    assert client.get(f"/v1/jobs/{job_id}/documents/{doc['id']}/content", headers=boss).status_code == 200
    assert send(client, boss, job_id, media.jpeg(color=(4, 4, 4))).status_code == 403
    assert client.delete(f"/v1/jobs/{job_id}/documents/{doc['id']}", headers=boss).status_code == 403


def test_a_document_of_another_job_is_not_found_under_this_one(client, tech, job_id, auth):
    doc = send(client, tech, job_id, media.jpeg()).get_json()
    jobs = client.get("/v1/jobs", headers=tech).get_json()["jobs"]
    other_job = next(j["serviceJobId"] for j in jobs if j["serviceJobId"] != job_id)
    assert client.get(f"/v1/jobs/{other_job}/documents/{doc['id']}", headers=tech).status_code == 404


def test_missing_file_part_is_a_422(client, tech, job_id):
    response = client.post(f"/v1/jobs/{job_id}/documents", data={"kind": "PHOTO"}, headers=tech,
                           content_type="multipart/form-data")
    assert response.status_code == 422


def test_the_worker_uploads_queued_documents_to_the_in_process_sandbox(app, client, tech, job_id, sandbox):
    from techapi.worker.runner import Worker

    doc = send(client, tech, job_id, media.jpeg()).get_json()
    assert Worker(app).drain(max_seconds=30) == 0
    uploaded = client.get(f"/v1/jobs/{job_id}/documents/{doc['id']}", headers=tech).get_json()
    assert uploaded["status"] == "UPLOADED" and uploaded["uploadedAt"]
    assert sum(1 for d in sandbox.state.destinations.values() if d.data) == 1
