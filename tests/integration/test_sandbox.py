"""The sandbox behaves like SP-API: documents, fulfillment checks, completion rules."""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from datetime import timedelta

import httpx
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from techapi.spapi import plans
from techapi.spapi.errors import SpApiBadRequest, SpApiUnprocessable
from techapi.spapi.types import FulfillmentData, FulfillmentDocument
from tests.conftest import NOW, http_client

pytestmark = pytest.mark.db_independent  # CI runs it once, in the SQLite stage


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padder.update(data) + padder.finalize()) + encryptor.finalize()


def upload(client, data: bytes, content_type: str = "PNG", *, tamper: bool = False):
    """What the evidence pipeline does: destination, AES-CBC, PUT, SHA-256 of the ciphertext."""
    dest = client.create_upload_destination(content_type, len(data), hashlib.md5(data).digest())
    body = encrypt(dest.key, dest.iv, data)
    if tamper:  # a ciphertext cut short is not whole AES blocks: it cannot decrypt
        body = body[:-1]
    response = httpx.put(dest.url, content=body, headers=dest.headers)
    sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return dest, response, sha


def open_job(server):
    job = next(j for j in server.sandbox.state.jobs.values() if j.status == "NOT_SERVICED")
    return job.job_id, job.payload["appointments"][0]["appointmentId"]


def fulfilled(start_hours_ago: float = 3, docs: tuple = ()) -> FulfillmentData:
    return FulfillmentData(start=NOW - timedelta(hours=start_hours_ago), end=NOW - timedelta(hours=1),
                           documents=docs)


def test_a_document_uploaded_and_referenced_correctly_completes_the_job(http_sandbox):
    client = http_client(http_sandbox)
    job_id, appt = open_job(http_sandbox)
    dest, response, sha = upload(client, tiny_png())
    assert response.status_code == 200
    tech = http_sandbox.sandbox.state.jobs[job_id].payload["appointments"][0]["assignedTechnicians"][0]
    client.set_appointment_fulfillment_data(job_id, appt, FulfillmentData(
        start=NOW - timedelta(hours=2), end=NOW - timedelta(hours=1),
        resource_ids=(tech["technicianId"],),
        documents=(FulfillmentDocument(dest.upload_destination_id, sha),),
    ))
    client.complete_service_job(job_id)
    job = client.get_service_job(job_id)
    assert job.status == "COMPLETED"
    saved = http_sandbox.sandbox.state.jobs[job_id]
    assert saved.completions == 1
    assert saved.fulfillment["fulfillmentTime"]["startTime"] == "2026-06-15T13:00:00.000Z"
    assert saved.fulfillment["appointmentResources"] == [{"resourceId": tech["technicianId"]}]


def test_completing_twice_is_refused_with_the_job_state(http_sandbox):
    client = http_client(http_sandbox)
    job_id, appt = open_job(http_sandbox)
    dest, _, sha = upload(client, tiny_png())
    client.set_appointment_fulfillment_data(job_id, appt, fulfilled(docs=(FulfillmentDocument(
        dest.upload_destination_id, sha),)))
    client.complete_service_job(job_id)
    with pytest.raises(SpApiUnprocessable) as info:
        client.complete_service_job(job_id)
    assert info.value.message == f"Operation not allowed on job with jobId : {job_id} and jobState : COMPLETED"
    assert http_sandbox.sandbox.state.jobs[job_id].completions == 1


def test_completion_needs_a_document_as_well_as_times(http_sandbox):
    client = http_client(http_sandbox)
    job_id, appt = open_job(http_sandbox)
    client.set_appointment_fulfillment_data(job_id, appt, fulfilled())
    with pytest.raises(SpApiUnprocessable) as info:
        client.complete_service_job(job_id)
    assert "missing [fulfillmentDocuments]" in info.value.message


@pytest.mark.parametrize("mutate, reason", [
    (lambda d, sha: (d.upload_destination_id, "InvalidSHA256GiDNVqcxMqYEr7n0BCS9EtNN7szHe0RT="),
     "Document failed to meet sanity check"),
    (lambda d, sha: ("amzn1.tortuga.3.does-not-exist", sha), "Input document id does not exist"),
])
def test_wrong_document_references_are_refused_with_the_model_messages(http_sandbox, mutate, reason):
    client = http_client(http_sandbox)
    job_id, appt = open_job(http_sandbox)
    dest, _, sha = upload(client, tiny_png())
    dest_id, digest = mutate(dest, sha)
    with pytest.raises(SpApiUnprocessable) as info:
        client.set_appointment_fulfillment_data(job_id, appt, FulfillmentData(
            documents=(FulfillmentDocument(dest_id, digest),)))
    assert info.value.message.startswith("Failed to process proof of appointment input. Reason: " + reason)


