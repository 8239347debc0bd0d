"""Image normalisation: the only module that touches Pillow.

Opens with decompression-bomb limits, keeps capture time and GPS as evidence,
applies EXIF orientation, turns HEIC (which Amazon refuses) into JPEG and
re-encodes everything without metadata (no GPS reaches Amazon, no appended
payload survives). Images too big for SP-API's 5,242,880-byte limit are
re-encoded at lower quality first and downscaled only when that is not enough.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import BinaryIO

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from techapi.evidence import filetypes
from techapi.spapi.plans import MAX_DOCUMENT_BYTES

# A 48 MP phone photo is 48 million pixels; a pixel flood is billions.
MAX_PIXELS = 80_000_000
# Process-wide Pillow settings, so they hold for every thread: HEIF support, and
# Pillow's own bomb check refusing anything over twice our limit before decoding.
pillow_heif.register_heif_opener()
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
QUALITIES = (90, 84, 76)
TEXT_KEYS = ("comment", "exif", "xmp", "XML:com.adobe.xmp")
PIL_FORMATS = {filetypes.JPEG: {"JPEG", "MPO"}, filetypes.PNG: {"PNG"}, filetypes.GIF: {"GIF"},
               filetypes.TIFF: {"TIFF"}, filetypes.HEIC: {"HEIF"}}


class ImageRejected(Exception):
    """The image cannot be accepted: unreadable, corrupt, too many pixels, too big."""


class ContentMismatch(Exception):
    """The bytes decode as another format than their magic number says."""


@dataclass(frozen=True)
class NormalisedImage:
    data: bytes
    content_type: str  # JPEG, PNG or GIF: what SP-API will be told
    width: int
    height: int
    captured_at: datetime | None
    gps: tuple[float, float] | None


def _rational(value) -> float:
    return float(value[0]) / float(value[1]) if isinstance(value, tuple) else float(value)


def _gps(exif: Image.Exif) -> tuple[float, float] | None:
    try:
        gps = exif.get_ifd(0x8825)
        if not gps or 2 not in gps or 4 not in gps:
            return None
        lat = sum(_rational(v) / 60**i for i, v in enumerate(gps[2]))
        lon = sum(_rational(v) / 60**i for i, v in enumerate(gps[4]))
        lat = -lat if gps.get(1) in ("S", b"S") else lat
        lon = -lon if gps.get(3) in ("W", b"W") else lon
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return round(lat, 7), round(lon, 7)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError):
        pass
    return None


def _captured_at(exif: Image.Exif) -> datetime | None:
    """DateTimeOriginal with its OffsetTimeOriginal; without an offset, taken as UTC."""
    try:
        sub = exif.get_ifd(0x8769)
        raw = sub.get(0x9003) or exif.get(0x0132)
        if not raw:
            return None
        value = datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
        offset = str(sub.get(0x9011) or "").strip("\x00 ")
        if len(offset) == 6 and offset[0] in "+-":
            sign = 1 if offset[0] == "+" else -1
            delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])) * sign
            return value.replace(tzinfo=timezone(delta)).astimezone(UTC)
        return value.replace(tzinfo=UTC)
    except (KeyError, TypeError, ValueError):
        return None


def _encode(img: Image.Image, fmt: str, **options) -> io.BytesIO:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out


def _size(buffer: io.BytesIO) -> int:
    return buffer.getbuffer().nbytes


def _as_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        base = Image.new("RGB", rgba.size, (255, 255, 255))
        base.paste(rgba, mask=rgba.getchannel("A"))
        return base
    return img.convert("RGB")


def _fit_jpeg(img: Image.Image, limit: int, icc: bytes | None) -> bytes:
    """Highest quality that fits at full size; else the largest size that fits."""
    rgb = _as_rgb(img)
    extra = {"icc_profile": icc} if icc else {}
    encoded = io.BytesIO()
    for quality in QUALITIES:
        encoded = _encode(rgb, "JPEG", quality=quality, **extra)
        if _size(encoded) <= limit:
            return encoded.getvalue()
    current = rgb
    for _ in range(8):
        # JPEG size grows roughly with pixel count: aim a little under the limit.
        scale = math.sqrt(limit / _size(encoded)) * 0.92
        size = (max(1, int(current.width * scale)), max(1, int(current.height * scale)))
        encoded = io.BytesIO()  # let the previous attempt go before the next is made
        current = rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        encoded = _encode(current, "JPEG", quality=QUALITIES[-1], **extra)
        if _size(encoded) <= limit:
            return encoded.getvalue()
    raise ImageRejected("The image could not be made small enough for Amazon")


def normalise(source: BinaryIO, detected: str, limit: int = MAX_DOCUMENT_BYTES) -> NormalisedImage:
    source.seek(0)
    try:
        img = Image.open(source)
    except Image.DecompressionBombError:
        raise ImageRejected("The image has too many pixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise ImageRejected("The file is not a readable image") from None
    with img:
        if img.format not in PIL_FORMATS[detected]:
            raise ContentMismatch("The file's content does not match its type")
        if img.width * img.height > MAX_PIXELS:
            raise ImageRejected(f"The image has too many pixels ({img.width}x{img.height})")
        if detected == filetypes.TIFF and getattr(img, "n_frames", 1) > 1:
            raise ImageRejected("Multi-page TIFF: send multi-page documents as one PDF")
        exif = img.getexif()
        captured, gps = _captured_at(exif), _gps(exif)
        icc = img.info.get("icc_profile")
        try:
            img.load()
            # In place: no copy of the pixels unless the picture has to turn.
            upright = ImageOps.exif_transpose(img, in_place=False) if exif.get(0x0112, 1) != 1 else img
            # Pillow's writers copy some of what they read back out (a GIF's comment,
            # which may say where the photo was taken); nothing of it goes to Amazon.
            for key in TEXT_KEYS:
                upright.info.pop(key, None)
        except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
            raise ImageRejected("The image is corrupt or truncated") from None

    data: bytes | None = None
    content_type = filetypes.JPEG
    if detected in (filetypes.PNG, filetypes.GIF):
        # Screenshots and drawings stay lossless when they fit.
        fmt = "PNG" if detected == filetypes.PNG else "GIF"
        candidate = _encode(upright, fmt)
        if _size(candidate) <= limit:
            data, content_type = candidate.getvalue(), detected
    if data is None:
        data = _fit_jpeg(upright, limit, icc)
    with Image.open(io.BytesIO(data)) as check:
        width, height = check.size
    return NormalisedImage(data=data, content_type=content_type, width=width, height=height,
                           captured_at=captured, gps=gps)
