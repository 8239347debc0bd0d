"""Orphan blobs: document bytes whose row was never committed.

An upload writes its two blobs, then commits the document row. A process killed
in between (OOM, deploy, power) leaves blobs that nothing refers to and nothing
would ever delete. The sweep removes them, and only them:

- a blob is removed only when no document row has its id, read after listing;
- only blobs older than `min_age` by the store's own clock: an upload in flight
  has written its blobs but not yet committed, and must not lose them;
- only keys of the shape techapi writes (documents/<uuid>/original|normalised, and
  documents/<uuid>/thumbnail-<px>, made on request: one made while its document
  was being deleted outlives the delete): anything else under the store's root is
  not ours to judge.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from techapi.db import Database
from techapi.evidence.models import Document
from techapi.storage import BlobStore

log = logging.getLogger(__name__)

DOCUMENTS = "documents"  # every blob techapi writes is below it
MIN_AGE = timedelta(minutes=30)  # far beyond any request timeout: an upload in flight is never this old
DOCUMENT_KEY = re.compile(r"^documents/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/"
                          r"(?:original|normalised|thumbnail-[0-9]{1,4})$")
CHUNK = 500  # ids per IN (...) query


@dataclass
class SweepResult:
    removed: list[str] = field(default_factory=list)  # blob keys
    kept_young: int = 0  # orphans or not, too recent to judge
    partial: int = 0  # half-written temporary files or multipart uploads removed


def _with_rows(db: Database, ids: list[str]) -> set[str]:
    found: set[str] = set()
    with db.session() as session:
        for start in range(0, len(ids), CHUNK):
            found.update(session.scalars(select(Document.id).where(Document.id.in_(ids[start:start + CHUNK]))))
    return found


def sweep_orphans(db: Database, store: BlobStore, now: datetime, min_age: timedelta = MIN_AGE) -> SweepResult:
    """Remove document blobs older than `min_age` whose document row does not exist.
    `now` is the real time (blob times come from the store, not from techapi's clock)."""
    result = SweepResult()
    cutoff = now - min_age
    old: dict[str, list[str]] = {}
    for blob in store.stored():
        match = DOCUMENT_KEY.match(blob.key)
        if match is None:
            continue
        if blob.modified >= cutoff:
            result.kept_young += 1
            continue
        old.setdefault(match.group(1), []).append(blob.key)
    orphans = sorted(set(old) - _with_rows(db, sorted(old)))
    for doc_id in orphans:
        for key in sorted(old[doc_id]):
            store.delete(key)
            result.removed.append(key)
    result.partial = store.remove_partial(cutoff, under=DOCUMENTS)  # never what others keep there
    if result.removed or result.partial:
        log.warning("swept %s orphan blob(s) of %s document(s) and %s partial upload(s)",
                    len(result.removed), len(orphans), result.partial)
    return result
