"""What a file is, from its bytes alone (magic numbers), and whether it ends
where its format says it ends. Pure functions: no I/O beyond the file object.

"Where it ends" is found by walking the format's structure (JPEG segments and
entropy-coded data, PNG chunks, GIF blocks, TIFF directories, ISO-BMFF boxes), never by
looking for an end marker near the last bytes, which a payload can carry too.
Behind a JPEG, only what phones write is accepted: the further pictures of a
multi-picture file (MPF), a Motion Photo's MP4 and Samsung's SEF trailer. The
re-encode drops them all. A Motion Photo's MP4 only when the JPEG's XMP announces it
with its exact length (GCamera:MicroVideoOffset, or the Container directory's
MotionPhoto item), and only made of the top-level boxes an MP4 has; a SEF trailer
only when every block is what its directory entry says (type, name) and a
MotionPhoto_Data block holds such an MP4.
"""

from __future__ import annotations

import re
import struct
from typing import BinaryIO

JPEG, PNG, GIF, TIFF, HEIC, PDF = "JPEG", "PNG", "GIF", "TIFF", "HEIC", "PDF"
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PADDING = b"\x00\r\n"
CHUNK = 1 << 20
MAX_PARTS = 100_000  # segments, chunks, boxes or directory entries walked in one file
MAX_PICTURES = 16  # JPEGs in one multi-picture file
MAX_XMP = 1 << 20  # XMP read from the first JPEG's APP1 segments, to find a Motion Photo's announcement
XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
# The top-level boxes of an MP4 (ISO/IEC 14496-12 and -14): nothing else may follow a photo.
MP4_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"uuid", b"meta", b"wide", b"mfra", b"udta", b"sidx",
             b"styp", b"moof"}
MICRO_VIDEO_OFFSET = re.compile(rb"GCamera:MicroVideoOffset(?:=[\"']|>)\s*(\d{1,12})\s*[\"'<]")
CONTAINER_ITEM = re.compile(rb"<Container:Item\b(.*?)(?:/>|</Container:Item>)", re.DOTALL)
MOTION_PHOTO_ITEM = re.compile(rb"Item:Semantic(?:=[\"']|>)\s*MotionPhoto\s*[\"'<]")
ITEM_LENGTH = re.compile(rb"Item:Length(?:=[\"']|>)\s*(\d{1,12})\s*[\"'<]")
SEF_MOTION_PHOTO = 0x0A30  # MotionPhoto_Data: the video of a Samsung Motion Photo
TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
TIFF_SUB_IFDS = (0x014A, 0x8769, 0x8825, 0xA005)  # SubIFDs, EXIF, GPS, interoperability
TIFF_EXIF_IFD = 0x8769
# Tags from 32768 up are private: their values never extend where a TIFF ends, except these
# public ones: Copyright (baseline), IPTC, Photoshop's image resources, ICC profile, EXIF and
# GPS directories, interoperability directory. Below 32768: TIFF 6 baseline and extension tags,
# XMP (700), and every GPS and interoperability tag.
TIFF_PUBLIC_HIGH_TAGS = {0x8298, 0x83BB, 0x8649, 0x8773, 0x8769, 0x8825, 0xA005}
TIFF_LAST_EXIF_TAG = 0xA500  # EXIF's own tags (0x829A ExposureTime .. 0xA500 Gamma), in the EXIF directory only
TIFF_DATA = ((0x0111, 0x0117), (0x0144, 0x0145), (0x0201, 0x0202))  # strips, tiles, thumbnail: offsets, lengths


