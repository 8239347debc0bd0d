"""SP-API's validation rules as pure functions, with the messages the model's
x-amzn-api-sandbox cases show. Each returns a list of error dicts (empty = ok)."""

from __future__ import annotations

import base64
import hashlib
import re
import zlib
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from techapi.clock import parse_iso
from techapi.spapi.plans import DOCUMENT_CONTENT_TYPES, MAX_DOCUMENT_BYTES
from techapi.spapi.sandbox.state import Destination

Error = dict[str, str]

# Strict ISO 8601 date-time: what SP-API parses. Python's fromisoformat is far
# more lenient (it reads "10-00:00" as an hour with an offset).
ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?$"
)
MD5_B64 = re.compile(r"^[A-Za-z0-9+/]{22}={2}$")
REASON_CODE = re.compile(r"^[A-Z0-9_]{1,100}$")
RESOURCE_ID = re.compile(r"^[A-Za-z0-9\-_.]{1,50}$")

# Magic numbers of what each declared contentType may hold.
MAGIC = {
    "PNG": (b"\x89PNG\r\n\x1a\n",),
    "JPG": (b"\xff\xd8\xff",),
    "JPEG": (b"\xff\xd8\xff",),
    "GIF": (b"GIF87a", b"GIF89a"),
    "TIFF": (b"II*\x00", b"MM\x00*"),
    "PDF": (b"%PDF-",),
}
MIME = {"PNG": "image/png", "JPG": "image/jpeg", "JPEG": "image/jpeg", "GIF": "image/gif",
        "TIFF": "image/tiff", "PDF": "application/pdf"}


def err(message: str, code: str = "InvalidInput", details: str = "") -> Error:
    return {"code": code, "message": message, "details": details}


def missing(names: list[str], trailing_dot: bool = False) -> Error:
    return err(f"Missing or invalid request parameters: [{', '.join(names)}]" + ("." if trailing_dot else ""))


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not ISO_DATETIME.match(value):
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None


def is_utc(value: str) -> bool:
    return value.endswith("Z")


def check_fulfillment_time(ft: Any, now: datetime) -> list[Error]:
    """At most one error, found in the order the model's cases show: both times
    present, then parseable, not in the future, end after start, and only then in
    UTC (an offset time in the past is refused for being in the future or out of
    order first, and a missing end hides a start that is not UTC)."""
    if not isinstance(ft, dict):
        return [err("Could not parse given fulfillmentTime. Please provide startTime and endTime")]
    for key, name in (("startTime", "start"), ("endTime", "end")):
        if ft.get(key) is None:
            return [err(f"Appointment {name} time is required. Please check the input again.")]
    raw = {key: ft[key] for key in ("startTime", "endTime")}
    parsed: dict[str, datetime] = {}
    for key, value in raw.items():
        when = parse_time(value)
        if when is None:
            return [err(f"Could not parse given time input {value}. Please provide time in ISO8601 format")]
        parsed[key] = when
    start, end = parsed["startTime"], parsed["endTime"]
    if start > now:
        return [err("Appointment start time should not be in future. Please check the input again")]
    if end > now:
        return [err("Appointment end time should not be in future. Please check the input again")]
    if end < start:
        return [err("Appointment end time should be after start time. Please check the input again.")]
    for value in raw.values():
        if not is_utc(value):
            return [err(f"ISO8601 time {value} is not in UTC format. Please provide time in UTC")]
    return []


def check_arrival_time(eta: Any) -> list[Error]:
    if not isinstance(eta, dict) or eta.get("startTime") is None or eta.get("endTime") is None:
        return [err("Failed to process input. Reason: ETA start and end time both are mandatory field "
                    "as part of estimatedArrivalTime object. Please check the input again")]
    for key in ("startTime", "endTime"):
        if parse_time(eta[key]) is None:
            return [err(f"Could not parse given time input {eta[key]}. Please provide time in ISO8601 format")]
    return []


def check_resources(resources: Any, known: dict[str, str]) -> list[Error]:
    if not isinstance(resources, list) or not all(isinstance(r, dict) for r in resources):
        return [err("One or more resources provided is invalid. Please check the input again.")]
    ids = [r.get("resourceId") for r in resources]
    if any(not isinstance(i, str) or not RESOURCE_ID.match(i) for i in ids):
        return [err("One or more resources provided is invalid. Please check the input again.")]
    if any(i not in known for i in ids):
        return [err("One or more resources provided does not exist or is deleted. Please check the input again.")]
    return []


