"""/metrics is off the public API: 404 until TECHAPI_METRICS_TOKEN is set, then
only for a scraper that sends that token; the worker's metrics port is unchanged."""

from __future__ import annotations

import pytest

TOKEN = "scraper-token-0123456789"


def test_metrics_do_not_exist_for_the_public_by_default(client, auth):
    auth.user("root", "admin")
    for headers in ({}, auth.headers("root"), {"Authorization": f"Bearer {TOKEN}"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 404
        assert response.get_json()["code"] == 404 and b"techapi_" not in response.data


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token-0123456789", f"Basic {TOKEN}", "Bearer ",
                                          f"Bearer {TOKEN}x", "Bearer t\u00f6ken"])
def test_with_a_token_configured_metrics_need_exactly_that_token(client, deps, authorization):
    deps.settings = deps.settings.with_overrides(metrics_token=TOKEN)
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert b"techapi_" not in response.data


def test_a_user_token_is_not_a_metrics_token(client, deps, auth):
    deps.settings = deps.settings.with_overrides(metrics_token=TOKEN)
    auth.user("root", "admin")
    assert client.get("/metrics", headers=auth.headers("root")).status_code == 401


def test_the_scraper_gets_the_metrics_with_the_token(client, deps):
    deps.settings = deps.settings.with_overrides(metrics_token=TOKEN)
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and response.content_type.startswith("text/plain")
    assert "techapi_queue_tasks" in response.get_data(as_text=True) or \
        "techapi_http_request_duration_seconds" in response.get_data(as_text=True)
