"""PDFs: proved to be PDFs (header, cross-reference table or stream, trailer, at
least one page) and rewritten without their metadata before anything is stored.

The first bytes alone prove nothing: an HTML page that starts with `%PDF-` is not
a document Amazon can show a customer. The cheap checks run here; pypdf runs in
a child process (techapi/evidence/pdfscrub.py) with a CPU and memory limit, since
a crafted 5 MiB PDF of millions of tiny objects would otherwise hold a web
process for 10 s of CPU and over 300 MiB, and a parser bug can only kill the child.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass

from techapi.evidence import pdfscrub

MAX_PAGES, MAX_OBJECTS = pdfscrub.MAX_PAGES, pdfscrub.MAX_OBJECTS
CPU_SECONDS = 2  # a genuine 5 MiB scan needs about 0.2 s, 10,000 objects about 0.5 s
MEMORY_BYTES = 256 * 1024 * 1024  # address space of the child; a 5 MiB scan needs about 60 MiB
WALL_SECONDS = 10.0  # a child stuck on I/O or starved of CPU
HEADER = re.compile(rb"^%PDF-[12]\.\d")
STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF")
XREF_NEAR = re.compile(rb"(?:^|\s)(xref\s|\d+\s+\d+\s+obj\b)")
XREF_STREAM = re.compile(rb"/Type\s*/XRef\b")
SLACK = 32  # startxref a few bytes off, as some scanner apps write it: pypdf finds the table


class PdfRejected(Exception):
    """Not a PDF Amazon can show, said in words a technician can act on."""


@dataclass(frozen=True)
class CleanPdf:
    data: bytes
    pages: int


def check_structure(data: bytes) -> None:
    """A header, and a last `startxref` that points at (or a few bytes from) a
    cross-reference table (`xref`) or stream (`N G obj <</Type/XRef`): pypdf
    would otherwise rebuild one from any `obj` it finds in the text."""
    if not HEADER.match(data):
        raise PdfRejected("The file does not start with a PDF header (%PDF-1.x or %PDF-2.x)")
    ends = list(STARTXREF.finditer(data, max(0, len(data) - 1024)))
    if not ends:
        raise PdfRejected("The PDF has no cross-reference table (no startxref before %%EOF)")
    offset = int(ends[-1].group(1))
    for found in XREF_NEAR.finditer(data, max(0, offset - SLACK), min(offset + SLACK, len(data))):
        if found.group(1).startswith(b"xref"):
            return
        # An object: a cross-reference stream says so in its dictionary.
        if XREF_STREAM.search(data[found.end(1):found.end(1) + 4096].split(b"stream", 1)[0]):
            return
    raise PdfRejected("The PDF's startxref does not lead to a cross-reference table or stream")


def clean(data: bytes) -> CleanPdf:
    """The PDF rewritten without document info, XMP or editing history, or
    PdfRejected when it is not a whole PDF within the limits."""
    check_structure(data)
    command = [sys.executable, "-I", pdfscrub.__file__, str(CPU_SECONDS), str(MEMORY_BYTES)]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=WALL_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        done = None
    if done is not None and done.returncode == 0:
        pages, _, cleaned = done.stdout.partition(b"\n")
        return CleanPdf(cleaned, int(pages))
    if done is not None and done.returncode == pdfscrub.REFUSED:
        raise PdfRejected(done.stdout.decode("utf-8", "replace"))
    raise PdfRejected(f"Reading the PDF needs more than {CPU_SECONDS} s or {MEMORY_BYTES // 1_048_576} MiB, "
                      "far more than a scanned document; scan or save it again")
