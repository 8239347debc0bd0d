"""Keys, request fingerprints and the stored answers.

The first response to a key is stored per (user, key) for 24 hours and replayed
byte for byte on a retry; the same key with a different request is 422; a retry
while the first is still running is 409. 5xx responses are not stored, so the
request can be tried again.

A request holds its key on a lease as long as the request timeout: past it, the
request is taken for dead (killed, crashed, its process recycled) and a retry of
the same request takes the key over and runs again. The record's `created_at`
is the holder's lease: only the request that set it may store its answer, so a
straggler that outlives its lease cannot overwrite its successor's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Request, Response
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from techapi.db import Database
from techapi.errors import BadRequestError, ConflictError, ValidationError
from techapi.idempotency.models import IdempotencyRecord

RETENTION = timedelta(hours=24)
HEADER = "Idempotency-Key"
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Offline actions keep their keys in the same table behind this prefix. Its unit
# separator can never be in an HTTP key (printable ASCII only), so an HTTP
# `Idempotency-Key: offline:K` and the offline action key K are different keys.
OFFLINE_PREFIX = "offline\x1f"


def offline_key(action_key: str) -> str:
    return OFFLINE_PREFIX + action_key


def parse_key(raw: str) -> str:
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':  # a structured-header string
        key = key[1:-1]
    if not 1 <= len(key) <= 255 or not key.isprintable() or not key.isascii():
        raise BadRequestError(f"{HEADER} must be 1 to 255 printable ASCII characters",
                              errors={"headers": {HEADER: ["1 to 255 printable ASCII characters"]}})
    return key


def fingerprint(request: Request) -> str:
    """The request's identity: method, path, query and body (files by content)."""
    digest = hashlib.sha256(f"{request.method} {request.path}?{request.query_string.decode()}".encode())
    if request.mimetype == "multipart/form-data":
        for name, value in sorted(request.form.items(multi=True)):
            digest.update(f"\0form\0{name}\0{value}".encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            digest.update(f"\0file\0{name}\0{upload.filename}\0".encode())
            for chunk in iter(lambda u=upload: u.stream.read(1024 * 1024), b""):
                digest.update(chunk)
            upload.stream.seek(0)
    else:
        digest.update(b"\0body\0" + request.get_data(cache=True))
    return digest.hexdigest()


def _claim(db: Database, user_id: int, key: str, print_: str, now: datetime, lease: timedelta
           ) -> IdempotencyRecord | None:
    """Hold the key from `now` on; else return the record of the request that holds it
    or answered it. A record still in progress past its lease is taken over by the
    same request."""
    with db.session() as session:
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id,
                                                        IdempotencyRecord.key == key,
                                                        IdempotencyRecord.expires_at < now))
        session.add(IdempotencyRecord(user_id=user_id, key=key, fingerprint=print_, created_at=now,
                                      expires_at=now + RETENTION))
        try:
            session.commit()
            return None
        except IntegrityError:
            session.rollback()
        # One statement, so of two retries after the lease only one takes the key.
        taken = session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key,
                   IdempotencyRecord.fingerprint == print_, IdempotencyRecord.status_code.is_(None),
                   IdempotencyRecord.created_at < now - lease)
            .values(created_at=now, expires_at=now + RETENTION)
            .execution_options(synchronize_session=False))
        session.commit()
        if taken.rowcount == 1:
            return None
        earlier = session.get(IdempotencyRecord, (user_id, key))
        if earlier is not None:
            session.expunge(earlier)
        return earlier


def _store(db: Database, user_id: int, key: str, started: datetime, response: Response) -> None:
    with db.transaction() as session:
        record = session.get(IdempotencyRecord, (user_id, key))
        if record is None or record.status_code is not None or record.created_at != started:
            return  # no longer ours: purged, or taken over after our lease ran out
        if response.status_code >= 500:
            session.delete(record)  # a server failure is not an answer: let the client retry
        else:
            record.status_code = response.status_code
            record.content_type = response.content_type
            record.body = response.get_data()


def run_idempotent(db: Database, request: Request, user_id: int, now: datetime, lease: timedelta,
                   handle: Callable[[], Response]) -> Response:
    """Run `handle` once per (user, key); replay its stored response afterwards."""
    key = parse_key(request.headers[HEADER])
    print_ = fingerprint(request)
    earlier = _claim(db, user_id, key, print_, now, lease)
    if earlier is not None:
        if earlier.fingerprint != print_:
            raise ValidationError(f"This {HEADER} was used for a different request")
        if earlier.status_code is None:
            wait = max(1, int((earlier.created_at + lease - now).total_seconds()) + 1)
            raise ConflictError(f"A request with this {HEADER} is still being processed; "
                                f"retry in {wait} seconds", headers={"Retry-After": str(wait)})
        replay = Response(earlier.body, status=earlier.status_code, content_type=earlier.content_type)
        replay.headers["Idempotent-Replayed"] = "true"
        return replay
    try:
        response = handle()
    except BaseException:
        _store(db, user_id, key, now, Response(status=500))
        raise
    _store(db, user_id, key, now, response)
    return response


def purge_expired(db: Database, now: datetime) -> int:
    with db.transaction() as session:
        result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at < now))
        return result.rowcount or 0
