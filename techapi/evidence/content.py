"""A document's bytes as an HTTP answer: one rule for how a stored document is
shown in a browser, whoever asks for it (the API, the console)."""

from __future__ import annotations

from flask import Response, send_file

from techapi.evidence.models import Document
from techapi.storage import BlobStore

MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "TIFF": "image/tiff", "PDF": "application/pdf"}
# Shown in the browser: only what Pillow re-encoded into a plain raster image. A
# PDF can carry scripts and a GIF or TIFF is rarely shown inline anyway: both
# download. nosniff on all, so a browser never second-guesses the type.
INLINE = {"JPEG", "PNG"}


def content_response(store: BlobStore, doc: Document) -> Response:
    """The bytes as they are sent to Amazon, inline only when a plain raster image."""
    response = send_file(store.open(doc.normalised_key), mimetype=MIME[doc.content_type],
                         as_attachment=doc.content_type not in INLINE,
                         download_name=f"{doc.id}.{doc.content_type.lower()}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
