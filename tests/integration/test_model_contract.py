"""Contract: the client's requests and the sandbox's responses against Amazon's own
model (../shared/spapi/services.json), including its x-amzn-api-sandbox cases.

The model is not copied into the project; where it is absent (a user's machine)
these tests say so and are skipped.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from pathlib import Path

import httpx
import pytest
from jsonschema import Draft4Validator

from techapi.spapi import plans
from techapi.spapi.client import ServiceJobsQuery
from techapi.spapi.sandbox import Faults, routes
from techapi.spapi.sandbox.routing import Operation
from techapi.spapi.types import FulfillmentData, FulfillmentDocument
from tests import pdfs
from tests.conftest import NOW, http_client
from tests.integration.test_sandbox import open_job, tiny_png, upload

MODEL_PATH = Path(os.environ.get(
    "TECHAPI_SPAPI_MODEL", Path(__file__).resolve().parents[3] / "shared" / "spapi" / "services.json"))
pytestmark = [pytest.mark.skipif(not MODEL_PATH.exists(), reason=f"SP-API model not found at {MODEL_PATH}"),
              pytest.mark.db_independent]  # CI runs it once, in the SQLite stage


@pytest.fixture(scope="module")
def model() -> dict:
    return json.loads(MODEL_PATH.read_text())


def operation(model: dict, operation_id: str) -> tuple[str, str, dict]:
    for path, ops in model["paths"].items():
        for method, op in ops.items():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return path, method.upper(), op
    raise KeyError(operation_id)


def validator(model: dict, schema: dict) -> Draft4Validator:
    return Draft4Validator({**schema, "definitions": model["definitions"]})


def assert_response_matches(model: dict, operation_id: str, response: httpx.Response) -> None:
    _, _, op = operation(model, operation_id)
    spec = op["responses"][str(response.status_code)]
    if response.status_code == 204:
        assert not response.content
        return
    errors = sorted(validator(model, spec["schema"]).iter_errors(response.json()), key=str)
    assert not errors, [e.message for e in errors]
    for header in spec.get("headers", {}):
        assert header in response.headers, f"{operation_id} {response.status_code} lacks {header}"


class Recorder:
    """httpx event hook keeping every request the client sends."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> None:
        request.read()
        self.requests.append(request)


