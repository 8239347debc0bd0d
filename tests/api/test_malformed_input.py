"""Every malformed input is a 4xx with the usual error body: never a 500, never
something the database or the worker chokes on later."""

from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import select

from techapi.edge.requests import takes_json
from techapi.evidence.models import TimeRecord
from techapi.queue.models import Task
from techapi.webhooks.models import WebhookEvent
from techapi.worker.runner import Worker
from tests import media
from tests.api.test_webhooks import SECRET, URL, deliver, started, status_of
from tests.conftest import NOW


def assert_error(response, status, words=""):
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["code"] == status and body["status"] and words in body["message"]
    return body


@pytest.fixture
def job_id(afternoon_job):
    return afternoon_job


@pytest.fixture
def tech(auth, job_id):
    return auth.headers("tech")


@pytest.fixture
def hooked(app, deps):
    deps.settings = deps.settings.with_overrides(webhook_secrets=(SECRET,))
    return app


def raw_json(client, url, text, headers=None):
    return client.post(url, data=text.encode(), content_type="application/json", headers=headers or {})


# JSON that the parser itself cannot take ----------------------------------------------------------


@pytest.mark.parametrize("text, words", [
    ('{"username": ' + "[" * 100_000 + "]" * 100_000 + ', "password": "x"}', "nested"),
    ('{"username": ' + "[" * 40 + "]" * 40 + ', "password": "x"}', "nested"),
    ('{"username": "a", "password": ' + "9" * 5000 + "}", "number"),
    ('{"username": "a", "password": 1e999}', "number"),
    ('{"username": "a", "password": NaN}', "not valid JSON"),
    ('{"username": "\\ud800", "password": "x"}', "surrogate"),
    ('{"username": "a", "\\udfff": "x"}', "surrogate"),
])
def test_json_the_parser_cannot_take_is_a_400_before_anything_reads_it(client, text, words):
    assert_error(raw_json(client, "/v1/auth/token", text), 400, words)


def test_json_nested_to_a_reasonable_depth_still_passes(client, hooked, job_id, world):
    event = started({"serviceJobId": job_id}, world.technician_ids[0])
    event["data"]["extra"] = json.loads("[" * 20 + "]" * 20)
    assert deliver(client, event, webhook_id="nested").status_code == 202


@pytest.mark.parametrize("text", ['["\\ud800"]', '{"a": {"b": ["x", "\\u0000"]}}'])
def test_bad_characters_deep_inside_a_json_body_are_found(client, tech, job_id, text):
    assert_error(raw_json(client, f"/v1/jobs/{job_id}/start", text, tech), 400)


# NUL and lone surrogates in every other place a client can put them --------------------------------


def test_nul_in_a_form_field_or_file_name_of_a_multipart_upload_is_a_400(client, tech, job_id, deps):
    for data in ({"kind": "PHOTO\x00", "file": (io.BytesIO(media.jpeg()), "a.jpg")},
                 {"kind": "PHOTO", "file": (io.BytesIO(media.jpeg()), "a\x00.jpg")}):
        response = client.post(f"/v1/jobs/{job_id}/documents", headers=tech, data=data,
                               content_type="multipart/form-data")
        assert_error(response, 400, "NUL")


def test_an_upload_without_a_token_is_refused_before_its_body_is_read(client, job_id, deps):
    # The field would be a 400 once read: a 401 shows the body was never parsed (nor spooled to disk).
    response = client.post(f"/v1/jobs/{job_id}/documents", content_type="multipart/form-data",
                           data={"kind": "PHOTO\x00", "file": (io.BytesIO(media.jpeg()), "a.jpg")})
    assert_error(response, 401)


def test_a_file_with_nul_bytes_in_its_content_is_still_accepted(client, tech, job_id):
    photo = media.jpeg()  # binary: NUL bytes are everywhere in it
    assert b"\x00" in photo
    response = client.post(f"/v1/jobs/{job_id}/documents", headers=tech, content_type="multipart/form-data",
                           data={"kind": "PHOTO", "file": (io.BytesIO(photo), "a.jpg")})
    assert response.status_code == 201


def test_nul_in_a_url_encoded_form_is_a_400(client):
    response = client.post("/v1/auth/token", data="username=a%00b&password=x",
                           content_type="application/x-www-form-urlencoded")
    assert_error(response, 400, "NUL")


def test_nul_in_a_query_parameter_is_a_400(client, tech):
    assert_error(client.get("/v1/closures?status=QUEUED%00", headers=tech), 400, "NUL")


def test_nul_in_a_header_is_a_400(client):
    assert_error(client.get("/v1/jobs", headers={"X-Anything": "a\x00b"}), 400, "NUL")


# Dates and times far away -------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1900-01-01", "2200-01-01"])
def test_a_job_list_date_out_of_range_is_a_422_naming_the_field(client, tech, value):
    body = assert_error(client.get(f"/v1/jobs?date={value}", headers=tech), 422)
    assert "date" in body["errors"]["query"]


