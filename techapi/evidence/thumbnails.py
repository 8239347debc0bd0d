"""Document thumbnails for the phone's and the supervisor console's lists: a JPEG of
at most THUMBNAIL_LONG_SIDE px, made once from the stored normalised bytes and kept
beside them in the blob store; a PDF gets a generic page icon (nothing renders a page).

Who may see one is exactly who may download the document's content. A document's
bytes never change for its id (there is no way to replace them, only to delete
the document), so a thumbnail is never remade and its validator is fixed."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from techapi.auth.models import User
from techapi.conditional import opaque_tag
from techapi.context import Deps
from techapi.db import end_read
from techapi.errors import ConflictError
from techapi.evidence import filetypes, images, services
from techapi.evidence.models import THUMBNAIL_LONG_SIDE
from techapi.storage import BlobNotFound

log = logging.getLogger(__name__)
# Part of every ETag: change it when the way thumbnails are drawn changes.
DRAWING = 1
MISSING = "The document's file is no longer stored, so it has no thumbnail; replace the document"


@dataclass(frozen=True)
class Thumbnail:
    """What a caller allowed to see the document needs to answer for its thumbnail."""

    document_id: str
    tag: str  # opaque part of a strong ETag: a 304 needs nothing else
    key: str  # where the thumbnail is kept
    source_key: str  # the normalised bytes it is made from
    is_icon: bool  # a PDF: the generic icon, not a picture of its pages


def thumbnail_of(session: Session, user: User, job_id: str, document_id: str) -> Thumbnail:
    """The document's thumbnail, for whoever may download its content (404 otherwise).
    Reads no blob; ends the read, so no transaction stays open while one is made."""
    doc = services.document_of(session, user, job_id, document_id)
    is_icon = doc.content_type == filetypes.PDF
    thumb = Thumbnail(doc.id, opaque_tag(("thumbnail", doc.sha256, THUMBNAIL_LONG_SIDE, DRAWING, is_icon)),
                      doc.thumbnail_key, doc.normalised_key, is_icon)
    end_read(session)
    return thumb


def thumbnail_bytes(deps: Deps, thumb: Thumbnail) -> bytes:
    """The stored thumbnail, or one made now from the normalised bytes and stored (two
    requests at once both make it: same bytes, and each store write replaces whole).
    409 when the document's file is gone or can no longer be decoded."""
    if thumb.is_icon:
        return images.document_icon(THUMBNAIL_LONG_SIDE)
    try:
        return deps.store.get_bytes(thumb.key)
    except BlobNotFound:
        pass
    try:
        # At most Amazon's 5 MiB, and Pillow needs to seek, which an S3 body cannot.
        source = io.BytesIO(deps.store.get_bytes(thumb.source_key))
        data = images.thumbnail(source, THUMBNAIL_LONG_SIDE, deps.settings.max_decoded_megapixels)
    except BlobNotFound:
        log.warning("document %s has a row but no stored file", thumb.document_id)
        raise ConflictError(MISSING) from None
    except images.ImageRejected as exc:
        raise ConflictError(f"The document's stored image cannot be previewed: {exc}") from None
    deps.store.put_bytes(thumb.key, data)
    return data


def document_thumbnail(deps: Deps, session: Session, user: User, job_id: str, document_id: str) -> bytes:
    """The JPEG thumbnail in one call, for a caller that does not revalidate."""
    return thumbnail_bytes(deps, thumbnail_of(session, user, job_id, document_id))
