"""Test files made on the fly: real images, and the bad files users and attackers send."""

from __future__ import annotations

import io
import os
import struct
import zlib

from PIL import Image


def jpeg(size=(64, 32), color=(200, 30, 30), *, orientation: int | None = None, gps: bool | dict = False,
         taken: str | None = None, quality: int = 90) -> bytes:
    """With `gps` True, a point in Seattle; a dict is written as the GPS directory as it is."""
    img = Image.new("RGB", size, color)
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = gps if isinstance(gps, dict) else {1: "N", 2: (47.0, 36.0, 36.0), 3: "W",
                                                           4: (122.0, 19.0, 59.0)}
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


# Metadata that must never reach Amazon -------------------------------------------

SECRET_TEXT = "47.6101N 122.3331W gate code 4471"


def jpeg_with_text(text: str = SECRET_TEXT) -> bytes:
    """A JPEG carrying the text in a COM segment, an EXIF ImageDescription and an XMP packet."""
    exif = Image.Exif()
    exif[0x010E] = text
    xmp = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           f'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:description="{text}"/>'
           f'</rdf:RDF></x:xmpmeta>').encode()
    out = io.BytesIO()
    quadrants().save(out, "JPEG", quality=90, comment=text.encode(), exif=exif.tobytes(), xmp=xmp)
    return out.getvalue()


def png_with_text(text: str = SECRET_TEXT, size=(40, 30)) -> bytes:
    """A PNG carrying the text in tEXt, zTXt and iTXt chunks, an XMP iTXt and an eXIf chunk."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", text)
    info.add_text("Location", text, zip=True)
    info.add_itxt("Description", text, lang="en", tkey="Description")
    info.add_itxt("XML:com.adobe.xmp", f"<x:xmpmeta><rdf:Description dc:description='{text}'/></x:xmpmeta>")
    exif = Image.Exif()
    exif[0x010E] = text
    out = io.BytesIO()
    quadrants(size).save(out, "PNG", pnginfo=info, exif=exif.tobytes())
    return out.getvalue()


def big_png(width: int, height: int, *, noise_rows: int = 0, orientation: int | None = None) -> bytes:
    """A flat PNG (compresses to almost nothing) whose first `noise_rows` rows are random,
    which sets the file's size: a small file can claim a large bitmap."""
    img = Image.new("RGB", (width, height), (90, 120, 200))
    if noise_rows:
        img.paste(Image.frombytes("RGB", (width, noise_rows), os.urandom(width * noise_rows * 3)), (0, 0))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    img.save(out, "PNG", exif=exif.tobytes(), compress_level=1)
    return out.getvalue()


# What phones append to a JPEG, and what an attacker does -------------------------


def isobmff_box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4() -> bytes:
    """A minimal ISO-BMFF file as a phone's video starts: ftyp, then moov and mdat."""
    ftyp = isobmff_box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41")
    mvhd = isobmff_box(b"mvhd", b"\x00" * 100)
    return ftyp + isobmff_box(b"moov", mvhd) + isobmff_box(b"mdat", os.urandom(256))


def motion_photo(*, announce: str | None = "offset", wrong_by: int = 0, video: bytes | None = None) -> bytes:
    """A Motion Photo: a JPEG whose XMP announces the video, then the MP4 appended. `announce`:
    "offset" as Pixels (and Motion Photo 1.0) write it, GCamera:MicroVideoOffset counted from
    the end of the file; "container" as the Motion Photo format 1.0 does, the Container
    directory's MotionPhoto item with Item:Length; None, no announcement (not a Motion Photo).
    `wrong_by` makes the announced length that much off."""
    video = mp4() if video is None else video
    length = len(video) + wrong_by
    description = ('<rdf:Description xmlns:GCamera="http://ns.google.com/photos/1.0/camera/" GCamera:MotionPhoto="1" '
                   f'GCamera:MotionPhotoVersion="1" GCamera:MicroVideo="1" GCamera:MicroVideoOffset="{length}"/>')
    if announce == "container":
        description = (
            '<rdf:Description xmlns:Camera="http://ns.google.com/photos/1.0/camera/" '
            'xmlns:Container="http://ns.google.com/photos/1.0/container/" '
            'xmlns:Item="http://ns.google.com/photos/1.0/container/item/" Camera:MotionPhoto="1" '
            'Camera:MotionPhotoVersion="1" Camera:MotionPhotoPresentationTimestampUs="1041206">'
            '<Container:Directory><rdf:Seq>'
            '<rdf:li rdf:parseType="Resource"><Container:Item Item:Mime="image/jpeg" Item:Semantic="Primary" '
            'Item:Length="0" Item:Padding="0"/></rdf:li>'
            '<rdf:li rdf:parseType="Resource"><Container:Item Item:Mime="video/mp4" Item:Semantic="MotionPhoto" '
            f'Item:Length="{length}" Item:Padding="0"/></rdf:li>'
            '</rdf:Seq></Container:Directory></rdf:Description>')
    elif announce is None:
        description = '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:format="image/jpeg"/>'
    xmp = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           f'{description}</rdf:RDF></x:xmpmeta>').encode()
    out = io.BytesIO()
    quadrants().save(out, "JPEG", quality=90, xmp=xmp)
    return out.getvalue() + video


