"""Send a normalised document to SP-API: destination, AES-CBC, PUT, SHA-256.

The presigned URL comes from a remote API, so it is only followed over https
to an allow-listed host (plain http only to a host listed by name, for tests),
with redirects off and timeouts on: it must never become a way into our network.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from techapi.spapi.types import UploadDestination

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
AES_BLOCK = 16


class UploadUrlRejected(Exception):
    """The destination URL is not one we may send data to (permanent)."""


class UploadFailed(Exception):
    """The PUT did not succeed (expired URL, 5xx, network); a fresh destination may."""


@dataclass(frozen=True)
class UploadResult:
    upload_destination_id: str
    content_sha256: str  # base64 SHA-256 of the encrypted bytes, as SP-API expects


def check_upload_url(url: str, allowed_hosts: tuple[str, ...]) -> None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password:
        raise UploadUrlRejected("upload URL has no host or carries credentials")
    named = host in allowed_hosts
    wildcard = any(p.startswith("*.") and host.endswith(p[1:]) for p in allowed_hosts)
    if not (named or wildcard):
        raise UploadUrlRejected(f"upload host {host} is not in TECHAPI_UPLOAD_ALLOWED_HOSTS")
    if parts.scheme == "https" or (parts.scheme == "http" and named):
        return
    raise UploadUrlRejected(f"upload URL scheme {parts.scheme!r} is not allowed for {host}")


def encrypted_length(length: int) -> int:
    """PKCS#7 always pads: a whole extra block when the length is a multiple of 16."""
    return (length // AES_BLOCK + 1) * AES_BLOCK


def encrypt_stream(data: bytes, key: bytes, iv: bytes, digest: hashlib._Hash) -> Iterator[bytes]:
    """AES-CBC/PKCS7 in chunks, feeding the ciphertext to `digest` in the same pass."""
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    padder = padding.PKCS7(128).padder()
    view = memoryview(data)
    for start in range(0, len(view), CHUNK):
        block = encryptor.update(padder.update(view[start:start + CHUNK]))
        digest.update(block)
        yield block
    block = encryptor.update(padder.finalize()) + encryptor.finalize()
    digest.update(block)
    yield block


def put_document(http: httpx.Client, dest: UploadDestination, data: bytes,
                 allowed_hosts: tuple[str, ...]) -> UploadResult:
    check_upload_url(dest.url, allowed_hosts)
    digest = hashlib.sha256()
    # Exactly the headers the destination gave (the URL signs Content-Type), and
    # a Content-Length: presigned S3 PUTs refuse chunked bodies.
    headers = {**dest.headers, "Content-Length": str(encrypted_length(len(data)))}
    try:
        response = http.put(dest.url, content=encrypt_stream(data, dest.key, dest.iv, digest), headers=headers)
    except httpx.HTTPError as exc:
        raise UploadFailed(f"PUT failed: {type(exc).__name__}") from None
    if response.status_code // 100 != 2:
        code = ""
        if b"<Code>" in response.content:
            code = response.content.split(b"<Code>", 1)[1].split(b"</Code>", 1)[0].decode(errors="replace")[:40]
        raise UploadFailed(f"PUT answered {response.status_code} {code}".strip())
    return UploadResult(dest.upload_destination_id, base64.b64encode(digest.digest()).decode())


def upload_with_fresh_destinations(
    create_destination, http: httpx.Client, data: bytes, allowed_hosts: tuple[str, ...],
    attempts: int = 3, backoff: float = 0.5, sleep=time.sleep,
) -> UploadResult:
    """Create a destination and PUT; on an expired URL or a failed PUT, a fresh
    destination is created and the PUT retried, with backoff, `attempts` times."""
    last: UploadFailed | None = None
    for attempt in range(attempts):
        dest = create_destination()
        try:
            return put_document(http, dest, data, allowed_hosts)
        except UploadFailed as exc:
            last = exc
            log.warning("document PUT failed (%s), attempt %s of %s", exc, attempt + 1, attempts)
            if attempt + 1 < attempts:
                sleep(backoff * 2**attempt)
    assert last is not None
    raise last
