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


def test_a_gif_hiding_a_payload_before_a_final_semicolon_does_not_end_cleanly():
    whole = media.gif(comment=b"a comment")
    assert not ends(whole[:-1] + b"PK\x03\x04payload;", GIF)
    assert not ends(whole[:-2] + b";", GIF)  # cut inside its last block


def test_an_animated_gif_ends_after_its_last_frame():
    frames = [Image.new("P", (40, 30), i) for i in range(4)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], loop=0, duration=100)
    assert ends(out.getvalue(), GIF)
    assert not ends(out.getvalue() + b"x", GIF)


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


@pytest.mark.parametrize("compression", [None, "tiff_lzw", "tiff_deflate", "jpeg", "packbits"])
def test_a_tiff_ends_where_its_last_strip_or_directory_ends(compression):
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112], exif[0x013B] = 6, "A. Technician"
    options = {"compression": compression} if compression else {}
    media.quadrants((300, 200)).save(out, "TIFF", exif=exif.tobytes(), **options)
    assert ends(out.getvalue(), TIFF)
    assert not ends(out.getvalue() + b"PK\x03\x04payload", TIFF)


def test_a_tiff_with_a_trailer_does_not_end_cleanly():
    assert not ends(media.tiff() + b"<script>alert(1)</script>", TIFF)
    assert not ends(b"II*\x00\x08\x00\x00\x00" + b"anything at all", TIFF)


def test_a_tiff_whose_strips_run_past_the_file_does_not_end_cleanly():
    assert not ends(media.tiff()[:-10], TIFF)


def test_a_tiff_directory_chain_that_loops_is_walked_once():
    data = bytearray(media.tiff())
    first = struct.unpack("<I", data[4:8])[0]
    count = struct.unpack("<H", data[first:first + 2])[0]
    data[first + 2 + 12 * count: first + 6 + 12 * count] = struct.pack("<I", first)  # next IFD: itself
    assert ends(bytes(data), TIFF)


def test_a_multi_page_tiff_ends_cleanly_so_its_own_message_can_be_given():
    assert ends(media.multipage_tiff(), TIFF)


# What phones append to a JPEG, and what they do not ------------------------------


def test_a_payload_hidden_before_a_final_ffd9_does_not_end_cleanly():
    data = media.jpeg_hiding_payload_before_final_eoi()
    assert data.endswith(b"\xff\xd9")
    assert not ends(data, JPEG)


def test_an_ffd9_inside_a_segment_is_not_taken_for_the_end():
    comment = b"\xff\xfe" + struct.pack(">H", 2 + 6) + b"ab\xff\xd9cd"
    data = media.jpeg()
    assert ends(data[:2] + comment + data[2:], JPEG)
    assert not ends(data[:2] + comment + data[2:] + b"x\xff\xd9", JPEG)


def test_a_jpeg_cut_inside_its_scan_does_not_end_cleanly():
    assert not ends(media.jpeg((400, 300))[:-3], JPEG)


def test_a_progressive_jpeg_with_restart_markers_ends_cleanly():
    out = io.BytesIO()
    media.quadrants((200, 120)).save(out, "JPEG", progressive=True, restart_marker_blocks=2)
    assert ends(out.getvalue(), JPEG)


def test_a_motion_photo_ends_cleanly_with_its_video():
    data = media.motion_photo()
    assert b"GCamera:MicroVideoOffset" in data and data[len(data) - len(media.mp4()) + 4:][:4] == b"ftyp"
    assert ends(data, JPEG)


def test_a_motion_photo_whose_video_carries_more_does_not_end_cleanly():
    assert not ends(media.motion_photo() + b"PK\x03\x04payload", JPEG)
    assert not ends(media.jpeg() + media.mp4()[:-1], JPEG)  # the last box claims more than there is


def test_a_video_that_does_not_start_with_ftyp_is_unknown_trailing_data():
    assert not ends(media.jpeg() + media.isobmff_box(b"mdat", b"\x01" * 64), JPEG)


def test_a_multi_picture_file_ends_cleanly_after_its_last_picture():
    data = media.mpf_jpeg()
    assert b"MPF\x00" in data[:256]
    assert ends(data, JPEG)
    assert not ends(data + b"payload", JPEG)


def test_a_second_jpeg_without_an_mpf_segment_is_unknown_trailing_data():
    assert not ends(media.jpeg() + media.jpeg(), JPEG)


def test_samsungs_trailer_ends_cleanly():
    assert ends(media.samsung_photo(), JPEG)
    assert ends(media.samsung_photo(video=True), JPEG)


