"""Test files made on the fly: real images, and the bad files users and attackers send."""

from __future__ import annotations

import io
import os
import struct
import zlib

from PIL import Image


def jpeg(size=(64, 32), color=(200, 30, 30), *, orientation: int | None = None, gps: bool = False,
         taken: str | None = None, quality: int = 90) -> bytes:
    img = Image.new("RGB", size, color)
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (47.0, 36.0, 36.0), 3: "W", 4: (122.0, 19.0, 59.0)}
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
        exif.get_ifd(0x8769)[0x9011] = "-07:00"
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def png(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (10, 200, 10, 128)).save(out, "PNG")
    return out.getvalue()


def pdf() -> bytes:
    body = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")
    return body


def photo_like(width: int, height: int, seed: int = 1) -> Image.Image:
    """Detail like a phone photo: low-frequency colour with fine noise on top."""
    import random

    rnd = random.Random(seed)
    coarse = Image.frombytes("RGB", (width // 8, height // 8), rnd.randbytes(width // 8 * height // 8 * 3))
    base = coarse.resize((width, height), Image.Resampling.BICUBIC)
    grain = Image.frombytes("L", (width, height), rnd.randbytes(width * height)).convert("RGB")
    return Image.blend(base, grain, 0.12)


def noise_jpeg(width: int, height: int, quality: int) -> bytes:
    img = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def heic(width: int = 4032, height: int = 3024) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    # x265's fastest preset: the test is about our conversion, not the encoder.
    photo_like(width, height).save(out, "HEIF", quality=80, enc_params={"preset": "ultrafast"})
    return out.getvalue()


def pixel_flood_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A few hundred bytes that claim ten billion pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
            + chunk(b"IEND", b""))


def truncated_jpeg() -> bytes:
    data = jpeg((400, 300))
    return data[: len(data) // 2]


def polyglot_jpeg_zip() -> bytes:
    """A valid JPEG with a ZIP archive glued to its end."""
    return jpeg() + b"PK\x03\x04" + b"\x00" * 26 + b"payload.sh" + b"#!/bin/sh\nrm -rf /\n"


def quadrants(size=(64, 32)) -> Image.Image:
    """An RGB picture whose top-left quarter is blue and the rest red, so a turn shows."""
    img = Image.new("RGB", size, (200, 30, 30))
    img.paste((20, 40, 220), (0, 0, size[0] // 2, size[1] // 2))
    return img


def gif(size=(48, 24), comment: bytes | None = None) -> bytes:
    """A palette GIF with a few colours, optionally carrying a comment extension."""
    img = quadrants(size).convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    out = io.BytesIO()
    img.save(out, "GIF", **({"comment": comment} if comment else {}))
    return out.getvalue()


def tiff(size=(64, 32), *, orientation: int | None = None, artist: str | None = None) -> bytes:
    """An uncompressed RGB TIFF; the EXIF orientation and Artist are plain TIFF tags."""
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if artist:
        exif[0x013B] = artist
    out = io.BytesIO()
    quadrants(size).save(out, "TIFF", exif=exif.tobytes())
    return out.getvalue()


def multipage_tiff(pages: int = 2) -> bytes:
    frames = [Image.new("RGB", (32, 32), (i * 60, 90, 90)) for i in range(pages)]
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:])
    return out.getvalue()
