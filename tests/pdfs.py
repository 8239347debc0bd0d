"""PDFs for tests, built as scanner apps write them: with pypdf (a classic
cross-reference table) or by hand (a cross-reference stream)."""

from __future__ import annotations

import io

from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, NumberObject, StreamObject, TextStringObject

AUTHOR = "Jane Customer"
EDITOR_NOTE = "scanned at 12 Main St"
LATITUDE, LONGITUDE = "47,36.6N", "122,19.98W"  # exif:GPSLatitude / GPSLongitude as XMP writes them
# The EICAR anti-virus test string (68 bytes): harmless, reported as malware by every scanner.
EICAR = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
XMP = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<exif:GPSLatitude>{LATITUDE}</exif:GPSLatitude><exif:GPSLongitude>{LONGITUDE}</exif:GPSLongitude>
<dc:creator><rdf:Seq><rdf:li>{AUTHOR}</rdf:li></rdf:Seq></dc:creator>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>""".encode()


def signed(pages: int = 1, author: str | None = None, xmp: bool = False, text: str = "Signed: J. Customer") -> bytes:
    """A scanned-paper-like PDF: pages with a line of text, optionally with an
    Author in the document info, and GPS in an XMP metadata stream referred to by
    the catalog and the first page, which also carries /PieceInfo."""
    writer = PdfWriter()
    for number in range(pages):
        page = writer.add_blank_page(612, 792)
        content = StreamObject()
        content.set_data(f"BT /F1 12 Tf 72 720 Td ({text} p{number + 1}) Tj ET".encode())
        page[NameObject("/Contents")] = writer._add_object(content)
    if author:
        writer.add_metadata({"/Author": author, "/Producer": "ScanApp 9.1", "/Title": "Proof of appointment"})
    if xmp:
        stream = StreamObject()
        stream.set_data(XMP)
        stream.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
        reference = writer._add_object(stream)
        writer._root_object[NameObject("/Metadata")] = reference
        first = writer.pages[0]  # a page may carry its own XMP and an editor's private data
        first[NameObject("/Metadata")] = reference
        first[NameObject("/PieceInfo")] = DictionaryObject({NameObject("/ScanApp"): DictionaryObject({
            NameObject("/Private"): TextStringObject(EDITOR_NOTE)})})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def infected() -> bytes:
    """A valid one-page PDF whose content stream carries the EICAR string."""
    return signed(text=EICAR)


def with_xref_stream() -> bytes:
    """A one-page PDF 1.5 whose cross-reference is a stream (no `xref` table)."""
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
               b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>"]
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_offset = len(out)
    rows = b"\x00\x00\x00\xff" + b"".join(b"\x01" + o.to_bytes(2, "big") + b"\x00" for o in offsets)
    rows += b"\x01" + xref_offset.to_bytes(2, "big") + b"\x00"
    out += (b"4 0 obj\n<</Type/XRef/Size 5/W[1 2 1]/Root 1 0 R/Length %d>>\nstream\n" % len(rows)
            + rows + b"\nendstream\nendobj\n")
    out += b"startxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(out)


def token_flood(objects: int = 9_000, numbers: int = 250) -> bytes:
    """Under 5 MiB, well-formed, one page, and millions of tiny tokens hanging off
    it: parsed in full, about 10 s of CPU and over 300 MiB."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    flood = b"[" + b"1 " * numbers + b"]"
    bodies = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
              b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/X[" +
              b" ".join(b"%d 0 R" % n for n in range(4, 4 + objects)) + b"]>>"]
    bodies += [flood] * objects
    for number, body in enumerate(bodies, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, xref)
    return bytes(out)


def photo_jpeg(size=(64, 32)) -> bytes:
    """A phone photo as a scanner app embeds it: EXIF with GPS, an XMP packet and a comment,
    an Adobe APP14 segment (kept: it says how to read the colours)."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x010E] = EDITOR_NOTE
    exif[0x8825] = {1: "N", 2: (47.0, 36.0, 36.0), 3: "W", 4: (122.0, 19.0, 59.0)}
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG", quality=90, exif=exif.tobytes(), xmp=XMP,
                                                comment=EDITOR_NOTE.encode())
    data = out.getvalue()
    adobe = b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x01"  # APP14, transform 1 (YCbCr)
    return data[:2] + adobe + data[2:]


def with_photo(jpeg: bytes, size=(64, 32)) -> bytes:
    """A one-page PDF showing `jpeg` as a /DCTDecode image XObject, the JPEG's bytes as they are."""
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    image = StreamObject()
    image._data = jpeg  # the JPEG itself is the stream's (encoded) data
    image.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image"),
                  NameObject("/Width"): NumberObject(size[0]), NameObject("/Height"): NumberObject(size[1]),
                  NameObject("/ColorSpace"): NameObject("/DeviceRGB"),
                  NameObject("/BitsPerComponent"): NumberObject(8), NameObject("/Filter"): NameObject("/DCTDecode")})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): DictionaryObject({
        NameObject("/Im0"): writer._add_object(image)})})
    content = StreamObject()
    content.set_data(b"q 256 0 0 128 72 600 cm /Im0 Do Q")
    page[NameObject("/Contents")] = writer._add_object(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
