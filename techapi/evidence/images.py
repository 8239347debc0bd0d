"""Image normalisation: the only module that touches Pillow.

Keeps capture time and GPS as evidence, applies EXIF orientation, turns HEIC
(which Amazon refuses) into JPEG and re-encodes everything without metadata (no
GPS, no comment or text chunk reaches Amazon, no appended payload survives).
Images too big for SP-API's 5,242,880-byte limit are re-encoded at lower quality
first and downscaled only when that is not enough.

Memory is bounded by a decode budget decided from the header, before any pixel
is decoded: at most `max_megapixels` pixels, and the bytes they cost in their mode
while normalised (PEAK_BYTES_PER_PIXEL, with a progressive JPEG's coefficients)
at most 2B, B being that many pixels of RGB as Pillow holds them (budget_bytes).
A JPEG over it is decoded at 1/2, 1/4 or 1/8 scale (libjpeg's draft mode) when
that fits; anything else over it is refused. Every later step (turn, flatten,
convert, downscale) replaces the one bitmap and frees the old, never keeping more
than two alive, and encodes into a sink that keeps no byte past Amazon's limit,
so the peak is about 2B plus a fixed overhead (the bound is in the README).
"""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import cache, partial
from typing import BinaryIO

import pillow_heif
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from techapi.edge import times
from techapi.evidence import filetypes
from techapi.spapi.plans import MAX_DOCUMENT_BYTES

DEFAULT_MAX_MEGAPIXELS = 50  # a 48 MP (8064x6048) or 50 MP (8160x6120) phone photo
BYTES_PER_RGB_PIXEL = 4  # Pillow holds RGB (and LA, RGBA, CMYK) in four bytes a pixel
# HEIF support for every thread; Pillow's own bomb check stays as a backstop far above
# any budget (ours, with the app's setting, runs first and names the limit).
pillow_heif.register_heif_opener()
Image.MAX_IMAGE_PIXELS = 1_000_000_000
QUALITIES = (90, 84, 76)
PREVIEW_QUALITY = 80  # a thumbnail is looked at, never sent: smaller beats sharper
# All that is kept of what a file says about itself: how to show its colours and
# transparency. Text, comments, EXIF and XMP are dropped before any save.
KEPT_INFO = ("icc_profile", "transparency", "background")
# Most bytes a pixel costs while it is normalised (the decoded bitmap and what is made
# from it, alive at once): grey stays grey, a palette becomes RGB, 16-bit grey passes
# through 32-bit; everything else is two four-byte bitmaps (decoded and turned or converted).
PEAK_BYTES_PER_PIXEL = {"1": 2, "L": 2, "P": 5, "PA": 12, "I;16": 10, "I;16B": 10, "I;16L": 10, "I;16N": 10}
ORIENTATIONS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
                6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}
# What Pillow's readers raise on a malformed file, beyond OSError: each plugin has its own.
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, TypeError, IndexError, KeyError, ZeroDivisionError,
                 struct.error, Image.DecompressionBombError)
PIL_FORMATS = {filetypes.JPEG: {"JPEG", "MPO"}, filetypes.PNG: {"PNG"}, filetypes.GIF: {"GIF"},
               filetypes.TIFF: {"TIFF"}, filetypes.HEIC: {"HEIF"}}


class ImageRejected(Exception):
    """The image cannot be accepted: unreadable, corrupt, over the decode budget, too big."""


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


def budget_bytes(max_megapixels: int) -> int:
    """B: the largest bitmap decoded, as Pillow holds it (four bytes for each RGB pixel).
    A normalisation holds at most two such bitmaps at once: its peak is 2B + 64 MiB."""
    return max_megapixels * 1_000_000 * BYTES_PER_RGB_PIXEL


def _rational(value) -> float:
    return float(value[0]) / float(value[1]) if isinstance(value, tuple) else float(value)


def _degrees(values) -> float:
    """Degrees, minutes, seconds: the first three values only (a crafted block can carry
    hundreds, and 60**i past about 170 no longer converts to a float)."""
    if not isinstance(values, tuple | list) or not values:
        raise ValueError("not a GPS coordinate")
    return sum(_rational(v) / 60**i for i, v in enumerate(values[:3]))


def _gps(exif: Image.Exif) -> tuple[float, float] | None:
    try:
        gps = exif.get_ifd(0x8825)
        if not gps or 2 not in gps or 4 not in gps:
            return None
        lat, lon = _degrees(gps[2]), _degrees(gps[4])
        lat = -lat if gps.get(1) in ("S", b"S") else lat
        lon = -lon if gps.get(3) in ("W", b"W") else lon
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return round(lat, 7), round(lon, 7)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError, OverflowError):
        pass
    return None


