"""Documents: createServiceDocumentUploadDestination, and the S3-like URL it hands
out (presigned, expiring, Content-Type signed) that takes the encrypted PUT.

Both halves live together because the URL's signature is made in one and
checked in the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from techapi.spapi import plans
from techapi.spapi.sandbox import rules
from techapi.spapi.sandbox.routing import fail
from techapi.spapi.sandbox.state import Destination

if TYPE_CHECKING:
    from techapi.spapi.sandbox.app import Sandbox

# Upload PUTs answer for themselves (S3 XML), so they also count themselves, under this key.
UPLOAD = "upload"


def create_upload_destination(sandbox: Sandbox, request: Request) -> tuple[int, Any]:
    body = request.get_json(silent=True)
    status, errors = rules.check_upload_request(body)
    if errors:
        raise fail(status, *errors)
    now = sandbox.clock.now()
    dest = Destination(
        upload_destination_id=(f"amzn1.tortuga.3.{uuid.uuid4()}.T{secrets.token_hex(6).upper()}"
                               f"<->amzn1.tortuga.1.token.{base64.b64encode(secrets.token_bytes(16)).decode()}"),
        upload_token=secrets.token_urlsafe(18),
        content_type=body["contentType"],
        content_length=int(body["contentLength"]),
        content_md5=body.get("contentMD5"),
        key=secrets.token_bytes(32),
        iv=secrets.token_bytes(16),
        created_at=now,
        url_expires_at=now + timedelta(seconds=sandbox.config.url_ttl_seconds),
    )
    with sandbox.state.lock:
        if sandbox.faults.expired_urls > 0:
            sandbox.faults.expired_urls -= 1
            dest.url_expires_at = now
    sandbox.state.add_destination(dest)
    mime = rules.MIME[dest.content_type]
    return 200, {"payload": {
        "uploadDestinationId": dest.upload_destination_id,
        "url": _presign(sandbox, dest, now, mime),
        "encryptionDetails": {
            "standard": "AES",
            "initializationVector": base64.b64encode(dest.iv).decode(),
            "key": base64.b64encode(dest.key).decode(),
        },
        "headers": {"Content-Type": mime},
    }}


def _signature(key: bytes, token: str, amz_date: str, expires: str, content_type: str) -> str:
    message = f"{token}\n{amz_date}\n{expires}\n{content_type}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _presign(sandbox: Sandbox, dest: Destination, now: datetime, mime: str) -> str:
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    expires = str(sandbox.config.url_ttl_seconds)
    signature = _signature(sandbox.signing_key, dest.upload_token, amz_date, expires, mime)
    return (f"{sandbox.base_url}/_sandbox/uploads/{dest.upload_token}"
            f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={amz_date}"
            f"&X-Amz-SignedHeaders=content-type%3Bhost&X-Amz-Expires={expires}"
            f"&X-Amz-Signature={signature}")


def _s3_error(sandbox: Sandbox, status: int, code: str, message: str) -> Response:
    # S3 answers in XML, and the client under test must cope with that.
    sandbox.state.count(UPLOAD, status)
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message></Error>")
    return Response(body, status=status, mimetype="application/xml")


def upload(sandbox: Sandbox, request: Request, token: str) -> Response:
    args = request.args
    with sandbox.state.lock:
        dest = sandbox.state.destinations_by_token.get(token)
    if dest is None:
        return _s3_error(sandbox, 404, "NoSuchKey", "The specified key does not exist.")
    amz_date, expires = args.get("X-Amz-Date", ""), args.get("X-Amz-Expires", "")
    content_type = request.headers.get("Content-Type", "")
    expected = _signature(sandbox.signing_key, token, amz_date, expires, content_type)
    if not hmac.compare_digest(expected, args.get("X-Amz-Signature", "")):
        return _s3_error(sandbox, 403, "SignatureDoesNotMatch",
                         "The request signature we calculated does not match the signature you provided.")
    if sandbox.clock.now() >= dest.url_expires_at:
        return _s3_error(sandbox, 403, "AccessDenied", "Request has expired")
    data = request.get_data(cache=False)
    # AES-CBC padding adds up to one block to the largest document SP-API takes.
    if len(data) > plans.MAX_DOCUMENT_BYTES + 16:
        return _s3_error(sandbox, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    with sandbox.state.lock:
        dest.data = data
        dest.puts += 1
    sandbox.state.count(UPLOAD, 200)
    return Response(status=200, headers={"ETag": f"\"{hashlib.md5(data).hexdigest()}\""})