def detect(head: bytes) -> str | None:
    """The type of a file from its first 32 bytes, or None when not allowed."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(PNG_SIGNATURE):
        return PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if head.startswith(b"%PDF-"):
        return PDF
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return HEIC
    return None


def _read(f: BinaryIO, offset: int, n: int) -> bytes:
    f.seek(offset)
    return f.read(n)


def _is_padding(f: BinaryIO, start: int, end: int) -> bool:
    """A few bytes of zeros or line ends after the last structure, as some writers leave."""
    return end - start <= 64 and not _read(f, start, end - start).strip(PADDING)


def _boxes_tile(f: BinaryIO, start: int, end: int, kinds: set[bytes] | None = None) -> bool:
    """ISO-BMFF top-level boxes cover [start, end) exactly: no hidden payload; with `kinds`,
    only boxes of those types."""
    offset = start
    for _ in range(MAX_PARTS):
        if offset == end:
            return True
        header = _read(f, offset, 16)
        if len(header) < 8 or kinds is not None and header[4:8] not in kinds:
            return False
        box_size = struct.unpack(">I", header[:4])[0]
        if box_size == 1 and len(header) == 16:
            box_size = struct.unpack(">Q", header[8:16])[0]
        elif box_size == 0:
            # "Runs to the end of the file": only ever the media data, and only as the
            # last box; any other type would let a payload ride behind four zero bytes.
            return header[4:8] == b"mdat"
        if box_size < 8 or offset + box_size > end:
            return False
        offset += box_size
    return False


def _is_mp4(f: BinaryIO, start: int, end: int) -> bool:
    """[start, end) is an MP4 as a phone writes it: ftyp first, then only MP4 top-level boxes."""
    return _read(f, start + 4, 4) == b"ftyp" and _boxes_tile(f, start, end, MP4_BOXES)


def _entropy_end(f: BinaryIO, pos: int, size: int) -> int | None:
    """Offset of the first marker after entropy-coded data (0xFF then not 0x00, RSTn or fill)."""
    while pos < size:
        chunk = _read(f, pos, CHUNK)
        i = 0
        while True:
            i = chunk.find(b"\xff", i)
            if i < 0:
                pos += len(chunk)
                break
            if i + 1 >= len(chunk):
                if pos + i + 1 >= size:
                    return None
                pos += i  # read again from this 0xFF so its next byte is seen
                break
            following = chunk[i + 1]
            if following == 0x00 or 0xD0 <= following <= 0xD7:
                i += 2
            elif following == 0xFF:
                i += 1
            else:
                return pos + i
    return None


def jpeg_end(f: BinaryIO, start: int, size: int) -> tuple[int, bool] | None:
    """(offset just past the EOI of the JPEG at `start`, whether it announces MPF), or None
    when it is not a whole JPEG. Segments are followed by their lengths and scans to their
    next marker, so an FFD9 inside a segment or after a payload is not taken for the end."""
    if _read(f, start, 2) != b"\xff\xd8":
        return None
    pos, mpf = start + 2, False
    for _ in range(MAX_PARTS):
        head = _read(f, pos, 8)
        if len(head) < 2 or head[0] != 0xFF:
            return None
        marker = head[1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0xD9:
            return pos + 2, mpf
        if marker == 0x01 or 0xD0 <= marker <= 0xD7 or marker == 0xD8:
            if marker == 0xD8:
                return None
            pos += 2
            continue
        if len(head) < 4:
            return None
        length = int.from_bytes(head[2:4], "big")
        if length < 2 or pos + 2 + length > size:
            return None
        if marker == 0xE2 and head[4:8] == b"MPF\x00":
            mpf = True
        pos += 2 + length
        if marker == 0xDA:
            found = _entropy_end(f, pos, size)
            if found is None:
                return None
            pos = found
    return None


def _sef_block_ok(f: BinaryIO, kind: int, begin: int, end: int) -> bool:
    """A SEF data block is `00 00`, its type (the one its directory entry gives), the
    length of its name, a printable ASCII name, then its data; a MotionPhoto_Data block's
    data is an MP4."""
    header = _read(f, begin, 8)
    if len(header) < 8:
        return False
    zero, block_kind, name_len = struct.unpack("<HHI", header)
    if zero != 0 or block_kind != kind or not 0 < name_len <= 64 or begin + 8 + name_len > end:
        return False
    name = _read(f, begin + 8, name_len)
    if not all(0x21 <= c <= 0x7E for c in name):
        return False
    if kind == SEF_MOTION_PHOTO or name == b"MotionPhoto_Data":
        return _is_mp4(f, begin + 8 + name_len, end)
    return True


def _samsung_start(f: BinaryIO, floor: int, size: int) -> int | None:
    """Where Samsung's SEF trailer begins, when the file ends with a valid one: data blocks
    that tile the space up to the SEFH directory, which `<length>SEFT` closes, each block
    what its directory entry announces."""
    if size - floor < 8 + 12:
        return None
    footer = _read(f, size - 8, 8)
    if footer[4:] != b"SEFT":
        return None
    dir_len = struct.unpack("<I", footer[:4])[0]
    dir_pos = size - 8 - dir_len
    if dir_pos < floor or dir_len < 12:
        return None
    directory = _read(f, dir_pos, dir_len)
    if directory[:4] != b"SEFH":
        return None
    count = struct.unpack("<I", directory[8:12])[0]
    if count == 0 or count > 1000 or 12 + 12 * count > dir_len:
        return None
    blocks = []
    for i in range(count):
        _, kind, offset_back, length = struct.unpack("<HHII", directory[12 + 12 * i: 24 + 12 * i])
        blocks.append((dir_pos - offset_back, dir_pos - offset_back + length, kind))
    blocks.sort()
    position = blocks[0][0]
    if position < floor:
        return None
    for begin, end, kind in blocks:
        if begin != position or end > dir_pos or not _sef_block_ok(f, kind, begin, end):
            return None
        position = end
    return blocks[0][0] if position == dir_pos else None


def _xmp(f: BinaryIO, size: int) -> bytes:
    """The XMP packets of the JPEG at the start of the file (APP1 segments before its scan)."""
    pos, found = 2, b""
    for _ in range(MAX_PARTS):
        head = _read(f, pos, 4 + len(XMP_APP1))
        if len(head) < 4 or head[0] != 0xFF or head[1] in (0xD9, 0xDA):
            break
        if head[1] == 0xFF:
            pos += 1
            continue
        length = int.from_bytes(head[2:4], "big")
        if head[1] == 0xE1 and head[4:] == XMP_APP1 and len(found) + length <= MAX_XMP:
            found += _read(f, pos + 4 + len(XMP_APP1), length - 2 - len(XMP_APP1))
        pos += 2 + length
    return found


def _announced_video(f: BinaryIO, size: int, start: int, end: int) -> bool:
    """The photo's XMP says a video of exactly this length follows it: GCamera:MicroVideoOffset
    counts from the end of the file (Motion Photo 1.0 and older Pixels); the Container
    directory's MotionPhoto item gives the video's own length (Motion Photo format 1.0)."""
    xmp = _xmp(f, size)
    if any(int(m.group(1)) == size - start for m in MICRO_VIDEO_OFFSET.finditer(xmp)):
        return True
    for item in CONTAINER_ITEM.finditer(xmp):
        length = ITEM_LENGTH.search(item.group(1))
        if MOTION_PHOTO_ITEM.search(item.group(1)) and length and int(length.group(1)) == end - start:
            return True
    return False


def _jpeg_ends_cleanly(f: BinaryIO, size: int) -> bool:
    found = jpeg_end(f, 0, size)
    if found is None:
        return False
    pos, mpf = found
    # Multi-picture files (and Ultra HDR's gain map) carry whole JPEGs after the first.
    for _ in range(MAX_PICTURES if mpf else 0):
        if _read(f, pos, 3) != b"\xff\xd8\xff":
            break
        following = jpeg_end(f, pos, size)
        if following is None:
            return False
        pos = following[0]
    if pos == size or _is_padding(f, pos, size):
        return True
    samsung = _samsung_start(f, pos, size)
    end = size if samsung is None else samsung
    if pos == end:
        return True
    # A Motion Photo's video: an MP4 whose first box is ftyp, as Pixel and Samsung write it,
    # announced with its length in the photo's XMP.
    return _is_mp4(f, pos, end) and _announced_video(f, size, pos, end)


def _png_ends_cleanly(f: BinaryIO, size: int) -> bool:
    pos = len(PNG_SIGNATURE)
    for _ in range(MAX_PARTS):
        header = _read(f, pos, 8)
        if len(header) < 8:
            return False
        length, kind = struct.unpack(">I", header[:4])[0], header[4:]
        pos += 12 + length
        if pos > size:
            return False
        if kind == b"IEND":
            return pos == size
    return False


def _gif_sub_blocks_end(f: BinaryIO, pos: int, size: int) -> int | None:
    """Offset just past the zero-length block that ends a run of GIF data sub-blocks."""
    while pos < size:
        chunk = _read(f, pos, CHUNK)
        i = 0
        while i < len(chunk):
            if chunk[i] == 0:
                return pos + i + 1
            i += 1 + chunk[i]
        if not chunk:
            return None
        pos += i
    return None


def _gif_ends_cleanly(f: BinaryIO, size: int) -> bool:
    """Blocks from the screen descriptor to the first trailer (0x3B), which must be the last byte."""
    screen = _read(f, 6, 7)
    if len(screen) < 7:
        return False
    pos = 13 + (3 << ((screen[4] & 7) + 1) if screen[4] & 0x80 else 0)
    for _ in range(MAX_PARTS):
        introducer = _read(f, pos, 1)
        if introducer == b";":
            return pos + 1 == size
        if introducer == b"!":  # extension: label, then sub-blocks
            found = _gif_sub_blocks_end(f, pos + 2, size)
        elif introducer == b",":  # image: descriptor, colour table, LZW code size, sub-blocks
            descriptor = _read(f, pos, 10)
            if len(descriptor) < 10:
                return False
            table = 3 << ((descriptor[9] & 7) + 1) if descriptor[9] & 0x80 else 0
            found = _gif_sub_blocks_end(f, pos + 10 + table + 1, size)
        else:
            return False
        if found is None:
            return False
        pos = found
    return False


def _tiff_known(tag: int, in_exif: bool) -> bool:
    """A tag whose value is part of the image: not a private one, which could point at a
    payload appended to the file."""
    return tag < 0x8000 or tag in TIFF_PUBLIC_HIGH_TAGS or in_exif and tag <= TIFF_LAST_EXIF_TAG


def _tiff_end(f: BinaryIO, size: int) -> int | None:
    """The furthest byte any directory, known tag's value, strip, tile or thumbnail of a TIFF
    reaches. A private tag's value may lie anywhere in the file but never makes it longer."""
    if size < 8:
        return None
    order = "<" if _read(f, 0, 2) == b"II" else ">"
    u16, u32 = struct.Struct(order + "H"), struct.Struct(order + "I")
    furthest = 8
    pending, seen = [(u32.unpack(_read(f, 4, 4))[0], False)], set()
    entries_walked = 0
    while pending:
        ifd, in_exif = pending.pop()
        if ifd == 0 or ifd in seen:
            continue
        if len(seen) >= 256 or ifd + 2 > size:
            return None
        seen.add(ifd)
        count = u16.unpack(_read(f, ifd, 2))[0]
        entries_walked += count
        table = _read(f, ifd + 2, 12 * count + 4)
        if len(table) < 12 * count + 4 or entries_walked > MAX_PARTS:
            return None
        furthest = max(furthest, ifd + 2 + 12 * count + 4)
        pending.append((u32.unpack(table[-4:])[0], in_exif))
        values: dict[int, list[int]] = {}
        for i in range(count):
            tag, kind, n = struct.unpack(order + "HHI", table[12 * i: 12 * i + 8])
            width = TIFF_TYPE_SIZES.get(kind, 1) * n
            raw = table[12 * i + 8: 12 * i + 12]
            if width > 4:
                offset = u32.unpack(raw)[0]
                if offset + width > size:
                    return None
                if _tiff_known(tag, in_exif):
                    furthest = max(furthest, offset + width)
            if tag in TIFF_SUB_IFDS or any(tag in pair for pair in TIFF_DATA):
                if kind not in (3, 4, 13) or n > MAX_PARTS:
                    return None
                data = raw if width <= 4 else _read(f, u32.unpack(raw)[0], width)
                item = u16 if kind == 3 else u32
                values[tag] = [item.unpack(data[j:j + item.size])[0] for j in range(0, width, item.size)]
        for tag in TIFF_SUB_IFDS:
            pending.extend((offset, tag == TIFF_EXIF_IFD) for offset in values.get(tag, ()))
        for offsets_tag, lengths_tag in TIFF_DATA:
            for offset, length in zip(values.get(offsets_tag, ()), values.get(lengths_tag, ()), strict=False):
                furthest = max(furthest, offset + length)
    return furthest


def ends_cleanly(f: BinaryIO, kind: str, size: int) -> bool:
    """False when the file is cut short or carries data past its end (a polyglot)."""
    if kind == JPEG:
        return _jpeg_ends_cleanly(f, size)
    if kind == PNG:
        return _png_ends_cleanly(f, size)
    if kind == GIF:
        return _gif_ends_cleanly(f, size)
    if kind == PDF:
        tail = _read(f, max(0, size - 1024), 1024)
        end = tail.rfind(b"%%EOF")
        return end >= 0 and not tail[end + 5:].strip(b"\x00\r\n\t ")
    if kind == HEIC:
        return _boxes_tile(f, 0, size)
    if kind == TIFF:
        end = _tiff_end(f, size)
        # A writer may pad the last value to a word boundary, or leave a last empty next-IFD link.
        return end is not None and end <= size and (end == size or _is_padding(f, end, size) and size - end <= 8)
    return True