def test_tampered_ciphertext_fails_to_decrypt(http_sandbox):
    client = http_client(http_sandbox)
    job_id, appt = open_job(http_sandbox)
    dest, _, sha = upload(client, tiny_png(), tamper=True)
    with pytest.raises(SpApiUnprocessable) as info:
        client.set_appointment_fulfillment_data(job_id, appt, FulfillmentData(
            documents=(FulfillmentDocument(dest.upload_destination_id, sha),)))
    assert "Document failed to decrypt or decipher" in info.value.message


def test_bytes_that_do_not_match_the_declared_type_are_refused(http_sandbox):
    client = http_client(http_sandbox)
    job_id, appt = open_job(http_sandbox)
    dest, _, sha = upload(client, b"%PDF-1.4 not a png at all", content_type="PNG")
    with pytest.raises(SpApiUnprocessable) as info:
        client.set_appointment_fulfillment_data(job_id, appt, FulfillmentData(
            documents=(FulfillmentDocument(dest.upload_destination_id, sha),)))
    assert "content type restrictions" in info.value.message


def test_a_document_never_uploaded_is_reported_as_missing(http_sandbox):
    client = http_client(http_sandbox)
    job_id, appt = open_job(http_sandbox)
    data = tiny_png()
    dest = client.create_upload_destination("PNG", len(data), hashlib.md5(data).digest())
    with pytest.raises(SpApiUnprocessable) as info:
        client.set_appointment_fulfillment_data(job_id, appt, FulfillmentData(
            documents=(FulfillmentDocument(dest.upload_destination_id, "x"),)))
    assert "Document encrypted not found" in info.value.message


def test_upload_url_expires_and_checks_the_signed_content_type(http_sandbox, clock):
    client = http_client(http_sandbox)
    data = tiny_png()
    dest = client.create_upload_destination("PNG", len(data), hashlib.md5(data).digest())
    body = encrypt(dest.key, dest.iv, data)
    wrong_type = httpx.put(dest.url, content=body, headers={"Content-Type": "image/jpeg"})
    assert wrong_type.status_code == 403 and b"SignatureDoesNotMatch" in wrong_type.content
    clock.advance(seconds=301)
    expired = httpx.put(dest.url, content=body, headers=dest.headers)
    assert expired.status_code == 403 and b"Request has expired" in expired.content


@pytest.mark.parametrize("start, end, message", [
    ("2026-06-15T10:00:00.000+05:30", "2026-06-15T13:00:00.000Z",
     "ISO8601 time 2026-06-15T10:00:00.000+05:30 is not in UTC format. Please provide time in UTC"),
    ("2021-01-01T10-00:00.000Z", "2026-06-15T13:00:00.000Z",
     "Could not parse given time input 2021-01-01T10-00:00.000Z. Please provide time in ISO8601 format"),
    ("9999-01-01T10:00:00.000Z", "2026-06-15T13:00:00.000Z",
     "Appointment start time should not be in future. Please check the input again"),
    ("2026-06-15T12:00:00.000Z", "2026-06-15T11:00:00.000Z",
     "Appointment end time should be after start time. Please check the input again."),
    (None, "2026-06-15T13:00:00.000Z", "Appointment start time is required. Please check the input again."),
    # One error, the first in the model's order: an offset time missing its end
    # is missing an end; a start in the future after the end is in the future.
    ("2026-06-15T10:00:00.000+05:30", None, "Appointment end time is required. Please check the input again."),
    ("2026-06-16T10:00:00.000Z", "2026-06-15T11:00:00.000Z",
     "Appointment start time should not be in future. Please check the input again"),
])
def test_fulfillment_times_follow_the_model_rules(http_sandbox, start, end, message):
    client = http_client(http_sandbox)
    job_id, appt = open_job(http_sandbox)
    token = client.tokens.get()
    body = {"fulfillmentTime": {k: v for k, v in (("startTime", start), ("endTime", end)) if v}}
    response = httpx.put(
        f"{http_sandbox.url}/service/v1/serviceJobs/{job_id}/appointments/{appt}/fulfillment",
        json=body, headers={"x-amz-access-token": token})
    assert response.status_code == 422
    assert [e["message"] for e in response.json()] == [message]  # a bare ErrorList, as in the model