def match_operation(model: dict, request: httpx.Request) -> dict:
    for path, ops in model["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"
        op = ops.get(request.method.lower())
        if op and re.match(pattern, request.url.path):
            return op
    raise AssertionError(f"{request.method} {request.url.path} is not in the model")


def assert_request_matches(model: dict, request: httpx.Request) -> None:
    op = match_operation(model, request)
    params = {p["name"]: p for p in op.get("parameters", [])}
    query = dict(request.url.params.multi_items())
    for name, value in query.items():
        assert name in params and params[name]["in"] == "query", f"{name} not a query parameter"
        spec = params[name]
        if spec.get("type") == "array":
            items = value.split(",")  # csv, the default collectionFormat
            assert len(items) <= spec.get("maxItems", 10**6)
            for item in items:
                if "enum" in spec["items"]:
                    assert item in spec["items"]["enum"]
        elif "pattern" in spec:
            assert re.match(spec["pattern"], value)
    for name, spec in params.items():
        if spec.get("required") and spec["in"] == "query":
            assert name in query, f"required query parameter {name} missing"
        if spec["in"] == "body":
            body = json.loads(request.content)
            errors = list(validator(model, spec["schema"]).iter_errors(body))
            assert not errors, [e.message for e in errors]


def test_each_sandbox_operation_sits_at_the_model_method_and_path_and_has_a_usage_plan(model):
    served = [route for route in routes.ROUTES if isinstance(route, Operation)]
    assert len(routes.BY_NAME) == len(routes.ROUTES), "two routes share a name"
    assert sorted(route.name for route in served) == sorted(plans.USAGE_PLANS)
    for route in served:
        path, method, _ = operation(model, route.name)
        assert (route.method, re.sub(r"<[^>]+>", "{}", route.rule)) == (method, re.sub(r"\{[^}]+\}", "{}", path))


def test_every_request_the_client_sends_is_valid_under_the_model(model, http_sandbox):
    client = http_client(http_sandbox)
    recorder = Recorder()
    client.http.event_hooks["request"].append(recorder)
    job_id, appt = open_job(http_sandbox)
    list(client.iter_service_jobs(ServiceJobsQuery(
        created_after=NOW.replace(month=1), statuses=["NOT_SERVICED"], schedule_start=NOW.replace(hour=0),
        schedule_end=NOW.replace(hour=23), page_size=7)))
    client.get_service_job(job_id)
    dest, _, sha = upload(client, tiny_png())
    tech = http_sandbox.sandbox.state.jobs[job_id].payload["appointments"][0]["assignedTechnicians"][0]
    client.set_appointment_fulfillment_data(job_id, appt, FulfillmentData(
        start=NOW.replace(hour=12), end=NOW.replace(hour=13), resource_ids=(tech["technicianId"],),
        documents=(FulfillmentDocument(dest.upload_destination_id, sha),)))
    client.complete_service_job(job_id)
    other, _ = next((j.job_id, 0) for j in http_sandbox.sandbox.state.jobs.values() if j.status == "NOT_SERVICED")
    client.cancel_service_job(other, "S3")
    spapi_requests = [r for r in recorder.requests if r.url.path.startswith("/service/")]
    assert len(spapi_requests) >= 7
    for request in spapi_requests:
        assert_request_matches(model, request)
        assert request.headers["x-amz-access-token"].startswith("Atza|")
    md5 = json.loads(next(r for r in spapi_requests if r.url.path.endswith("/documents")).content)["contentMD5"]
    assert md5 == __import__("base64").b64encode(hashlib.md5(tiny_png()).digest()).decode()


def test_sandbox_responses_match_the_model_schemas(model, http_sandbox):
    client = http_client(http_sandbox)
    headers = {"x-amz-access-token": client.tokens.get()}
    base = http_sandbox.url
    job_id, appt = open_job(http_sandbox)
    checks = [
        ("getServiceJobs", httpx.get(f"{base}/service/v1/serviceJobs?marketplaceIds=ATVPDKIKX0DER"
                                     "&createdAfter=2026-01-01T00:00:00Z&pageSize=3", headers=headers)),
        ("getServiceJobs", httpx.get(f"{base}/service/v1/serviceJobs?createdAfter=x", headers=headers)),
        ("getServiceJobByServiceJobId", httpx.get(f"{base}/service/v1/serviceJobs/{job_id}", headers=headers)),
        ("getServiceJobByServiceJobId", httpx.get(f"{base}/service/v1/serviceJobs/nope", headers=headers)),
        ("createServiceDocumentUploadDestination", httpx.post(
            f"{base}/service/v1/documents", headers=headers,
            json={"contentType": "PNG", "contentLength": 10, "contentMD5": "97WrSKv9ffHkDopCdB32mw=="})),
        ("createServiceDocumentUploadDestination", httpx.post(f"{base}/service/v1/documents", headers=headers,
                                                              json={})),
        ("setAppointmentFulfillmentData", httpx.put(
            f"{base}/service/v1/serviceJobs/{job_id}/appointments/{appt}/fulfillment", headers=headers,
            json={"fulfillmentTime": {"startTime": "2026-06-15T10:00:00Z", "endTime": "2026-06-15T11:00:00Z"}})),
        ("setAppointmentFulfillmentData", httpx.put(
            f"{base}/service/v1/serviceJobs/{job_id}/appointments/{appt}/fulfillment", headers=headers,
            json={"fulfillmentTime": {"startTime": "2026-06-15T10:00:00+01:00"}})),
        ("completeServiceJobByServiceJobId", httpx.put(f"{base}/service/v1/serviceJobs/{job_id}/completions",
                                                       headers=headers)),
        ("cancelServiceJobByServiceJobId", httpx.put(
            f"{base}/service/v1/serviceJobs/{job_id}/cancellations?cancellationReasonCode=S1", headers=headers)),
        ("cancelServiceJobByServiceJobId", httpx.put(
            f"{base}/service/v1/serviceJobs/{job_id}/cancellations?cancellationReasonCode=S1", headers=headers)),
    ]
    statuses = [(op, r.status_code) for op, r in checks]
    assert statuses == [
        ("getServiceJobs", 200), ("getServiceJobs", 400), ("getServiceJobByServiceJobId", 200),
        ("getServiceJobByServiceJobId", 404), ("createServiceDocumentUploadDestination", 200),
        ("createServiceDocumentUploadDestination", 400), ("setAppointmentFulfillmentData", 204),
        ("setAppointmentFulfillmentData", 422), ("completeServiceJobByServiceJobId", 422),
        ("cancelServiceJobByServiceJobId", 200), ("cancelServiceJobByServiceJobId", 422),
    ]
    for op, response in checks:
        assert_response_matches(model, op, response)


def _static_cases(model: dict, operation_id: str):
    _, _, op = operation(model, operation_id)
    for status, spec in op["responses"].items():
        for case in (spec.get("x-amzn-api-sandbox") or {}).get("static", []):
            yield int(status), case["request"]["parameters"], case["response"]


def test_upload_destination_cases_from_the_model_get_the_same_status_and_message(model, http_sandbox):
    headers = {"x-amz-access-token": http_client(http_sandbox).tokens.get()}
    replayed = 0
    for status, params, expected in _static_cases(model, "createServiceDocumentUploadDestination"):
        response = httpx.post(f"{http_sandbox.url}/service/v1/documents", headers=headers,
                              json=params["body"]["value"])
        assert response.status_code == status
        if status != 200:
            assert response.json()["errors"][0]["message"] == expected["errors"][0]["message"]
        replayed += 1
    assert replayed == 5


def fulfillment_url(server, job_id: str, appt: str) -> str:
    return f"{server.url}/service/v1/serviceJobs/{job_id}/appointments/{appt}/fulfillment"


def test_fulfillment_time_cases_from_the_model_get_exactly_its_answer(model, http_sandbox):
    """Replays the model's 422 cases whose body is only a fulfillmentTime, on a
    real job of ours: the same status and the same error list, one error where
    the model has one (presence, then format, future, order, and UTC last)."""
    headers = {"x-amz-access-token": http_client(http_sandbox).tokens.get()}
    job_id, appt = open_job(http_sandbox)
    replayed = 0
    for status, params, expected in _static_cases(model, "setAppointmentFulfillmentData"):
        body = copy.deepcopy(params["body"]["value"])
        if status != 422 or set(body) != {"fulfillmentTime"}:
            continue
        response = httpx.put(fulfillment_url(http_sandbox, job_id, appt), headers=headers, json=body)
        assert (response.status_code, response.json()) == (422, expected), body
        replayed += 1
    assert replayed == 7


def test_the_models_malware_cases_are_what_a_document_carrying_eicar_gets(model, http_sandbox):
    """Cases #23 and #28 (Amazon's malware check), with the sandbox's magic
    upload destination replaced by a real upload of a PDF carrying the EICAR
    test string, and the resources by the job's own technician."""
    client = http_client(http_sandbox)
    headers = {"x-amz-access-token": client.tokens.get()}
    job_id, appt = open_job(http_sandbox)
    tech = http_sandbox.sandbox.state.jobs[job_id].payload["appointments"][0]["assignedTechnicians"][0]
    dest, put, sha = upload(client, pdfs.infected(), "PDF")
    assert put.status_code == 200
    cases = [(params["body"]["value"], expected)
             for status, params, expected in _static_cases(model, "setAppointmentFulfillmentData")
             if status == 422 and "malware" in json.dumps(expected)]
    assert len(cases) == 2
    for body, expected in cases:
        body = copy.deepcopy(body)
        body["fulfillmentDocuments"] = [{"uploadDestinationId": dest.upload_destination_id, "contentSha256": sha}]
        if "appointmentResources" in body:
            body["appointmentResources"] = [{"resourceId": tech["technicianId"]}]
        response = httpx.put(fulfillment_url(http_sandbox, job_id, appt), headers=headers, json=body)
        assert (response.status_code, response.json()) == (422, expected), body
    assert http_sandbox.sandbox.state.jobs[job_id].fulfillment == {}  # nothing was set


def test_every_error_status_of_set_fulfillment_data_is_a_bare_error_list(model, http_sandbox):
    client = http_client(http_sandbox)
    job_id, appt = open_job(http_sandbox)
    url = fulfillment_url(http_sandbox, job_id, appt)
    body = {"fulfillmentTime": {"startTime": "2026-06-15T10:00:00Z", "endTime": "2026-06-15T11:00:00Z"}}
    headers = {"x-amz-access-token": client.tokens.get()}
    answers = [httpx.put(url, json=body, headers={"x-amz-access-token": "Atza|forged"}),
               httpx.put(url, json={}, headers=headers)]
    script = [429, 500, 503]
    http_sandbox.sandbox.set_faults(Faults(script={"setAppointmentFulfillmentData": list(script)}))
    answers += [httpx.put(url, json=body, headers=headers) for _ in script]
    assert [r.status_code for r in answers] == [403, 400, *script]
    for response in answers:
        assert isinstance(response.json(), list), response.json()
        assert_response_matches(model, "setAppointmentFulfillmentData", response)