@pytest.mark.parametrize("at", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+05:00",
                                "9999-12-31T23:59:59+00:00", "1969-12-31T23:59:59Z"])
def test_a_start_or_finish_time_out_of_range_is_a_422(client, tech, job_id, at):
    for action in ("start", "finish"):
        body = assert_error(client.post(f"/v1/jobs/{job_id}/{action}", json={"at": at}, headers=tech), 422)
        assert "at" in body["errors"]["json"]


def test_an_offline_batch_sent_in_year_9999_is_a_422(client, tech, job_id):
    response = client.post("/v1/sync/actions", headers=tech, json={
        "sentAt": "9999-12-31T23:00:00-05:00",
        "actions": [{"idempotencyKey": "k", "type": "start", "serviceJobId": job_id, "at": "2026-06-15T12:35:00Z"}]})
    assert "sentAt" in assert_error(response, 422)["errors"]["json"]


def test_a_field_app_time_in_year_9999_is_rejected_with_a_reason_not_retried(client, hooked, job_id, world, deps):
    event = started({"serviceJobId": job_id}, world.technician_ids[0], at="9999-12-31T23:00:00-05:00")
    assert deliver(client, event, webhook_id="far").status_code == 202
    assert Worker(hooked).drain(max_seconds=10) == 0
    status, result = status_of(deps, "far")
    assert status == "REJECTED" and "data.at" in result
    with deps.db.session() as session:
        assert [(t.state, t.last_error) for t in session.scalars(select(Task))] == [("DONE", None)]


# Webhook headers and bodies ---------------------------------------------------------------------


@pytest.mark.parametrize("timestamp", ["1781535600²", "١٧٨١٥٣٥٦٠٠", "1781535600\u2009"])
def test_a_webhook_timestamp_with_non_ascii_digits_is_a_400(client, hooked, timestamp):
    response = client.post(URL, data=b'{"type": "job.started"}', content_type="application/json", headers={
        "webhook-id": "msg_1", "webhook-timestamp": timestamp, "webhook-signature": "v1,AAAA"})
    assert_error(response, 400, "webhook-timestamp")


def test_a_webhook_id_with_non_ascii_characters_is_a_400(client, hooked):
    response = client.post(URL, data=b'{"type": "job.started"}', content_type="application/json", headers={
        "webhook-id": "msg_\u00e9", "webhook-timestamp": str(int(NOW.timestamp())), "webhook-signature": "v1,AAAA"})
    assert_error(response, 400, "webhook-id")


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "application/octet-stream"])
def test_a_signed_webhook_carrying_nul_is_a_400_and_stores_nothing(client, hooked, job_id, world, deps,
                                                                    content_type):
    event = started({"serviceJobId": job_id}, world.technician_ids[0])
    event["data"]["note"] = "a\x00b"
    raw = json.dumps(event).encode()  # the NUL travels as the JSON escape \u0000
    assert b"\\u0000" in raw
    from techapi.config import decode_webhook_secret
    from techapi.webhooks.signature import sign
    ts = int(NOW.timestamp())
    response = client.post(URL, data=raw, content_type=content_type, headers={
        "webhook-id": "nul", "webhook-timestamp": str(ts),
        "webhook-signature": sign(decode_webhook_secret(SECRET), "nul", ts, raw)})
    assert_error(response, 400, "NUL")
    with deps.db.session() as session:
        assert session.scalars(select(WebhookEvent)).all() == []


def test_a_signed_webhook_nested_too_deeply_is_a_400(client, hooked):
    body = b'{"type": "job.started", "data": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert_error(deliver(client, None, webhook_id="deep", body=body), 400, "nested")


# A JSON body is required where an operation takes one ------------------------------------------------


@pytest.mark.parametrize("action", ["start", "finish"])
def test_a_time_sent_without_a_json_content_type_is_a_415_and_records_nothing(client, tech, job_id, deps, action):
    response = client.post(f"/v1/jobs/{job_id}/{action}", headers=tech, data='{"at": "2026-06-15T12:35:00Z"}',
                           content_type="text/plain")
    assert_error(response, 415, "application/json")
    with deps.db.session() as session:
        assert session.scalars(select(TimeRecord)).all() == []


def test_a_time_sent_with_a_json_content_type_but_a_broken_body_is_a_400(client, tech, job_id):
    response = client.post(f"/v1/jobs/{job_id}/start", headers=tech, data='{"at": ', content_type="application/json")
    assert_error(response, 400)


def test_the_edge_knows_every_operation_that_takes_a_json_body(app):
    spec = app.extensions["techapi.api"].spec.to_dict()["paths"]
    documented = {(method.upper(), path) for path, ops in spec.items() for method, op in ops.items()
                  if isinstance(op, dict) and "application/json" in op.get("requestBody", {}).get("content", {})}
    known = {(method, re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule))
             for rule in app.url_map.iter_rules() for method in rule.methods - {"HEAD", "OPTIONS"}
             if takes_json(app.view_functions[rule.endpoint], method)}
    # The webhook reads its raw bytes (signed as sent) and takes any Content-Type.
    assert known == documented - {("POST", "/v1/webhooks/field-app")}
    assert ("POST", "/v1/jobs/{serviceJobId}/start") in known and len(known) >= 6


