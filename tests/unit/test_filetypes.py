"""What an upload is, from its first bytes, and whether it ends where its format
says it ends (evidence.filetypes), on small files held in memory."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from techapi.evidence.filetypes import GIF, HEIC, JPEG, PDF, PNG, TIFF, detect, ends_cleanly
from tests import media


def ends(data: bytes, kind: str) -> bool:
    return ends_cleanly(io.BytesIO(data), kind, len(data))


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, "GIF")
    return out.getvalue()


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def ftyp(brand: bytes) -> bytes:
    return box(b"ftyp", brand + b"\x00\x00\x00\x00" + b"mif1" + brand)


# Detection ------------------------------------------------------------------


@pytest.mark.parametrize("head, kind", [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", JPEG),
    (b"\xff\xd8\xff\xe1\x00\x10Exif\x00", JPEG),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", PNG),
    (b"GIF87a\x08\x00\x08\x00", GIF),
    (b"GIF89a\x08\x00\x08\x00", GIF),
    (b"II*\x00\x08\x00\x00\x00", TIFF),  # little-endian
    (b"MM\x00*\x00\x00\x00\x08", TIFF),  # big-endian
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", PDF),
], ids=["jpeg jfif", "jpeg exif", "png", "gif87a", "gif89a", "tiff II", "tiff MM", "pdf"])
def test_each_allowed_type_is_told_by_its_magic_number(head, kind):
    assert detect(head) == kind


@pytest.mark.parametrize("brand", [b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"])
def test_every_heif_brand_is_heic(brand):
    assert detect(ftyp(brand)[:32]) == HEIC


def test_real_files_are_told_apart():
    assert detect(media.jpeg()[:32]) == JPEG
    assert detect(media.png()[:32]) == PNG
    assert detect(gif()[:32]) == GIF
    assert detect(media.pdf()[:32]) == PDF
    assert detect(media.heic(64, 64)[:32]) == HEIC


@pytest.mark.parametrize("head", [
    b"",
    b"BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00",  # BMP
    b"RIFF\x24\x00\x00\x00WEBPVP8 ",  # WebP
    b"PK\x03\x04\x14\x00\x00\x00",  # ZIP (and every Office document)
    b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00",  # AVIF: ISOBMFF, but not a HEIF brand we take
    b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00",  # MP4 video
    b"\xff\xd8",  # the first two bytes of a JPEG only
    b"\x89PNG\r\n",  # a PNG signature cut short
    b"GIF90a",
    b"II+\x00",  # BigTIFF
    b"%!PS-Adobe-3.0",
    b"<svg xmlns=",
    b"\x00\x00\x00\x0cftyphei",  # an ftyp box too short to name its brand
], ids=["empty", "bmp", "webp", "zip", "avif", "mp4", "jpeg cut", "png cut", "gif90a", "bigtiff",
        "postscript", "svg", "short ftyp"])
def test_anything_else_is_refused(head):
    assert detect(head) is None


# Where a file ends ------------------------------------------------------------


def test_whole_files_end_cleanly():
    assert ends(media.jpeg(), JPEG)
    assert ends(media.png(), PNG)
    assert ends(gif(), GIF)
    assert ends(media.pdf(), PDF)
    assert ends(media.heic(64, 64), HEIC)


def test_a_truncated_jpeg_does_not_end_cleanly():
    assert not ends(media.truncated_jpeg(), JPEG)


def test_a_jpeg_with_bytes_after_its_end_marker_does_not_end_cleanly():
    assert not ends(media.jpeg() + b"x", JPEG)
    assert not ends(media.polyglot_jpeg_zip(), JPEG)


def test_a_jpeg_followed_by_only_padding_still_ends_cleanly():
    assert ends(media.jpeg() + b"\r\n\x00\x00", JPEG)


def test_a_png_without_its_iend_chunk_does_not_end_cleanly():
    whole = media.png()
    assert not ends(whole[:-12], PNG)
    assert not ends(whole + b"\x00", PNG)


def test_a_gif_without_its_trailer_does_not_end_cleanly():
    whole = gif()
    assert whole.endswith(b";")
    assert not ends(whole[:-1], GIF)


def test_a_pdf_with_bytes_after_its_last_eof_does_not_end_cleanly():
    assert not ends(media.pdf() + b"<script>alert(1)</script>", PDF)
    assert not ends(media.pdf()[:-8], PDF)  # cut before %%EOF


def test_a_pdf_followed_by_only_whitespace_still_ends_cleanly():
    assert ends(media.pdf() + b" \t\r\n\x00", PDF)


def test_a_pdf_updated_incrementally_ends_at_its_last_eof():
    updated = media.pdf() + b"1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    assert ends(updated, PDF)


def test_heif_boxes_that_tile_the_file_end_cleanly():
    assert ends(ftyp(b"heic") + box(b"meta", b"\x00" * 20) + box(b"mdat", b"\x01" * 100), HEIC)


def test_heif_with_bytes_after_its_last_box_does_not_end_cleanly():
    assert not ends(media.heic(64, 64) + b"PK\x03\x04", HEIC)
    assert not ends(ftyp(b"heic") + box(b"mdat", b"\x01" * 100) + b"trailing", HEIC)


def test_a_payload_appended_to_a_heif_behind_a_zero_size_header_does_not_end_cleanly():
    assert not ends(media.heic(64, 64) + b"\x00\x00\x00\x00" + b"PK\x03\x04" + b"#!/bin/sh\n", HEIC)


def test_heif_whose_last_box_claims_more_than_the_file_does_not_end_cleanly():
    assert not ends(media.heic(64, 64)[:-1], HEIC)


def test_a_heif_box_shorter_than_its_own_header_does_not_end_cleanly():
    assert not ends(ftyp(b"heic") + struct.pack(">I", 4) + b"mdat", HEIC)


def test_a_heif_box_with_a_64_bit_size_is_followed_to_its_end():
    payload = b"\x01" * 40
    large = struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 16 + len(payload)) + payload
    assert ends(ftyp(b"heic") + large, HEIC)
    assert not ends(ftyp(b"heic") + large + b"x", HEIC)


def test_a_heif_box_of_size_zero_runs_to_the_end_of_the_file():
    assert ends(ftyp(b"heic") + struct.pack(">I", 0) + b"mdat" + b"\x01" * 50, HEIC)


def test_a_tiff_is_left_to_the_decoder():
    assert ends(b"II*\x00\x08\x00\x00\x00" + b"anything at all", TIFF)