def _captured_at(exif: Image.Exif) -> datetime | None:
    """DateTimeOriginal with its OffsetTimeOriginal; without an offset, taken as UTC.
    Not kept when its day is outside the range every time we store lies in (a camera
    whose clock was never set, or a crafted file: 9999-12-31 west of UTC overflows)."""
    try:
        sub = exif.get_ifd(0x8769)
        raw = sub.get(0x9003) or exif.get(0x0132)
        if not raw:
            return None
        value = datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
        if not times.in_range(value):
            return None
        offset = str(sub.get(0x9011) or "").strip("\x00 ")
        if len(offset) == 6 and offset[0] in "+-":
            sign = 1 if offset[0] == "+" else -1
            delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])) * sign
            return value.replace(tzinfo=timezone(delta)).astimezone(UTC)
        return value.replace(tzinfo=UTC)
    except (KeyError, TypeError, ValueError, OverflowError):
        return None


def _coefficient_bytes(img: Image.Image) -> int:
    """A progressive JPEG is decoded from all its DCT coefficients at once, held at full
    size whatever the draft scale: two bytes each, 64 per block of each component."""
    if img.format not in ("JPEG", "MPO") or not img.info.get("progressive"):
        return 0
    layers = getattr(img, "layer", None) or [(0, 1, 1, 0)]
    h_max, v_max = max(h for _, h, _, _ in layers), max(v for _, _, v, _ in layers)
    per_pixel = sum(h * v for _, h, v, _ in layers) / (h_max * v_max)
    return int(img.width * img.height * per_pixel * 2)


def _budget(img: Image.Image, max_megapixels: int) -> Callable[[int], bool]:
    """Whether decoding this many pixels of the image (read from its header, before any
    draft) is within budget: at most `max_megapixels` pixels, and the bytes they cost (by
    mode, with a progressive JPEG's coefficients) within two budgets."""
    twice_budget = 2 * budget_bytes(max_megapixels)
    cost = PEAK_BYTES_PER_PIXEL.get(img.mode, 2 * BYTES_PER_RGB_PIXEL)
    coefficients = _coefficient_bytes(img)

    def fits(pixels: int) -> bool:
        return (pixels <= max_megapixels * 1_000_000 and pixels * cost <= twice_budget
                and coefficients + pixels * BYTES_PER_RGB_PIXEL <= twice_budget)

    return fits


def _fit_budget(img: Image.Image, max_megapixels: int) -> None:
    """Refuse, or for a JPEG choose a draft scale, from the header alone (see _budget)."""
    fits = _budget(img, max_megapixels)
    if fits(img.width * img.height):
        return
    if img.format in ("JPEG", "MPO") and img.mode in ("RGB", "L", "CMYK"):
        for scale in (2, 4, 8):
            size = (math.ceil(img.width / scale), math.ceil(img.height / scale))
            if fits(size[0] * size[1]):
                img.draft(img.mode, size)
                return
    raise ImageRejected(f"The image is {img.width}x{img.height} ({img.width * img.height / 1e6:.1f} megapixels, "
                        f"{img.mode}): at most {max_megapixels} megapixels of 24-bit colour are accepted")


class _Sink:
    """Keeps what an encoder writes while it fits in `limit`; past it, only counts, or
    with `stop` ends the encode at once, so a too-big attempt costs no memory."""

    class Full(Exception):
        pass

    def __init__(self, limit: int, stop: bool = False):
        self.limit, self.stop, self.size, self.parts = limit, stop, 0, []

    def write(self, data) -> int:
        self.size += len(data)
        if self.size > self.limit:
            self.parts = []
            if self.stop:
                raise self.Full
        else:
            self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def tell(self) -> int:
        return self.size

    @property
    def fits(self) -> bool:
        return self.size <= self.limit

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def _encode(img: Image.Image, fmt: str, limit: int, stop: bool = False, **options) -> _Sink:
    sink = _Sink(limit, stop)
    try:
        img.save(sink, fmt, **options)
    except _Sink.Full:
        pass
    return sink


def _bare(img: Image.Image) -> Image.Image:
    img.info = {key: img.info[key] for key in KEPT_INFO if key in img.info}
    return img


def _release(img: Image.Image) -> None:
    """Free a bitmap now. Image.close alone, never ImageFile's, which would also close
    the upload it was read from: that file belongs to the caller."""
    Image.Image.close(img)