def test_a_start_without_any_body_still_means_now(client, tech, job_id):
    response = client.post(f"/v1/jobs/{job_id}/start", headers=tech)
    assert response.status_code == 200
    assert response.get_json()["start"]["at"] == NOW.isoformat()


# An offline batch answers per action ---------------------------------------------------------------


def replay(client, headers, actions, sent_at="2026-06-15T15:00:00Z"):
    return client.post("/v1/sync/actions", headers=headers, json={"sentAt": sent_at, "actions": actions})


def test_a_lone_surrogate_in_an_offline_key_is_a_400(client, tech, job_id):
    text = ('{"sentAt": "2026-06-15T15:00:00Z", "actions": [{"idempotencyKey": "\\ud800", "type": "start", '
            f'"serviceJobId": "{job_id}", "at": "2026-06-15T12:35:00Z"}}]}}')
    assert_error(raw_json(client, "/v1/sync/actions", text, tech), 400, "surrogate")


BAD_ACTIONS = [
    {"idempotencyKey": "bad-type", "type": "teleport", "serviceJobId": "J"},
    {"idempotencyKey": "bad-at", "type": "start", "serviceJobId": "J", "at": "9999-12-31T23:00:00-05:00"},
    {"idempotencyKey": "no-job", "type": "start", "at": "2026-06-15T12:35:00Z"},
    {"idempotencyKey": 17, "type": "start", "serviceJobId": "J", "at": "2026-06-15T12:35:00Z"},
    "not an object",
]


@pytest.mark.parametrize("bad", BAD_ACTIONS, ids=lambda b: str(b.get("idempotencyKey") if isinstance(b, dict) else b))
def test_one_bad_action_is_rejected_alone_and_the_rest_of_the_batch_applies(client, tech, job_id, deps, bad):
    actions = [{"idempotencyKey": "s", "type": "start", "serviceJobId": job_id, "at": "2026-06-15T12:35:00Z"},
               bad,
               {"idempotencyKey": "f", "type": "finish", "serviceJobId": job_id, "at": "2026-06-15T13:35:00Z"}]
    response = replay(client, tech, actions)
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert [r["index"] for r in results] == [0, 1, 2]
    assert results[1]["reason"] and results[1]["errors"]
    with deps.db.session() as session:
        assert session.get(TimeRecord, (job_id, "finish")) is not None
    again = replay(client, tech, actions).get_json()["results"]  # the phone's retry: no 5xx, nothing twice
    assert [r["status"] for r in again] == ["duplicate", "rejected", "duplicate"]


def test_a_rejected_action_echoes_what_identifies_it(client, tech, job_id):
    results = replay(client, tech, [{"idempotencyKey": "t", "type": "teleport", "serviceJobId": job_id}]
                     ).get_json()["results"]
    assert results == [{"index": 0, "idempotencyKey": "t", "type": "teleport", "serviceJobId": job_id,
                        "status": "rejected", "reason": "The action did not validate; see errors",
                        "errors": {"type": ["Must be one of: start, finish, closure."]}}]


def test_an_action_that_meets_a_server_bug_is_answered_failed_and_applies_on_the_retry(client, tech, job_id, deps):
    other = next(j["serviceJobId"] for j in client.get("/v1/jobs", headers=tech).get_json()["jobs"]
                 if j["serviceJobId"] != job_id)
    working = deps.evidence_lock

    def broken_for_other(session, service_job_id):  # a fake of the port: a bug that only one job meets
        if service_job_id == other:
            raise RuntimeError("a bug")
        return working(session, service_job_id)

    deps.evidence_lock = broken_for_other
    actions = [{"idempotencyKey": "a", "type": "start", "serviceJobId": job_id, "at": "2026-06-15T12:35:00Z"},
               {"idempotencyKey": "b", "type": "start", "serviceJobId": other, "at": "2026-06-15T14:35:00Z"},
               {"idempotencyKey": "c", "type": "finish", "serviceJobId": job_id, "at": "2026-06-15T13:35:00Z"}]
    first = replay(client, tech, actions)
    assert first.status_code == 200
    assert [r["status"] for r in first.get_json()["results"]] == ["applied", "failed", "applied"]
    deps.evidence_lock = working  # the bug fixed: the phone's retry applies what failed, and only that
    again = replay(client, tech, actions).get_json()["results"]
    assert [r["status"] for r in again] == ["duplicate", "applied", "duplicate"]


def test_a_signed_webhook_sent_as_a_form_is_a_400_not_a_signature_failure(client, hooked):
    # Checking the form must not consume the body the signature is computed over.
    response = deliver(client, None, body=b"type=job.started&serviceJobId=X",
                       content_type="application/x-www-form-urlencoded")
    assert_error(response, 400)
