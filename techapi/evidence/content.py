"""A document's bytes and its thumbnail as HTTP answers: one rule for how a stored
document is shown in a browser, whoever asks for it (the API, the console)."""

from __future__ import annotations

from flask import Response, request, send_file

from techapi.context import Deps
from techapi.errors import ConflictError
from techapi.evidence import thumbnails
from techapi.evidence.models import Document
from techapi.storage import BlobNotFound, BlobStore

MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "TIFF": "image/tiff", "PDF": "application/pdf"}
# Shown in the browser: only what Pillow re-encoded into a plain raster image. A
# PDF can carry scripts and a GIF or TIFF is rarely shown inline anyway: both
# download. nosniff on all, so a browser never second-guesses the type.
INLINE = {"JPEG", "PNG"}
# A thumbnail never changes for its document id. A day bounds how long a browser keeps
# one after its user lost access (a private cache only: never a shared one).
THUMBNAIL_CACHE = "private, max-age=86400, immutable"


def content_response(store: BlobStore, doc: Document) -> Response:
    """The bytes as they are sent to Amazon, inline only when a plain raster image."""
    try:
        stream = store.open(doc.normalised_key)
    except BlobNotFound:  # removed by hand from the blob store: the row outlived its file
        raise ConflictError("The document's file is no longer stored; replace the document") from None
    response = send_file(stream, mimetype=MIME[doc.content_type],
                         as_attachment=doc.content_type not in INLINE,
                         download_name=f"{doc.id}.{doc.content_type.lower()}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def thumbnail_response(deps: Deps, thumb: thumbnails.Thumbnail) -> Response:
    """The thumbnail's JPEG, or 304 when the caller has it (its strong ETag never changes)."""
    if request.if_none_match.contains_weak(thumb.tag):
        response = Response(status=304)
    else:
        response = Response(thumbnails.thumbnail_bytes(deps, thumb), mimetype="image/jpeg")
    response.set_etag(thumb.tag)
    response.headers["Cache-Control"] = THUMBNAIL_CACHE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.vary.update(("Authorization", "Cookie"))
    return response