# The EICAR anti-virus test file: harmless, and every scanner reports it as
# malware. Amazon scans what is uploaded; the sandbox scans for this alone.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
PDF_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.S)
MAX_INFLATED = 16 * 1024 * 1024  # per stream: a scanner unpacks, within bounds


def carries_malware(plain: bytes) -> bool:
    """The EICAR string in the document, or in one of its Flate-compressed PDF
    streams (a content stream or an embedded file), as a scanner unpacks them."""
    if EICAR in plain:
        return True
    if not plain.startswith(MAGIC["PDF"]):
        return False
    for found in PDF_STREAM.finditer(plain):
        try:
            inflated = zlib.decompressobj().decompress(found.group(1), MAX_INFLATED)
        except zlib.error:
            continue
        if EICAR in inflated:
            return True
    return False


def _poa(reason: str) -> Error:
    return err(f"Failed to process proof of appointment input. Reason: {reason}")


def decrypt(dest: Destination, data: bytes) -> bytes | None:
    try:
        decryptor = Cipher(algorithms.AES(dest.key), modes.CBC(dest.iv)).decryptor()
        padded = decryptor.update(data) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        return None


def check_document(doc: Any, dest: Destination | None) -> list[Error]:
    """The checks SP-API runs on a fulfillment document when it is referenced."""
    if not isinstance(doc, dict) or not doc.get("uploadDestinationId"):
        return [_poa("Input document id does not exist. Please check the input")]
    if dest is None:
        return [_poa("Input document id does not exist. Please check the input")]
    if dest.data is None:
        return [_poa("Document encrypted not found or exist. Please review document uploaded")]
    plain = decrypt(dest, dest.data)
    if plain is None:
        return [_poa("Document failed to decrypt or decipher. Please review the uploaded document")]
    if len(plain) > MAX_DOCUMENT_BYTES:
        return [_poa("Document failed to meet content length restrictions. Please review document uploaded")]
    if len(plain) != dest.content_length:
        return [_poa("Failed to retrieve document content length. Please review document uploaded")]
    if dest.content_md5 and base64.b64encode(hashlib.md5(plain).digest()).decode() != dest.content_md5:
        return [_poa("Input document parameters are invalid. Please check the input.")]
    if not plain.startswith(MAGIC[dest.content_type]):
        return [_poa("Document failed to meet content type restrictions. Please review document uploaded")]
    # As in Amazon's Java sample, contentSha256 digests the encrypted bytes.
    expected = base64.b64encode(hashlib.sha256(dest.data).digest()).decode()
    if doc.get("contentSha256") != expected:
        return [_poa("Document failed to meet sanity check. Could not get a Sha256 Message Digest "
                     "instance. Please review document uploaded")]
    if carries_malware(plain):
        return [_poa("Document failed to meet malware check. Please review document uploaded")]
    return []


def check_upload_request(body: Any) -> tuple[int, list[Error]]:
    """createServiceDocumentUploadDestination: 400 for missing fields, 422 for bad values."""
    if not isinstance(body, dict):
        return 400, [missing(["contentType", "contentLength"], trailing_dot=True)]
    absent = [k for k in ("contentType", "contentLength") if k not in body or body[k] is None]
    length = body.get("contentLength")
    if "contentLength" not in absent and (isinstance(length, bool) or not isinstance(length, int | float)):
        absent.append("contentLength")
    md5 = body.get("contentMD5")
    if md5 is not None and (not isinstance(md5, str) or not MD5_B64.match(md5)):
        absent.append("contentMD5")
    if absent:
        return 400, [missing(absent, trailing_dot=True)]
    if body["contentType"] not in DOCUMENT_CONTENT_TYPES:
        allowed = ", ".join(f"'{t}'" for t in DOCUMENT_CONTENT_TYPES)
        return 422, [err(f"contentType parameter is invalid. Use one of [{allowed}]")]
    if length != int(length) or not 1 <= length <= MAX_DOCUMENT_BYTES:
        return 422, [err(f"contentLength parameter is invalid. It must be between 1 and {MAX_DOCUMENT_BYTES}")]
    return 200, []
