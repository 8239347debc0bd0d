"""Schemathesis against the OpenAPI document, authenticated as a technician: no
5xx and no response outside its documented schema, for every operation.

CI runs a short form (TECHAPI_FUZZ_EXAMPLES per operation, default 10);
`bench/fuzz.sh` runs the long form.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

EXAMPLES = int(os.environ.get("TECHAPI_FUZZ_EXAMPLES", "10"))
# Logging out would end the session the other cases run with; the auth tests cover it.
SKIP = {("POST", "/v1/auth/logout")}


@pytest.mark.slow
def test_no_operation_answers_5xx_or_breaks_its_schema(app, auth, world, synced):
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    headers = auth.headers("tech")
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    calls: dict[str, int] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    def fuzz(operation, label: str) -> None:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])
            calls[label] = calls.get(label, 0) + 1

        check()

    for operation in operations:
        if (operation.method.upper(), operation.path) not in SKIP:
            fuzz(operation, f"{operation.method.upper()} {operation.path}")
    total = sum(calls.values())
    print(f"\nfuzzed {len(calls)} operations with {total} requests")
    assert len(calls) == len(operations) - len(SKIP)
    os.environ.get("TECHAPI_FUZZ_REPORT") and open(os.environ["TECHAPI_FUZZ_REPORT"], "w").write(
        f"{len(calls)} operations, {total} requests\n")