def samsung_trailer(blocks: list[tuple[int, bytes, bytes]]) -> bytes:
    """Samsung's SEF trailer: data blocks (type, name, data), a SEFH directory giving each
    block's distance back from the directory and its length, then `<length>SEFT`."""
    body, entries = b"", []
    for kind, name, data in blocks:
        block = struct.pack("<HHI", 0, kind, len(name)) + name + data
        entries.append((kind, len(body), len(block)))
        body += block
    directory = b"SEFH" + struct.pack("<II", 107, len(entries))
    for kind, start, length in entries:
        directory += struct.pack("<HHII", 0, kind, len(body) - start, length)
    return body + directory + struct.pack("<I", len(directory)) + b"SEFT"


def samsung_photo(*, video: bool = False) -> bytes:
    """A Samsung JPEG with its trailer; with `video`, a Samsung Motion Photo whose MP4 sits in
    the trailer's MotionPhoto_Data block."""
    blocks = [(0x0A01, b"Image_UTC_Data", b"1700000000000")]
    if video:
        blocks.append((0x0A30, b"MotionPhoto_Data", mp4()))
    return jpeg((64, 48)) + samsung_trailer(blocks)


def mpf_jpeg() -> bytes:
    """A multi-picture file (MPO, as cameras write for a depth map or a second lens): an APP2
    'MPF' segment in the first JPEG and a second whole JPEG after it."""
    out = io.BytesIO()
    first, second = quadrants((64, 32)), Image.new("RGB", (32, 16), (10, 200, 10))
    first.save(out, "MPO", save_all=True, append_images=[second], quality=90)
    return out.getvalue()


def jpeg_hiding_payload_before_final_eoi() -> bytes:
    """A JPEG, a payload, and an FFD9 at the very end so that the file 'ends' like a JPEG."""
    return jpeg() + b"PK\x03\x04" + b"\x00" * 26 + b"payload.sh#!/bin/sh\nrm -rf /\n" + b"\xff\xd9"


def write_big_png(path, width: int, height: int, *, noise_rows: int = 0, orientation: int | None = None) -> int:
    """Write a large RGB PNG without ever holding its bitmap, in about a second: random rows
    first (they set the file's size), then flat ones. The flat rows are deflated once per
    block after a full flush (which resets the compressor), so every block's bytes are the
    same and are written again rather than computed again. Returns the file's size."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer, checksum = zlib.compressobj(9, zlib.DEFLATED, -15), 1
    flat_block = (b"\x00" + bytes((90, 120, 200)) * width) * 64

    def deflate(raw: bytes, mode: int = zlib.Z_FULL_FLUSH) -> bytes:
        nonlocal checksum
        checksum = zlib.adler32(raw, checksum)
        return packer.compress(raw) + packer.flush(mode)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        if orientation:
            exif = Image.Exif()
            exif[0x0112] = orientation
            f.write(chunk(b"eXIf", exif.tobytes()[6:]))  # without its "Exif\0\0" prefix
        f.write(chunk(b"IDAT", b"\x78\xda"))
        for _ in range(noise_rows):
            f.write(chunk(b"IDAT", deflate(b"\x00" + os.urandom(width * 3), zlib.Z_NO_FLUSH)))
        f.write(chunk(b"IDAT", packer.flush(zlib.Z_FULL_FLUSH)))  # from here on, each block alike
        flat_rows = height - noise_rows
        block = deflate(flat_block) if flat_rows >= 64 else b""
        for _ in range(flat_rows // 64):
            f.write(chunk(b"IDAT", block))
        for _ in range(flat_rows // 64 - 1):
            checksum = zlib.adler32(flat_block, checksum)  # the blocks written again
        rest = deflate(flat_block[: len(flat_block) // 64 * (flat_rows % 64)], zlib.Z_FINISH)
        f.write(chunk(b"IDAT", rest + struct.pack(">I", checksum)) + chunk(b"IEND", b""))
        return f.tell()


def tiff_with_value_at_end(tag: int, value: bytes, kind: int = 7) -> bytes:
    """A little-endian 4x2 grey TIFF written by hand: header, pixels, one directory, and
    last the out-of-line value of `tag` (of TIFF type `kind`, 7 = undefined bytes)."""
    pixels = bytes(range(0, 256, 32))
    ifd = 8 + len(pixels)
    entries = [(256, 3, 1, 4), (257, 3, 1, 2), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8), (277, 3, 1, 1), (278, 3, 1, 2), (279, 4, 1, len(pixels))]
    value_at = ifd + 2 + 12 * (len(entries) + 1) + 4
    entries.append((tag, kind, len(value) // {3: 2, 4: 4, 5: 8}.get(kind, 1), value_at))
    table = b"".join(struct.pack("<HHI", t, k, n) + (struct.pack("<HH", v, 0) if k == 3 else struct.pack("<I", v))
                     for t, k, n, v in sorted(entries))
    return (b"II*\x00" + struct.pack("<I", ifd) + pixels + struct.pack("<H", len(entries)) + table
            + b"\x00\x00\x00\x00" + value)
