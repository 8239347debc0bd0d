"""The pypdf side of PDF checking, run as a child process by techapi.evidence.pdf.

Reads a PDF on stdin; writes its page count and the rewritten PDF on stdout
(exit 0), or the reason it is refused (exit 2). It imports
nothing from techapi, so the child starts in about 0.2 s, and sets its own CPU
and memory limits before reading anything.

strict=False: phone scanner apps and office printers often write PDFs with
cross-reference offsets a few bytes off, which a strict parser refuses although
every reader opens them. The structure is still required (the parent checks
that `startxref` leads to a cross-reference table or stream; here: a trailer
with a catalog, and pages). pypdf reads lazily; nothing here renders a page or
decodes a content stream, only object and cross-reference streams, under the
decoding limits below.
"""

from __future__ import annotations

import io
import resource
import sys

from pypdf import PdfReader, PdfWriter, apply_configuration, get_configuration
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject

MAX_PAGES = 200  # a signed POA is one to a few pages; a scan of a whole binder is not evidence
MAX_OBJECTS = 10_000  # a 200-page scan has about a thousand; 10,000 take about 0.5 s to rewrite
MAX_DECODED = 32 * 1024 * 1024  # per stream: object and cross-reference streams only
# Keys that carry authorship, editing history or location, wherever they appear
# (the catalog, a page, an image): the document info dictionary is dropped whole.
PRIVATE_KEYS = ("/Metadata", "/PieceInfo", "/LastModified")
# In a JPEG image (a /DCTDecode stream, as photo-to-PDF scanner apps embed the photo): APP1 to
# APP15 (EXIF with GPS, XMP, ICC, maker data) and COM segments are dropped, byte for byte, no
# re-encode. Kept: APP0 (JFIF) and APP14 (Adobe), which says how to read the colours.
JPEG_KEPT_APPS = (0xE0, 0xEE)
JPEG_COM = 0xFE
JPEG_SOS = 0xDA
REFUSED = 2


class Rejected(Exception):
    """Not a PDF Amazon can show, said in words a technician can act on."""


def _limits():
    return apply_configuration(get_configuration().with_overwrites(
        zlib_maximum_output_length=MAX_DECODED, lzw_maximum_output_length=MAX_DECODED,
        run_length_maximum_output_length=MAX_DECODED, brotli_maximum_output_length=MAX_DECODED,
        array_based_stream_maximum_output_length=MAX_DECODED, stream_decoding_work_maximum_length=4 * MAX_DECODED,
        page_tree_maximum_entries=4 * MAX_PAGES, page_tree_maximum_depth=32, xmp_maximum_input_length=0,
    ))


def _count_pages(reader: PdfReader) -> int:
    pages = reader.root_object.get("/Pages")
    pages = pages.get_object() if pages is not None else None
    if not isinstance(pages, DictionaryObject) or not isinstance(pages.get("/Kids"), ArrayObject):
        raise Rejected("The PDF has no page tree")
    declared = pages.get("/Count")
    if isinstance(declared, int) and declared > MAX_PAGES:
        raise Rejected(f"The PDF has {declared} pages; at most {MAX_PAGES} are accepted")
    count = len(reader.pages)  # walks the tree (not /Count, which can lie), under the limits set above
    if count == 0:
        raise Rejected("The PDF has no pages")
    if count > MAX_PAGES:
        raise Rejected(f"The PDF has {count} pages; at most {MAX_PAGES} are accepted")
    return count


def _jpeg_without_metadata(data: bytes) -> bytes | None:
    """The JPEG without its APP1..APP15 (but APP14) and COM segments, from its header to its
    first scan; None when it is not a JPEG whose header can be walked (left as it is)."""
    if not data.startswith(b"\xff\xd8"):
        return None
    out, pos = bytearray(b"\xff\xd8"), 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # standalone markers
            out += data[pos:pos + 2]
            pos += 2
            continue
        if marker in (0xD8, 0xD9):
            return None
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if length < 2 or pos + 2 + length > len(data):
            return None
        if marker == JPEG_SOS:
            out += data[pos:]
            return bytes(out)
        if not (0xE1 <= marker <= 0xEF and marker not in JPEG_KEPT_APPS or marker == JPEG_COM):
            out += data[pos:pos + 2 + length]
        pos += 2 + length
    return None


def _is_jpeg_stream(obj: StreamObject) -> bool:
    """A stream whose only filter is DCTDecode: its bytes are the JPEG itself."""
    kind = obj.get("/Filter")
    if isinstance(kind, ArrayObject):
        kind = kind[0] if len(kind) == 1 else None
    return kind == "/DCTDecode"


def _scrub(writer: PdfWriter) -> None:
    writer.metadata = None
    for obj in writer._objects:  # pypdf has no public walk over a writer's objects
        if isinstance(obj, DictionaryObject):
            for key in PRIVATE_KEYS:
                obj.pop(NameObject(key), None)
        if isinstance(obj, StreamObject) and _is_jpeg_stream(obj):
            stripped = _jpeg_without_metadata(obj._data)
            if stripped is not None and len(stripped) != len(obj._data):
                # pypdf writes /Length from the data; set_data refuses any filter but Flate.
                obj._data = stripped
                if getattr(obj, "decoded_self", None) is not None:
                    obj.decoded_self = None
    # The metadata streams are now unreferenced: drop them, or they are written anyway.
    writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)


def rewrite(data: bytes) -> tuple[bytes, int]:
    """The PDF without document info, XMP, editing history or its JPEG images' metadata,
    and its page count."""
    try:
        with _limits():
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise Rejected("The PDF is password-protected; save or scan it again without a password")
            if sum(len(ids) for ids in reader.xref.values()) + len(reader.xref_objStm) > MAX_OBJECTS:
                raise Rejected(f"The PDF has more than {MAX_OBJECTS} objects")
            if not isinstance(reader.trailer.get("/Root"), IndirectObject | DictionaryObject):
                raise Rejected("The PDF has no trailer with a document catalog")
            pages = _count_pages(reader)
            writer = PdfWriter(clone_from=reader)
            _scrub(writer)
            out = io.BytesIO()
            writer.write(out)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
        # pypdf signals a broken structure through many exception types; what the
        # technician needs is the same: this file is not a readable PDF.
        raise Rejected("The file is not a readable PDF (its structure is broken)") from None
    return out.getvalue(), pages


def main(cpu_seconds: int, memory_bytes: int) -> int:
    """stdout: the page count, a newline and the PDF (exit 0), or the reason it is
    refused (exit 2). stderr is not read: pypdf's warnings about a lenient parse
    end up there."""
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        data, pages = rewrite(sys.stdin.buffer.read())
    except Rejected as exc:
        sys.stdout.write(str(exc))
        return REFUSED
    sys.stdout.buffer.write(b"%d\n" % pages + data)
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