def test_unknown_resources_are_refused(http_sandbox):
    client = http_client(http_sandbox)
    job_id, appt = open_job(http_sandbox)
    with pytest.raises(SpApiUnprocessable) as info:
        client.set_appointment_fulfillment_data(job_id, appt, FulfillmentData(resource_ids=("ANOBODY0000001",)))
    assert info.value.message.startswith("One or more resources provided does not exist")


@pytest.mark.parametrize("body, status, message", [
    ({}, 400, "Missing or invalid request parameters: [contentType, contentLength]."),
    ({"contentType": "PNG"}, 400, "Missing or invalid request parameters: [contentLength]."),
    ({"contentLength": 123}, 400, "Missing or invalid request parameters: [contentType]."),
    ({"contentType": "PNGr", "contentLength": 1386437, "contentMD5": "97WrSKv9ffHkDopCdB32mw=="}, 422,
     "contentType parameter is invalid. Use one of ['TIFF', 'JPG', 'PNG', 'JPEG', 'GIF', 'PDF']"),
    ({"contentType": "PNG", "contentLength": 5242881}, 422,
     "contentLength parameter is invalid. It must be between 1 and 5242880"),
])
def test_upload_destination_requests_are_validated_like_the_model_cases(http_sandbox, body, status, message):
    client = http_client(http_sandbox)
    response = httpx.post(f"{http_sandbox.url}/service/v1/documents", json=body,
                          headers={"x-amz-access-token": client.tokens.get()})
    assert response.status_code == status
    assert response.json()["errors"][0]["message"] == message


def test_cancellation_codes_follow_the_marketplace_table(http_sandbox):
    client = http_client(http_sandbox)
    job_id, _ = open_job(http_sandbox)
    with pytest.raises(SpApiUnprocessable) as info:
        client.cancel_service_job(job_id, "S20")  # India only
    assert info.value.message == f"Received invalid input reason code S20 for jobId {job_id}"
    client.cancel_service_job(job_id, "S1")
    assert client.get_service_job(job_id).status == "CANCELLED"
    with pytest.raises(SpApiUnprocessable) as info:
        client.cancel_service_job(job_id, "S1")
    assert "jobStatus CANCELLED cannot be cancelled" in info.value.message


def test_listing_needs_one_of_created_after_and_last_updated_after(http_sandbox):
    client = http_client(http_sandbox)
    headers = {"x-amz-access-token": client.tokens.get()}
    base = f"{http_sandbox.url}/service/v1/serviceJobs?marketplaceIds=ATVPDKIKX0DER"
    assert httpx.get(base, headers=headers).status_code == 400
    both = httpx.get(base + "&createdAfter=2026-01-01T00:00:00Z&lastUpdatedAfter=2026-01-01T00:00:00Z",
                     headers=headers)
    assert both.status_code == 400
    bad = httpx.get(base + "&createdAfter=TEST_CASE_400", headers=headers)
    assert bad.status_code == 400 and bad.json()["errors"][0]["message"] == "Invalid Input"
    no_market = httpx.get(f"{http_sandbox.url}/service/v1/serviceJobs?createdAfter=2026-01-01T00:00:00Z",
                          headers=headers)
    assert no_market.json()["errors"][0]["message"] == "Missing or invalid request parameters: [marketplaceIds]"


def test_calls_without_a_valid_access_token_are_forbidden(http_sandbox):
    response = httpx.get(f"{http_sandbox.url}/service/v1/serviceJobs/x", headers={"x-amz-access-token": "nope"})
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "Unauthorized"


def test_after_commit_fault_does_the_work_then_answers_500(http_sandbox):
    from techapi.retry import RetryPolicy
    from techapi.spapi.sandbox import Faults

    client = http_client(http_sandbox, retry=RetryPolicy(max_attempts=1))
    job_id, _ = open_job(http_sandbox)
    http_sandbox.sandbox.set_faults(Faults(error_after_commit_rate=1.0, operations=(plans.CANCEL_SERVICE_JOB,)))
    with pytest.raises(Exception) as info:
        client.cancel_service_job(job_id, "S1")
    assert getattr(info.value, "status", None) == 500
    assert http_sandbox.sandbox.state.jobs[job_id].status == "CANCELLED"


def test_invalid_page_token_is_a_bad_request(http_sandbox):
    from techapi.spapi.client import ServiceJobsQuery

    with pytest.raises(SpApiBadRequest):
        http_client(http_sandbox).get_service_jobs(ServiceJobsQuery(created_after=NOW), page_token="garbage")
