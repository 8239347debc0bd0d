"""What reaches Amazon and what a browser is handed: real PDFs only, without
their metadata; content served as a download, never sniffed; one file per upload;
the photo of the signed paper may also be the POA."""

from __future__ import annotations

import io
import time

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from PIL import Image
from pypdf import PdfReader, PdfWriter

from techapi.evidence.pdf import CPU_SECONDS, MAX_PAGES, WALL_SECONDS
from techapi.jobs.readiness import Needed
from techapi.worker.runner import Worker
from tests import media, pdfs
from tests.api.test_documents import counts, send


def still_needed(client, tech, job_id) -> list[str]:
    return client.get(f"/v1/jobs/{job_id}/times", headers=tech).get_json()["stillNeeded"]


def content(client, tech, job_id, doc_id):
    return client.get(f"/v1/jobs/{job_id}/documents/{doc_id}/content", headers=tech)


def decrypted_uploads(sandbox) -> list[bytes]:
    out = []
    for dest in sandbox.state.destinations.values():
        if dest.data:
            plain = Cipher(algorithms.AES(dest.key), modes.CBC(dest.iv)).decryptor().update(dest.data)
            unpadder = padding.PKCS7(128).unpadder()
            out.append(unpadder.update(plain) + unpadder.finalize())
    return out


def assert_no_metadata(data: bytes) -> None:
    for private in (pdfs.AUTHOR, pdfs.LATITUDE, pdfs.LONGITUDE, "GPSLatitude", "ScanApp", "xmpmeta",
                    pdfs.EDITOR_NOTE):
        assert private.encode() not in data, private
    reader = PdfReader(io.BytesIO(data), strict=True)
    assert not reader.metadata and reader.xmp_metadata is None


def test_a_pdf_reaches_amazon_without_its_author_or_the_gps_in_its_xmp(app, client, tech, job_id, sandbox):
    original = pdfs.signed(pages=2, author=pdfs.AUTHOR, xmp=True)
    assert all(private.encode() in original for private in (pdfs.AUTHOR, pdfs.LATITUDE, pdfs.EDITOR_NOTE))
    response = send(client, tech, job_id, original, kind="POA", name="signed.pdf", poaType="CUSTOMER_SIGNATURE")
    assert response.status_code == 201, response.get_json()
    doc = response.get_json()
    served = content(client, tech, job_id, doc["id"])
    assert served.status_code == 200 and len(served.data) == doc["size"]
    assert_no_metadata(served.data)
    assert len(PdfReader(io.BytesIO(served.data), strict=True).pages) == 2
    assert b"Signed: J. Customer p2" in served.data  # the pages themselves are untouched
    assert Worker(app).drain(max_seconds=30) == 0
    assert decrypted_uploads(sandbox) == [served.data]  # exactly the scrubbed bytes went to Amazon


def _offsets_three_bytes_off() -> bytes:
    data = pdfs.signed(pages=2)
    return data[:9] + b"   " + data[9:]  # every offset and startxref now 3 bytes short


REAL_PDFS = [
    ("a cross-reference stream", pdfs.with_xref_stream, 1),
    ("a cross-reference stream with /Type last",
     lambda: pdfs.with_xref_stream().replace(b"/Type/XRef/Size 5/W[1 2 1]", b"/Size 5/W[1 2 1]/Type/XRef"), 1),
    # A strict parser refuses this ("Broken xref table"); every reader opens it: strict=False.
    ("offsets a few bytes off", _offsets_three_bytes_off, 2),
]


@pytest.mark.parametrize("what, make, pages", REAL_PDFS, ids=[r[0] for r in REAL_PDFS])
def test_real_pdfs_as_scanner_apps_write_them_are_accepted(client, tech, job_id, what, make, pages):
    response = send(client, tech, job_id, make(), kind="POA", name="scan.pdf")
    assert response.status_code == 201, response.get_json()
    served = content(client, tech, job_id, response.get_json()["id"])
    assert len(PdfReader(io.BytesIO(served.data), strict=True).pages) == pages