def test_samsungs_trailer_with_a_gap_or_a_payload_does_not_end_cleanly():
    trailer = media.samsung_trailer([(0x0A01, b"Image_UTC_Data", b"1700000000000")])
    assert not ends(media.jpeg() + b"payload" + trailer, JPEG)  # bytes no block accounts for
    assert not ends(media.jpeg() + trailer + b"x", JPEG)
    assert not ends(media.jpeg() + trailer[-30:], JPEG)  # a directory pointing before the JPEG's end


PAYLOAD = b"PK\x03\x04" + b"\x00" * 26 + b"payload.sh#!/bin/sh\nrm -rf /\n"


def test_a_motion_photo_announced_by_its_container_directory_ends_cleanly():
    data = media.motion_photo(announce="container")
    assert b'Item:Semantic="MotionPhoto"' in data and b"MicroVideoOffset" not in data
    assert ends(data, JPEG)


@pytest.mark.parametrize("data", [
    media.motion_photo(announce=None),
    media.motion_photo(wrong_by=1),
    media.motion_photo(wrong_by=-8),
    media.motion_photo(announce="container", wrong_by=1),
    media.jpeg() + media.isobmff_box(b"ftyp", b"isom") + media.isobmff_box(b"mdat", PAYLOAD),
], ids=["no announcement", "offset one byte more", "offset one box less", "container length one more",
        "ftyp+mdat behind a plain jpeg"])
def test_an_mp4_trailer_the_photo_does_not_announce_with_its_length_is_unknown_trailing_data(data):
    assert not ends(data, JPEG)


def test_an_announced_video_with_a_box_no_mp4_has_at_top_level_is_unknown_trailing_data():
    video = media.mp4() + media.isobmff_box(b"zip ", PAYLOAD)
    assert not ends(media.motion_photo(video=video), JPEG)
    assert ends(media.motion_photo(video=media.mp4() + media.isobmff_box(b"free", b"\x00" * 16)), JPEG)


@pytest.mark.parametrize("blocks", [
    [(0x0A01, b"Image_UTC_Data", b"1700000000000"), (0x0A30, b"MotionPhoto_Data", PAYLOAD)],
    [(0x0A30, b"MotionPhoto_Data", media.isobmff_box(b"ftyp", b"isom") + media.isobmff_box(b"zip ", PAYLOAD))],
    [(0x0A01, b"Payload\x00\xff", PAYLOAD)],
], ids=["motion photo data that is not an mp4", "an mp4 with an unknown box", "a name that is not text"])
def test_a_samsung_trailer_whose_blocks_are_not_what_phones_write_is_unknown_trailing_data(blocks):
    assert not ends(media.jpeg() + media.samsung_trailer(blocks), JPEG)


def test_a_samsung_block_unlike_its_directory_entry_is_unknown_trailing_data():
    trailer = bytearray(media.samsung_trailer([(0x0A01, b"Image_UTC_Data", b"1700000000000")]))
    trailer[2:4] = (0x0A30).to_bytes(2, "little")  # the block says another type than the directory
    assert not ends(media.jpeg() + bytes(trailer), JPEG)
    raw = PAYLOAD + b"\x00" * 8  # a block without the SEF header, only the directory saying where it is
    directory = b"SEFH" + struct.pack("<II", 107, 1) + struct.pack("<HHII", 0, 0x0A01, len(raw), len(raw))
    assert not ends(media.jpeg() + raw + directory + struct.pack("<I", len(directory)) + b"SEFT", JPEG)


ZIP = b"PK\x03\x04" + b"\x00" * 26 + b"payload.sh#!/bin/sh\nrm -rf /\n" + b"PK\x05\x06" + b"\x00" * 18


@pytest.mark.parametrize("tag", [65000, 32768, 50000, 0x927C],
                         ids=["private 65000", "private 32768", "private 50000", "exif MakerNote outside exif"])
def test_a_tiff_with_a_payload_at_its_end_named_only_by_a_private_tag_does_not_end_cleanly(tag):
    data = media.tiff_with_value_at_end(tag, ZIP)
    assert data.endswith(ZIP)
    assert not ends(data, TIFF)


@pytest.mark.parametrize("tag, value, kind", [
    (700, b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>", 1), (34675, b"\x00" * 128, 7), (33723, b"\x1c\x02\x00" * 8, 7),
    (33432, b"(c) Field Services Ltd\x00", 2), (270, b"Scanned proof of appointment\x00", 2),
    (282, struct.pack("<II", 300, 1), 5), (34377, b"8BIM" + b"\x00" * 12, 1),
], ids=["xmp", "icc", "iptc", "copyright", "image description", "x resolution", "photoshop"])
def test_a_tiff_whose_last_bytes_are_a_known_tags_value_ends_cleanly(tag, value, kind):
    data = media.tiff_with_value_at_end(tag, value, kind)
    assert ends(data, TIFF)
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == (4, 2)