class _Picture:
    """The one reference to the bitmap being worked on. Each step replaces it and closes
    the one it came from, so no more than two bitmaps are ever alive."""

    def __init__(self, img: Image.Image):
        self.img = img

    def replace(self, step: Callable[[Image.Image], Image.Image]) -> Image.Image:
        made = _bare(step(self.img))
        if made is not self.img:
            _release(self.img)
            self.img = made
        return made

    def close(self) -> None:
        _release(self.img)


def _for_jpeg(img: Image.Image) -> Image.Image:
    """RGB (or L) for the JPEG encoder, made once; transparency flattened onto white
    through the palette or a paste, never through a second full-size RGBA copy."""
    if img.mode in ("RGB", "L"):
        return img
    if img.mode == "1":
        return img.convert("L")
    if img.mode == "P":
        transparency = img.info.get("transparency")
        if transparency is not None:
            palette = bytearray(img.getpalette("RGB") or [])
            for index in range(len(palette) // 3):
                if isinstance(transparency, bytes):
                    alpha = transparency[index] if index < len(transparency) else 255
                else:
                    alpha = 0 if index == transparency else 255
                for c in range(3):
                    palette[3 * index + c] = (palette[3 * index + c] * alpha + 255 * (255 - alpha)) // 255
            img.putpalette(bytes(palette), "RGB")
            img.info.pop("transparency", None)
        return img.convert("RGB")
    if img.mode in ("LA", "La"):
        flat = Image.new("L", img.size, 255)
        flat.paste(img.getchannel("L"), mask=img.getchannel("A"))
        return flat
    if img.mode in ("RGBA", "RGBa", "PA"):
        rgba = img if img.mode != "PA" else img.convert("RGBA")
        flat = Image.new("RGB", img.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba)
        return flat
    if img.mode.startswith("I;16"):
        return img.convert("I").point(lambda v: v / 256).convert("L")
    return img.convert("RGB")


def _shrink(picture: _Picture, scale: float) -> None:
    """Lanczos, one direction at a time, the larger bitmap closed between the two passes:
    a one-step resize would hold the source, its intermediate and the result at once."""
    width, height = picture.img.size
    size = (max(1, int(width * scale)), max(1, int(height * scale)))
    picture.replace(lambda im: im.resize((size[0], height), Image.Resampling.LANCZOS))
    picture.replace(lambda im: im.resize(size, Image.Resampling.LANCZOS))


def _fit_jpeg(picture: _Picture, turn: Image.Transpose | None, limit: int, icc: bytes | None) -> bytes:
    """Highest quality that fits at full size; else the largest size that fits. Sizes are
    measured before the turn (a JPEG's size does not depend on it), so a picture that has
    to shrink is turned only once it is small."""
    extra = {"icc_profile": icc} if icc else {}
    for quality in QUALITIES:
        encoded = _encode(picture.img, "JPEG", limit, quality=quality, **extra)
        if encoded.fits and turn is not None:
            picture.replace(partial(Image.Image.transpose, method=turn))
            turn = None
            encoded = _encode(picture.img, "JPEG", limit, quality=quality, **extra)
        if encoded.fits:
            return encoded.getvalue()
    for _ in range(8):
        # JPEG size grows roughly with pixel count: aim a little under the limit.
        _shrink(picture, math.sqrt(limit / encoded.size) * 0.92)
        encoded = _encode(picture.img, "JPEG", limit, quality=QUALITIES[-1], **extra)
        if encoded.fits and turn is not None:
            picture.replace(partial(Image.Image.transpose, method=turn))
            turn = None
            encoded = _encode(picture.img, "JPEG", limit, quality=QUALITIES[-1], **extra)
        if encoded.fits:
            return encoded.getvalue()
    raise ImageRejected("The image could not be made small enough for Amazon")


def _open(source: BinaryIO, max_megapixels: int) -> Image.Image:
    source.seek(0)
    try:
        return Image.open(source)
    except Image.DecompressionBombError:
        raise ImageRejected(f"The image has too many pixels: at most {max_megapixels} megapixels "
                            "of 24-bit colour are accepted") from None
    except (UnidentifiedImageError, *DECODE_ERRORS):
        raise ImageRejected("The file is not a readable image") from None


def _decode(img: Image.Image, detected: str, max_megapixels: int):
    if img.format not in PIL_FORMATS[detected]:
        raise ContentMismatch("The file's content does not match its type")
    try:
        _fit_budget(img, max_megapixels)
        if detected == filetypes.TIFF and getattr(img, "n_frames", 1) > 1:
            raise ImageRejected("Multi-page TIFF: send multi-page documents as one PDF")
        exif = img.getexif()  # a PNG's may come after its pixels: read once they are in budget
        captured, gps, icc = _captured_at(exif), _gps(exif), img.info.get("icc_profile")
        img.load()
        # Read after loading: Pillow turns a TIFF itself as it decodes it, and says so.
        turn = ORIENTATIONS.get(img.getexif().get(0x0112, 1))
    except DECODE_ERRORS:
        raise ImageRejected("The image is corrupt or truncated") from None
    return captured, gps, icc, turn


def normalise(source: BinaryIO, detected: str, limit: int = MAX_DOCUMENT_BYTES,
              max_megapixels: int = DEFAULT_MAX_MEGAPIXELS) -> NormalisedImage:
    img = _open(source, max_megapixels)
    try:
        captured, gps, icc, turn = _decode(img, detected, max_megapixels)
    except BaseException:
        _release(img)
        raise
    picture = _Picture(_bare(img))
    del img
    try:
        data: bytes | None = None
        content_type = filetypes.JPEG
        if detected in (filetypes.PNG, filetypes.GIF):
            # Screenshots and drawings stay lossless when they fit.
            if turn is not None:
                picture.replace(partial(Image.Image.transpose, method=turn))
                turn = None
            candidate = _encode(picture.img, "PNG" if detected == filetypes.PNG else "GIF", limit, stop=True)
            if candidate.fits:
                data, content_type = candidate.getvalue(), detected
        if data is None:
            picture.replace(_for_jpeg)
            data = _fit_jpeg(picture, turn, limit, icc)
    except DECODE_ERRORS as exc:
        raise ImageRejected("The image is corrupt or truncated") from exc
    finally:
        picture.close()
    with Image.open(io.BytesIO(data)) as check:
        width, height = check.size
    return NormalisedImage(data=data, content_type=content_type, width=width, height=height,
                           captured_at=captured, gps=gps)


def preview_size(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """`size` scaled so its long side is at most `long_side`, aspect kept, never enlarged."""
    width, height = size
    scale = min(1.0, long_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def thumbnail(source: BinaryIO, long_side: int, max_megapixels: int = DEFAULT_MAX_MEGAPIXELS) -> bytes:
    """A JPEG preview of a stored (normalised: upright, metadata-free) image, written
    without any metadata. A JPEG is decoded at the smallest draft scale (1/2 to 1/8)
    still at least the preview's size, so a 12 MP photo costs 1/64 of its pixels;
    the decode budget applies as at upload (the setting may have been lowered since)."""
    img = _open(source, max_megapixels)
    picture = _Picture(img)
    try:
        fits = _budget(img, max_megapixels)  # from the header: a progressive JPEG's coefficients are full size
        size = preview_size(img.size, long_side)
        if img.format in ("JPEG", "MPO") and img.mode in ("RGB", "L", "CMYK"):
            img.draft(img.mode, size)
        if not fits(img.width * img.height):
            raise ImageRejected(f"The image is {img.width}x{img.height}: over the decode budget of "
                                f"{max_megapixels} megapixels")
        icc = img.info.get("icc_profile")
        img.load()
        picture.replace(_for_jpeg)
        picture.replace(lambda im: im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0))
        out = io.BytesIO()
        picture.img.save(out, "JPEG", quality=PREVIEW_QUALITY, **({"icc_profile": icc} if icc else {}))
        return out.getvalue()
    except DECODE_ERRORS:
        raise ImageRejected("The stored image is corrupt or truncated") from None
    finally:
        picture.close()


@cache
def document_icon(long_side: int, label: str = "PDF") -> bytes:
    """A generic page icon as a JPEG (a page with a folded corner, `label` on a red
    band): drawn once per process, for documents whose pages are never rendered."""
    width, height = long_side * 3 // 4, long_side
    margin, fold = long_side // 10, width // 4
    img = Image.new("RGB", (width, height), (236, 239, 243))
    draw = ImageDraw.Draw(img)
    right, bottom = width - margin, height - margin
    draw.polygon([(margin, margin), (right - fold, margin), (right, margin + fold), (right, bottom),
                  (margin, bottom)], fill="white", outline=(150, 155, 160), width=max(1, long_side // 100))
    draw.polygon([(right - fold, margin), (right - fold, margin + fold), (right, margin + fold)],
                 fill=(205, 210, 216))
    band = long_side // 7
    draw.rectangle((margin, height // 2 - band // 2, right, height // 2 + band // 2), fill=(200, 30, 30))
    font = ImageFont.load_default(size=band * 2 // 3)
    left, top, text_right, text_bottom = draw.textbbox((0, 0), label, font=font)
    draw.text(((width - (text_right - left)) / 2 - left, (height - (text_bottom - top)) / 2 - top), label,
              fill="white", font=font)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=PREVIEW_QUALITY)
    return out.getvalue()
