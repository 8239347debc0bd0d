"""Document thumbnails: small upright JPEGs without metadata, made once and kept in the
blob store, a page icon for a PDF, and only for whoever may see the document."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from techapi.evidence.sweep import sweep_orphans
from tests import media, pdfs
from tests.api.test_documents import send


def url(job_id: str, doc_id: str) -> str:
    return f"/v1/jobs/{job_id}/documents/{doc_id}/thumbnail"


def upload(client, tech, job_id, data: bytes, **form) -> dict:
    response = send(client, tech, job_id, data, **form)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def picture(response) -> Image.Image:
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "image/jpeg"
    img = Image.open(io.BytesIO(response.data))
    img.load()
    return img


@pytest.mark.parametrize("size", [(1000, 562), (300, 1200), (64, 32)])
def test_a_photos_thumbnail_is_a_jpeg_of_at_most_320_px_with_its_aspect(client, tech, job_id, size):
    buffer = io.BytesIO()
    media.photo_like(*size).save(buffer, "JPEG", quality=90)
    doc = upload(client, tech, job_id, buffer.getvalue())
    thumb = picture(client.get(url(job_id, doc["id"]), headers=tech))
    assert thumb.format == "JPEG" and max(thumb.size) == min(320, max(size))  # never enlarged
    assert thumb.width / thumb.height == pytest.approx(size[0] / size[1], rel=0.01)


def test_a_thumbnail_is_upright_and_carries_no_metadata(client, tech, job_id):
    doc = upload(client, tech, job_id, media.jpeg((800, 400), orientation=6, gps=True, taken="2026:06:15 09:12:00"))
    thumb = picture(client.get(url(job_id, doc["id"]), headers=tech))
    assert thumb.size == (160, 320)  # turned as the document was
    assert not thumb.getexif() and "exif" not in thumb.info and "xmp" not in thumb.info


def test_a_transparent_png_gets_a_jpeg_thumbnail(client, tech, job_id):
    doc = upload(client, tech, job_id, media.png((400, 300)), name="screen.png")
    assert doc["contentType"] == "PNG"
    assert picture(client.get(url(job_id, doc["id"]), headers=tech)).size == (320, 240)


def test_the_thumbnail_is_kept_and_served_again_without_decoding_the_document(client, tech, job_id, deps):
    doc = upload(client, tech, job_id, media.jpeg((640, 480)))
    first = client.get(url(job_id, doc["id"]), headers=tech)
    assert picture(first).size == (320, 240)
    key = f"documents/{doc['id']}/thumbnail-320"
    assert deps.store.get_bytes(key) == first.data
    # The document's bytes replaced with something no decoder reads: the stored thumbnail is all that is used.
    deps.store.put_bytes(f"documents/{doc['id']}/normalised", b"not an image any more")
    again = client.get(url(job_id, doc["id"]), headers=tech)
    assert again.status_code == 200 and again.data == first.data


def test_a_thumbnail_is_cacheable_revalidates_with_a_304_and_is_never_compressed(client, tech, job_id):
    doc = upload(client, tech, job_id, media.jpeg((640, 480)))
    response = client.get(url(job_id, doc["id"]), headers={**tech, "Accept-Encoding": "gzip, br"})
    assert response.status_code == 200 and "Content-Encoding" not in response.headers
    assert response.headers["Cache-Control"] == "private, max-age=86400, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    tag, weak = response.get_etag()
    assert tag and not weak
    cached = client.get(url(job_id, doc["id"]), headers={**tech, "If-None-Match": f'"{tag}"'})
    assert cached.status_code == 304 and cached.data == b"" and cached.get_etag() == (tag, False)
    other = upload(client, tech, job_id, media.jpeg((640, 480), color=(1, 2, 3)))
    assert client.get(url(job_id, other["id"]), headers={**tech, "If-None-Match": f'"{tag}"'}).status_code == 200


def test_a_poa_pdf_gets_the_page_icon(client, tech, job_id, deps):
    doc = upload(client, tech, job_id, pdfs.signed(), kind="POA", name="signed.pdf", poaType="CUSTOMER_SIGNATURE")
    icon = picture(client.get(url(job_id, doc["id"]), headers=tech))
    assert icon.size == (240, 320)
    assert icon.getpixel((120, 160))[0] > 150 > icon.getpixel((120, 160))[1]  # the red band that says PDF
    assert f"documents/{doc['id']}/thumbnail-320" not in deps.store.keys()  # one icon for all, not stored


def test_only_those_who_may_see_the_document_see_its_thumbnail(client, auth, world, tech, job_id):
    doc = upload(client, tech, job_id, media.jpeg((640, 480)))
    auth.user("other", "technician", technician_id=world.technician_ids[1])
    auth.user("boss", "supervisor", stores=(world.store_ids[0],))
    auth.user("elsewhere", "supervisor", stores=(world.store_ids[1],))
    auth.user("root", "admin")
    seen = {name: client.get(url(job_id, doc["id"]), headers=auth.headers(name))
            for name in ("other", "boss", "elsewhere", "root")}
    assert {name: r.status_code for name, r in seen.items()} == {"other": 404, "boss": 200, "elsewhere": 404,
                                                                 "root": 200}
    assert seen["other"].get_json()["message"] == seen["elsewhere"].get_json()["message"] == "Job not found"
    assert client.get(url(job_id, doc["id"])).status_code == 401


def test_unknown_and_odd_ids_are_404_never_500(client, tech, job_id):
    doc = upload(client, tech, job_id, media.jpeg())
    jobs = client.get("/v1/jobs", headers=tech).get_json()["jobs"]
    other_job = next(j["serviceJobId"] for j in jobs if j["serviceJobId"] != job_id)
    paths = [url(job_id, str(uuid.uuid4())), url(other_job, doc["id"]), url(job_id, "x" * 5000),
             url(job_id, "%2e%2e"), url(job_id, "' OR 1=1 --"), url(job_id, "%F0%9F%98%80"),
             url("nope", doc["id"]), url(job_id, doc["id"] + "/extra")]
    answers = [client.get(path, headers=tech) for path in paths]
    assert [r.status_code for r in answers] == [404] * len(paths)
    nul = client.get(url(job_id, "%00"), headers=tech)  # refused at the edge, before any view
    assert nul.status_code == 400
    assert all(r.is_json for r in [*answers, nul])


def test_a_document_whose_file_is_gone_or_undecodable_is_a_409(client, tech, job_id, deps):
    lost, broken = (upload(client, tech, job_id, media.jpeg(color=c)) for c in ((9, 9, 9), (8, 8, 8)))
    deps.store.delete(f"documents/{lost['id']}/normalised")
    deps.store.put_bytes(f"documents/{broken['id']}/normalised", media.truncated_jpeg())
    for doc, says in ((lost, "no longer stored"), (broken, "cannot be previewed")):
        response = client.get(url(job_id, doc["id"]), headers=tech)
        assert response.status_code == 409 and says in response.get_json()["message"]
    content = client.get(f"/v1/jobs/{job_id}/documents/{lost['id']}/content", headers=tech)
    assert content.status_code == 409 and "no longer stored" in content.get_json()["message"]


def test_a_thumbnail_goes_with_its_document_and_an_orphan_is_swept(client, tech, job_id, deps):
    kept, removed = (upload(client, tech, job_id, media.jpeg(color=c)) for c in ((7, 7, 7), (6, 6, 6)))
    for doc in (kept, removed):
        assert client.get(url(job_id, doc["id"]), headers=tech).status_code == 200
    assert client.delete(f"/v1/jobs/{job_id}/documents/{removed['id']}", headers=tech).status_code == 204
    assert not [k for k in deps.store.keys() if removed["id"] in k]
    # A thumbnail made while its document was being deleted outlives the delete: the sweep removes it.
    orphan = f"documents/{uuid.uuid4()}/thumbnail-320"
    deps.store.put_bytes(orphan, b"thumbnail of a deleted document")
    result = sweep_orphans(deps.db, deps.store, datetime.now(UTC) + timedelta(hours=1))
    assert result.removed == [orphan]
    assert f"documents/{kept['id']}/thumbnail-320" in deps.store.keys()
