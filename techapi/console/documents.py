"""A job's documents in the browser: full size and as thumbnails, under the
console's session and the API's own access rule (documents of jobs the caller may see)."""

from __future__ import annotations

from flask import Response, g, send_from_directory

from techapi.console.pages import blp, signed_in
from techapi.context import deps
from techapi.db import get_session
from techapi.evidence import services as evidence
from techapi.evidence.content import INLINE, content_response


@blp.get("/jobs/<job_id>/documents/<doc_id>")
@signed_in
def document(job_id: str, doc_id: str) -> Response:
    """The document as it is sent to Amazon (images inline, PDFs download)."""
    return content_response(deps().store, evidence.document_of(get_session(), g.user, job_id, doc_id))


@blp.get("/jobs/<job_id>/documents/<doc_id>/thumbnail")
@signed_in
def thumbnail(job_id: str, doc_id: str) -> Response:
    """A small picture of the document for the closure queue.

    TODO(lead): once branch `thumbs` is merged, answer with its evidence thumbnail
    service (a JPEG of at most 320 px, kept in the blob store) instead: this sends
    the full normalised image, which the page scales down, and an icon for a PDF.
    """
    doc = evidence.document_of(get_session(), g.user, job_id, doc_id)
    if doc.content_type in INLINE:
        return content_response(deps().store, doc)
    return send_from_directory(blp.static_folder or "", "document.svg", mimetype="image/svg+xml", max_age=3600)
