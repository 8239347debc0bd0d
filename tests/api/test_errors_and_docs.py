"""Every error is JSON in one shape; the OpenAPI document matches the code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from techapi.openapi import spec_json

ROOT = Path(__file__).resolve().parents[2]


def assert_error_shape(response, status):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["code"] == status and body["status"] and body["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_malformed_json_is_a_400(client):
    response = client.post("/v1/auth/token", data="{not json", content_type="application/json")
    body = assert_error_shape(response, 400)
    assert body["message"] == "The request body is not valid JSON"


def test_schema_violations_are_422_with_field_errors(client):
    response = client.post("/v1/auth/token", json={"username": ""})
    body = assert_error_shape(response, 422)
    assert set(body["errors"]["json"]) == {"username", "password"}


def test_wrong_types_are_422_not_500(client):
    response = client.post("/v1/auth/token", json={"username": ["a"], "password": {"x": 1}})
    assert_error_shape(response, 422)
    response = client.post("/v1/auth/token", json=["not", "an", "object"])
    assert_error_shape(response, 422)


def test_a_non_json_body_is_a_415(client):
    response = client.post("/v1/auth/token", data="username=a&password=b",
                           content_type="application/x-www-form-urlencoded")
    assert_error_shape(response, 415)


def test_missing_token_is_a_401_with_a_bearer_challenge(client):
    response = client.get("/v1/jobs")
    assert_error_shape(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_routes_and_methods_answer_json(client):
    assert_error_shape(client.get("/v1/nothing-here"), 404)
    response = client.delete("/v1/auth/token")
    assert_error_shape(response, 405)
    assert "POST" in response.headers["Allow"]


def test_an_oversized_body_is_a_413(client):
    response = client.post("/v1/auth/token", data=b"x" * (2 * 1024 * 1024), content_type="application/json")
    assert_error_shape(response, 413)


def test_an_unexpected_failure_is_a_json_500_without_internals(app):
    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    body = assert_error_shape(response, 500)
    assert "secret internals" not in json.dumps(body)


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_readiness_fails_when_the_database_is_gone(tmp_path, clock, sandbox):
    from techapi import create_app
    from techapi.config import load_settings

    settings = load_settings(environ={"TECHAPI_DATABASE_URL": f"sqlite:///{tmp_path}/nodir/../x/y.db",
                                      "TECHAPI_INSTANCE_PATH": str(tmp_path)})
    app = create_app(settings, clock=clock, sandbox=sandbox, require_current_schema=False)
    db = app.extensions["techapi"].db
    db.engine.dispose()
    (tmp_path / "x").rename(tmp_path / "gone")
    (tmp_path / "x").write_text("a file where a directory was")
    assert_error_shape(app.test_client().get("/readyz"), 503)


def test_openapi_and_swagger_ui_are_served(client):
    spec = client.get("/openapi.json")
    assert spec.status_code == 200 and spec.get_json()["info"]["title"] == "techapi"
    docs = client.get("/docs")
    assert docs.status_code == 200 and b"swagger-ui" in docs.data


def test_committed_openapi_document_matches_the_code(app):
    committed = (ROOT / "openapi" / "openapi.json").read_text()
    assert committed == spec_json(app), "openapi/openapi.json is stale: run `techapi openapi export`"


def test_every_operation_documents_its_errors_and_security(app):
    spec = json.loads(spec_json(app))
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            assert op.get("summary"), f"{method} {path} has no summary"
            if path.startswith("/v1/") and path != "/v1/auth/token" and not path.startswith("/v1/webhooks/"):
                assert op.get("security") == [{"bearerAuth": []}], f"{method} {path}"
                assert "401" in op["responses"]
            if "application/json" in op.get("requestBody", {}).get("content", {}):
                assert {"400", "415"} <= set(op["responses"]), f"{method} {path}: the edge's answers to a bad body"


@pytest.mark.parametrize("method, url, body", [
    ("get", "/v1/jobs/abc%00def", None),
    ("get", "/v1/jobs?date=2026-06-15%00", None),
    ("post", "/v1/auth/token", '{"username": "a\\u0000b", "password": "x"}'),
])
def test_nul_characters_are_a_400_not_a_database_error(client, method, url, body):
    response = getattr(client, method)(url, data=body, content_type="application/json")
    assert_error_shape(response, 400)
