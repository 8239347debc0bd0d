"""The console's sign-in and forms over Flask's test client: the same accounts,
lockout and token lifetime as the API, CSRF on every form, no open redirect."""

from __future__ import annotations

import io
import re

import pytest

from tests import pdfs
from tests.conftest import PASSWORD


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def console_login(client, username: str, password: str = PASSWORD, **extra: str):
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    return client.post("/console/login", data={"username": username, "password": password, "csrf_token": token,
                                               **extra})


@pytest.fixture
def boss(auth, world):
    return auth.user("boss", "supervisor", stores=(world.store_ids[0],))


def test_console_failures_count_towards_the_apis_lockout_and_the_lockout_holds_in_the_console(client, boss):
    for _ in range(5):
        assert console_login(client, "boss", "wrong password").status_code == 401
    locked = console_login(client, "boss")  # the right password, too late
    assert locked.status_code == 429 and "Too many failed logins" in locked.get_data(as_text=True)
    assert client.post("/v1/auth/token", json={"username": "boss", "password": PASSWORD}).status_code == 429


def test_the_session_ends_when_its_api_token_expires(client, clock, boss, settings):
    assert console_login(client, "boss").status_code == 303
    assert client.get("/console/closures").status_code == 200
    clock.advance(seconds=settings.token_ttl_seconds + 1)
    expired = client.get("/console/closures")
    assert expired.status_code == 303 and expired.headers["Location"].startswith("/console/login")


def test_the_cookie_is_secure_over_https_and_never_readable_by_scripts(app, boss):
    client = app.test_client()
    client.get("/console/login", base_url="https://techapi.example")
    page = client.get("/console/login", base_url="https://techapi.example").get_data(as_text=True)
    answer = client.post("/console/login", base_url="https://techapi.example",
                         data={"username": "boss", "password": PASSWORD, "csrf_token": csrf_of(page)})
    cookie = next(c for c in answer.headers.getlist("Set-Cookie") if c.startswith("techapi_console="))
    assert {"Secure", "HttpOnly", "SameSite=Lax", "Path=/console"} <= {p.strip() for p in cookie.split(";")}


def test_the_sign_in_form_has_a_csrf_token_too(client, boss):
    client.get("/console/login")
    refused = client.post("/console/login", data={"username": "boss", "password": PASSWORD})
    assert refused.status_code == 403
    assert client.get("/console/closures").status_code == 303  # not signed in


@pytest.mark.parametrize("target", ["//evil.example/console", "https://evil.example/console", "/v1/me",
                                    "/console\\@evil.example"])
def test_after_signing_in_the_console_redirects_only_inside_itself(client, boss, target):
    answer = console_login(client, "boss", next=target)
    assert answer.status_code == 303 and answer.headers["Location"] == "/console/closures"


def test_a_page_inside_the_console_is_where_signing_in_leads(client, boss):
    answer = console_login(client, "boss", next="/console/closures?status=FAILED")
    assert answer.headers["Location"] == "/console/closures?status=FAILED"


def test_console_pages_load_nothing_from_elsewhere_and_are_not_cached(client, boss):
    console_login(client, "boss")
    page = client.get("/console/closures")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert not re.search(r'(src|href)="(https?:)?//', page.get_data(as_text=True))


def test_an_unknown_status_filter_is_a_clear_422_page(client, boss):
    console_login(client, "boss")
    answer = client.get("/console/closures?status=DONE")
    assert answer.status_code == 422 and "Unknown closure status" in answer.get_data(as_text=True)


def test_the_queue_says_when_a_devices_clock_was_corrected_and_what_the_device_said(client, auth, afternoon_job,
                                                                                     world, boss):
    tech = auth.headers("tech")
    # The server's clock says 15:00 UTC; the device's says 17:00 UTC: its times are moved back two hours.
    replay = client.post("/v1/sync/actions", headers=tech, json={"sentAt": "2026-06-15T19:00:00+02:00", "actions": [
        {"idempotencyKey": "k-1", "type": "start", "serviceJobId": afternoon_job, "at": "2026-06-15T16:40:00+02:00"},
        {"idempotencyKey": "k-2", "type": "finish", "serviceJobId": afternoon_job, "at": "2026-06-15T17:20:00+02:00"},
    ]})
    assert replay.get_json()["corrected"] is True
    poa = client.post(f"/v1/jobs/{afternoon_job}/documents", headers=tech, content_type="multipart/form-data",
                      data={"kind": "POA", "file": (io.BytesIO(pdfs.signed()), "poa.pdf")})
    assert poa.status_code == 201
    assert client.post(f"/v1/jobs/{afternoon_job}/closure", headers=tech).status_code == 200

    console_login(client, "boss")
    page = client.get("/console/closures").get_data(as_text=True)
    card = page.split(f'id="closure-{afternoon_job}"', 1)[1].split("</article>", 1)[0]
    assert "Mon 15 Jun 2026, 12:40" in card and "Mon 15 Jun 2026, 13:20" in card  # the corrected times
    assert card.count("clock corrected") == 2
    assert "device said 2026-06-15T16:40:00+02:00" in card
