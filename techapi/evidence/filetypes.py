"""What a file is, from its bytes alone (magic numbers), and whether it ends
where its format says it ends. Pure functions: no I/O beyond the file object."""

from __future__ import annotations

import struct
from typing import BinaryIO

JPEG, PNG, GIF, TIFF, HEIC, PDF = "JPEG", "PNG", "GIF", "TIFF", "HEIC", "PDF"
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def detect(head: bytes) -> str | None:
    """The type of a file from its first 32 bytes, or None when not allowed."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
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


def _tail(f: BinaryIO, size: int, n: int) -> bytes:
    f.seek(max(0, size - n))
    return f.read(n)


def _isobmff_ends_exactly(f: BinaryIO, size: int) -> bool:
    """Top-level boxes of a HEIF file must tile it exactly: no hidden payload."""
    offset = 0
    for _ in range(10_000):
        if offset == size:
            return True
        f.seek(offset)
        header = f.read(16)
        if len(header) < 8:
            return False
        box_size = struct.unpack(">I", header[:4])[0]
        if box_size == 1 and len(header) == 16:
            box_size = struct.unpack(">Q", header[8:16])[0]
        elif box_size == 0:
            # "Runs to the end of the file": only ever the media data, and only as the
            # last box; any other type would let a payload ride behind four zero bytes.
            return header[4:8] == b"mdat"
        if box_size < 8 or offset + box_size > size:
            return False
        offset += box_size
    return False


def ends_cleanly(f: BinaryIO, kind: str, size: int) -> bool:
    """False when the file is cut short or carries data past its end (a polyglot)."""
    if kind == JPEG:
        tail = _tail(f, size, 64)
        end = tail.rfind(b"\xff\xd9")
        return end >= 0 and not tail[end + 2:].strip(b"\x00\r\n")
    if kind == PNG:
        return _tail(f, size, len(PNG_END)) == PNG_END
    if kind == GIF:
        return _tail(f, size, 1) == b";"
    if kind == PDF:
        tail = _tail(f, size, 1024)
        end = tail.rfind(b"%%EOF")
        return end >= 0 and not tail[end + 5:].strip(b"\x00\r\n\t ")
    if kind == HEIC:
        return _isobmff_ends_exactly(f, size)
    return True  # TIFF has no end marker; its structure is checked when decoded
