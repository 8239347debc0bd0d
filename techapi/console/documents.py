"""A job's documents in the browser: full size and as thumbnails, under the
console's session and the API's own access rule (documents of jobs the caller may see)."""

from __future__ import annotations

from flask import Response, g

from techapi.console.pages import blp, signed_in
from techapi.context import deps
from techapi.db import get_session
from techapi.evidence import services as evidence
from techapi.evidence import thumbnails
from techapi.evidence.content import content_response, thumbnail_response


@blp.get("/jobs/<job_id>/documents/<doc_id>")
@signed_in
def document(job_id: str, doc_id: str) -> Response:
    """The document as it is sent to Amazon (images inline, PDFs download)."""
    return content_response(deps().store, evidence.document_of(get_session(), g.user, job_id, doc_id))


@blp.get("/jobs/<job_id>/documents/<doc_id>/thumbnail")
@signed_in
def thumbnail(job_id: str, doc_id: str) -> Response:
    """The API's thumbnail (a JPEG of at most 320 px, made once; a page icon for a PDF)."""
    return thumbnail_response(deps(), thumbnails.thumbnail_of(get_session(), g.user, job_id, doc_id))
