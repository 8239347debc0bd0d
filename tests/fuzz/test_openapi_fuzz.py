"""Schemathesis against the OpenAPI document, as a technician, a supervisor and an
admin: no 5xx and no response outside its documented schema, for every operation;
then the hostile inputs of tests/fuzz/hostile.py against every operation, in every
role: a 4xx with the usual error body, never a 5xx.

CI runs a short, derandomised form (TECHAPI_FUZZ_EXAMPLES per operation, default
10); `bench/fuzz.py` runs the long form with random inputs (TECHAPI_FUZZ_RANDOM=1)
and reads the counts from TECHAPI_FUZZ_REPORT (one JSON line per test).
"""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.formats import STRING_FORMATS, unregister_string_format

from techapi.config import decode_webhook_secret
from techapi.webhooks.signature import sign
from tests.fuzz import hostile

EXAMPLES = int(os.environ.get("TECHAPI_FUZZ_EXAMPLES", "10"))
RANDOM = os.environ.get("TECHAPI_FUZZ_RANDOM", "") == "1"
# Logging out would end the session the other cases run with; the auth tests cover it.
SKIP = {("POST", "/v1/auth/logout")}
ROLES = ["technician", "supervisor", "admin"]
WEBHOOK_SECRET = "whsec_ZnV6emluZy1maWVsZC1hcHAtc2VjcmV0LTAx"


def report(**figures) -> None:
    if path := os.environ.get("TECHAPI_FUZZ_REPORT"):
        with open(path, "a") as out:
            out.write(json.dumps(figures) + "\n")


@pytest.fixture
def headers(request, auth, world, synced) -> dict[str, str]:
    """A logged-in user of the test's role, with jobs of its own to act on."""
    role = request.param
    if role == "technician":
        auth.user("fuzzer", role, technician_id=world.technician_ids[0])
    else:
        auth.user("fuzzer", role, stores=(world.store_ids[0],) if role == "supervisor" else ())
    return auth.headers("fuzzer")


@pytest.fixture
def far_dates():
    """Dates and times over the whole range Python can hold, as well as the usual ones."""
    saved = {name: STRING_FORMATS.get(name) for name in ("date", "date-time")}
    schemathesis.openapi.format("date-time", hostile.far_times())
    schemathesis.openapi.format("date", hostile.far_days())
    yield
    for name, strategy in saved.items():
        if strategy is None:
            unregister_string_format(name)
        else:
            schemathesis.openapi.format(name, strategy)


@pytest.mark.slow
@pytest.mark.parametrize("headers", ROLES, indirect=True)
def test_no_operation_answers_5xx_or_breaks_its_schema(app, client, headers, far_dates, request):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    # Half the cases name a job this user can see, so that they get past the 404 to what they test.
    job_id = client.get("/v1/jobs", headers=headers).get_json()["jobs"][0]["serviceJobId"]
    statuses: Counter[int] = Counter()
    calls: dict[str, int] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25

    def fuzz(operation, label: str) -> None:
        @given(case=operation.as_strategy(), real_job=st.booleans())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case, real_job):
            if real_job and "serviceJobId" in (case.path_parameters or {}):
                case.path_parameters["serviceJobId"] = job_id
            # Schemathesis's WSGI transport does not decode a compressed body (compression has its own tests).
            response = case.call(headers={**headers, "Accept-Encoding": "identity"})
            statuses[response.status_code] += 1
            calls[label] = calls.get(label, 0) + 1
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        check()

    role = request.node.callspec.id
    try:
        for operation in operations:
            if (operation.method.upper(), operation.path) not in SKIP:
                fuzz(operation, f"{operation.method.upper()} {operation.path}")
    finally:  # the counts are reported when a failure stops the run too
        total = sum(calls.values())
        print(f"\nfuzzed {len(calls)} operations with {total} requests as {role}: {dict(sorted(statuses.items()))}")
        report(kind="schemathesis", role=role, operations=len(calls), requests=total,
               statuses={str(k): v for k, v in sorted(statuses.items())})
    assert len(calls) == len(operations) - len(SKIP)


@pytest.mark.slow
@pytest.mark.parametrize("headers", ROLES, indirect=True)
def test_hostile_inputs_to_every_operation_are_4xx_with_the_error_body(app, client, deps, headers, request):
    # A job this user can see, so that requests get past the 404 to what they test.
    job_id = client.get("/v1/jobs", headers=headers).get_json()["jobs"][0]["serviceJobId"]
    deps.settings = deps.settings.with_overrides(webhook_secrets=(WEBHOOK_SECRET,))
    key = decode_webhook_secret(WEBHOOK_SECRET)
    spec = app.extensions["techapi.api"].spec.to_dict()
    statuses: Counter[int] = Counter()
    server_errors = []
    for req in hostile.requests_for(spec, {"serviceJobId": job_id, "documentId": "d1"}, deps.clock.now(),
                                    sign=lambda i, ts, body: sign(key, i, ts, body)):
        if (req.method, req.label.split(":")[0].split(" ", 1)[1]) in SKIP:
            continue
        response = client.open(req.path, method=req.method, query_string=req.query or None, data=req.data,
                               content_type=req.content_type, headers={**headers, **req.headers})
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            server_errors.append(f"{req.label}: {response.status_code}")
        elif response.status_code >= 400:
            body = response.get_json()
            assert body["code"] == response.status_code and body["message"], req.label
    role = request.node.callspec.id
    print(f"\nsent {sum(statuses.values())} hostile requests as {role}: {dict(sorted(statuses.items()))}")
    report(kind="hostile", role=role, requests=sum(statuses.values()),
           statuses={str(k): v for k, v in sorted(statuses.items())})
    assert not server_errors, "\n".join(server_errors)
