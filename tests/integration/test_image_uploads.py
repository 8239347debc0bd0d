"""Images as phones and attackers send them, through the upload endpoint: what phones
append to a photo is accepted and dropped, unknown trailing data is refused, and no text
the file carries (comments, text chunks, EXIF, XMP) reaches what is sent to Amazon."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from techapi.evidence.models import Document
from tests import media


@pytest.fixture
def tech(auth, world, synced):
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    return auth.headers("tech")


@pytest.fixture
def job_id(client, tech):
    return client.get("/v1/jobs", headers=tech).get_json()["jobs"][2]["serviceJobId"]


def send(client, headers, job_id, data: bytes, name: str):
    return client.post(f"/v1/jobs/{job_id}/documents", headers=headers, content_type="multipart/form-data",
                       data={"kind": "PHOTO", "file": (io.BytesIO(data), name)})


def sent_to_amazon(client, headers, job_id, doc) -> bytes:
    response = client.get(f"/v1/jobs/{job_id}/documents/{doc['id']}/content", headers=headers)
    assert response.status_code == 200
    return response.data


@pytest.mark.parametrize("make, trailer", [
    (media.motion_photo, b"ftyp"),
    (lambda: media.motion_photo(announce="container"), b"ftyp"),
    (lambda: media.samsung_photo(video=True), b"MotionPhoto_Data"),
    (media.samsung_photo, b"SEFT"),
    (media.mpf_jpeg, b"MPF\x00"),
], ids=["pixel motion photo", "motion photo format 1.0", "samsung motion photo", "samsung trailer",
        "multi-picture"])
def test_what_phones_append_to_a_photo_is_accepted_and_dropped(client, tech, job_id, make, trailer):
    data = make()
    assert trailer in data
    response = send(client, tech, job_id, data, "PXL_20261127_081500000.MP.jpg")
    assert response.status_code == 201, response.get_json()
    sent = sent_to_amazon(client, tech, job_id, response.get_json())
    assert trailer not in sent and b"mdat" not in sent and b"SEFH" not in sent
    with Image.open(io.BytesIO(sent)) as picture:
        assert picture.format == "JPEG" and getattr(picture, "n_frames", 1) == 1


@pytest.mark.parametrize("data", [
    media.jpeg_hiding_payload_before_final_eoi(),
    media.motion_photo() + b"PK\x03\x04payload",
    media.jpeg() + media.jpeg(),
    media.tiff() + b"<script>alert(1)</script>",
    media.gif()[:-1] + b"<script>alert(1)</script>;",
    media.jpeg() + media.isobmff_box(b"ftyp", b"isom") + media.isobmff_box(b"mdat", b"PK\x03\x04payload"),
    media.motion_photo(announce=None),
    media.motion_photo(wrong_by=4),
    media.jpeg() + media.samsung_trailer([(0x0A30, b"MotionPhoto_Data", b"PK\x03\x04payload")]),
    media.tiff_with_value_at_end(65000, b"PK\x03\x04payload<script>alert(1)</script>"),
], ids=["payload before a final FFD9", "payload after a motion photo's video", "a second JPEG without MPF",
        "tiff trailer", "payload before a gif's final semicolon", "ftyp+mdat without an announcement",
        "an mp4 the xmp does not announce", "an mp4 of another length than announced",
        "a samsung motion photo block that is not an mp4", "tiff payload named by a private tag"])
def test_unknown_trailing_data_is_refused(client, tech, job_id, data):
    response = send(client, tech, job_id, data, "photo.jpg")
    assert response.status_code == 422
    assert "data after its end" in response.get_json()["message"]


@pytest.mark.parametrize("make, name", [
    (media.jpeg_with_text, "comment.jpg"),
    (media.png_with_text, "notes.png"),
    (lambda: media.gif(comment=media.SECRET_TEXT.encode()), "drawing.gif"),
    (lambda: media.tiff(artist=media.SECRET_TEXT), "scan.tif"),
], ids=["jpeg COM, EXIF and XMP", "png tEXt, zTXt, iTXt, XMP and eXIf", "gif comment", "tiff Artist tag"])
def test_no_text_a_picture_carries_reaches_amazon(client, tech, job_id, make, name):
    data = make()
    assert media.SECRET_TEXT.encode() in data
    response = send(client, tech, job_id, data, name)
    assert response.status_code == 201, response.get_json()
    sent = sent_to_amazon(client, tech, job_id, response.get_json())
    assert b"gate code" not in sent and b"47.6101" not in sent
    assert b"xmpmeta" not in sent and b"Exif\x00\x00" not in sent and b"tEXt" not in sent and b"iTXt" not in sent
    assert b"zTXt" not in sent and b"eXIf" not in sent and b"\xff\xfe" not in sent[:sent.find(b"\xff\xda")]


def stored(deps, doc) -> tuple:
    """What the database keeps as evidence: (captured_at, gps_latitude, gps_longitude)."""
    with deps.db.session() as session:
        document = session.get(Document, doc["id"])
        return document.captured_at, document.gps_latitude, document.gps_longitude


@pytest.mark.parametrize("taken", ["9999:12:31 23:30:00", "0001:01:01 00:30:00", "1999:12:31 23:59:59",
                                   "2100:01:01 00:00:00"],
                         ids=["year 9999 west of UTC", "year 1 east of UTC", "before 2000", "after 2099"])
def test_a_capture_date_out_of_range_is_not_kept_and_the_photo_is_accepted(client, tech, job_id, deps, taken):
    data = media.jpeg(taken=taken)
    if taken.startswith("0001"):
        data = data.replace(b"-07:00", b"+07:00")  # 0001-01-01 00:30 at +07:00 is before year 1 in UTC
    response = send(client, tech, job_id, data, "photo.jpg")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["capturedAt"] is None
    assert stored(deps, response.get_json())[0] is None


def test_a_capture_date_in_range_is_kept_in_utc(client, tech, job_id):
    response = send(client, tech, job_id, media.jpeg(taken="2099:12:31 20:00:00"), "photo.jpg")
    assert response.status_code == 201 and response.get_json()["capturedAt"] == "2100-01-01T03:00:00+00:00"


@pytest.mark.parametrize("gps", [
    {1: "N", 2: (1e300, 0.0, 0.0), 3: "W", 4: (122.0, 19.0, 59.0)},
    {1: "N", 2: (91.0, 0.0, 0.0), 3: "W", 4: (122.0, 19.0, 59.0)},
    {1: "N", 2: (47.0, 36.0, 36.0), 3: "E", 4: (181.0, 0.0, 0.0)},
], ids=["a huge latitude", "latitude 91", "longitude 181"])
def test_a_malformed_gps_block_is_not_kept_and_the_photo_is_accepted(client, tech, job_id, deps, gps):
    response = send(client, tech, job_id, media.jpeg(gps=gps), "photo.jpg")
    assert response.status_code == 201, response.get_json()
    assert stored(deps, response.get_json())[1:] == (None, None)


@pytest.mark.parametrize("gps, kept", [
    ({1: "N", 2: (47.0, 36.0, 36.0, 5.0), 3: "W", 4: (122.0, 19.0, 59.0)}, (47.61, -122.3330556)),
    ({1: "N", 2: tuple([7.0] * 200), 3: "W", 4: (122.0, 19.0, 59.0)}, (7.1186111, -122.3330556)),
    ({1: "S", 2: (47.0, 36.0, 36.0), 3: "E", 4: tuple([7.0] * 200)}, (-47.61, 7.1186111)),
], ids=["four latitude values", "200 latitude values", "200 longitude values"])
def test_a_gps_block_with_extra_values_keeps_degrees_minutes_seconds(client, tech, job_id, deps, gps, kept):
    response = send(client, tech, job_id, media.jpeg(gps=gps), "photo.jpg")
    assert response.status_code == 201, response.get_json()  # 200 values: a 500 (OverflowError) before
    assert stored(deps, response.get_json())[1:] == kept


def test_a_tiff_ending_with_its_xmp_is_accepted(client, tech, job_id):
    data = media.tiff_with_value_at_end(700, b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>", kind=1)
    response = send(client, tech, job_id, data, "scan.tif")
    assert response.status_code == 201, response.get_json()