def _encrypted() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdfs.signed())))
    writer.encrypt("1234", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _no_pages() -> bytes:
    out = io.BytesIO()
    PdfWriter().write(out)
    return out.getvalue()


NOT_PDFS = [
    ("an HTML page behind a PDF header", lambda: b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF\n",
     "cross-reference"),
    ("startxref into the HTML", lambda: b"%PDF-1.7\n<html><body>hi</body></html>\nstartxref\n9\n%%EOF\n",
     "cross-reference"),
    ("a catalog without xref or pages", media.pdf, "cross-reference"),
    ("no pages", _no_pages, "no pages"),
    ("a broken cross-reference table",
     lambda: pdfs.signed().replace(b"trailer", b"trailor").replace(b"/Root", b"/Rot"), "not a readable PDF"),
    ("password-protected", _encrypted, "password"),
    ("too many pages", lambda: pdfs.signed(pages=MAX_PAGES + 1), f"at most {MAX_PAGES}"),
]


@pytest.mark.parametrize("what, make, says", NOT_PDFS, ids=[n[0] for n in NOT_PDFS])
def test_a_file_that_is_not_a_whole_pdf_is_a_422_that_says_why(client, tech, job_id, deps, what, make, says):
    response = send(client, tech, job_id, make(), kind="POA", name="scan.pdf")
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert says in body["message"] and body["errors"]["files"]["file"]
    assert counts(deps) == (0, 0, 0, [])


@pytest.mark.parametrize("data, name, kind, disposition, mimetype", [
    (media.jpeg(), "photo.jpg", "PHOTO", "inline", "image/jpeg"),
    (pdfs.signed(), "signed.pdf", "POA", "attachment", "application/pdf"),
], ids=["JPEG inline", "PDF attachment"])
def test_document_content_is_never_sniffed_and_only_an_image_is_shown_inline(client, tech, job_id, data, name,
                                                                              kind, disposition, mimetype):
    doc = send(client, tech, job_id, data, kind=kind, name=name).get_json()
    served = content(client, tech, job_id, doc["id"])
    assert served.status_code == 200 and served.mimetype == mimetype
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    extension = doc["contentType"].lower()
    assert served.headers["Content-Disposition"] == f"{disposition}; filename={doc['id']}.{extension}"
    assert "sandbox" in served.headers["Content-Security-Policy"]


def test_the_photo_of_the_signed_paper_can_also_be_the_poa(client, tech, job_id, deps):
    paper = media.jpeg(color=(240, 240, 230))
    photo = send(client, tech, job_id, paper, kind="PHOTO", name="paper.jpg")
    assert Needed.POA_DOCUMENT in still_needed(client, tech, job_id)
    poa = send(client, tech, job_id, paper, kind="POA", name="paper.jpg", poaType="CUSTOMER_SIGNATURE")
    assert photo.status_code == 201 and poa.status_code == 201, poa.get_json()
    assert poa.get_json()["kind"] == "POA" and poa.get_json()["id"] != photo.get_json()["id"]
    assert Needed.POA_DOCUMENT not in still_needed(client, tech, job_id)
    again = send(client, tech, job_id, paper, kind="POA", name="again.jpg")
    assert again.status_code == 200 and again.get_json()["id"] == poa.get_json()["id"]
    documents, tasks, _, keys = counts(deps)
    assert (documents, tasks, len(keys)) == (2, 2, 4)


def test_two_file_parts_are_a_422_naming_the_field(client, tech, job_id, deps):
    response = client.post(f"/v1/jobs/{job_id}/documents", headers=tech, content_type="multipart/form-data",
                           data={"kind": "PHOTO", "file": [(io.BytesIO(media.jpeg()), "a.jpg"),
                                                           (io.BytesIO(media.jpeg(color=(1, 2, 3))), "b.jpg")]})
    assert response.status_code == 422
    body = response.get_json()
    assert "one file" in body["message"] and "file" in body["errors"]["files"]
    assert counts(deps) == (0, 0, 0, [])


@pytest.mark.slow
def test_a_pdf_crafted_to_burn_cpu_and_memory_is_a_422_within_seconds(client, tech, job_id, deps):
    flood = pdfs.token_flood()
    assert len(flood) < 5 * 1024 * 1024
    started = time.monotonic()
    response = send(client, tech, job_id, flood, kind="POA", name="scan.pdf")
    assert response.status_code == 422, response.get_json()
    assert f"{CPU_SECONDS} s" in response.get_json()["message"]
    assert time.monotonic() - started < WALL_SECONDS
    assert counts(deps) == (0, 0, 0, [])


def test_the_decode_budget_follows_its_setting_and_names_the_limit(client, tech, job_id, deps):
    deps.settings = deps.settings.with_overrides(max_decoded_megapixels=1)
    refused = send(client, tech, job_id, media.png(size=(1200, 1000)), name="big.png")
    assert refused.status_code == 422 and "at most 1 megapixels" in refused.get_json()["message"]
    assert counts(deps) == (0, 0, 0, [])
    assert send(client, tech, job_id, media.png(size=(1000, 900)), name="small.png").status_code == 201


def test_a_photo_inside_a_pdf_reaches_amazon_without_its_exif_gps_xmp_or_comment(app, client, tech, job_id,
                                                                                  sandbox):
    photo = pdfs.photo_jpeg()
    original = pdfs.with_photo(photo)
    assert photo in original and b"Exif\x00\x00" in original and pdfs.EDITOR_NOTE.encode() in original
    with Image.open(io.BytesIO(photo)) as img:
        assert img.getexif().get_ifd(0x8825)  # the photo carries a GPS position
    response = send(client, tech, job_id, original, kind="POA", name="scan.pdf", poaType="CUSTOMER_SIGNATURE")
    assert response.status_code == 201, response.get_json()
    assert Worker(app).drain(max_seconds=30) == 0
    [sent] = decrypted_uploads(sandbox)
    for private in (b"Exif\x00\x00", b"http://ns.adobe.com/xap", pdfs.EDITOR_NOTE.encode(), pdfs.LATITUDE.encode()):
        assert private not in sent, private
    reader = PdfReader(io.BytesIO(sent), strict=True)
    image = reader.pages[0]["/Resources"]["/XObject"]["/Im0"].get_object()
    jpeg = image._data  # the stream's bytes as written (pypdf's .images would re-encode them)
    assert len(jpeg) < len(photo) and jpeg.endswith(b"\xff\xd9")  # read by its /Length: whole, no more
    assert b"\xff\xee\x00\x0eAdobe" in jpeg and b"JFIF\x00" in jpeg  # APP14 and APP0 kept
    with Image.open(io.BytesIO(jpeg)) as img:
        img.load()
        assert img.size == (64, 32) and not img.getexif()
        assert img.getpixel((10, 10)) == Image.open(io.BytesIO(photo)).getpixel((10, 10))  # same pixels
