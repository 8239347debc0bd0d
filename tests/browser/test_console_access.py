"""Who may use the console, and what they may reach: in Chromium, as a person or
a hostile page would try it."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_a_technician_cannot_sign_in_and_is_told_the_console_is_for_supervisors(page: Page, console):
    sign_in(page, "tech")
    expect(page.get_by_role("alert")).to_contain_text("The console is for supervisors")
    expect(page).to_have_url(f"{console.base}/console/login")
    page.goto("/console/closures")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()  # still signed out


def test_a_wrong_password_is_refused_with_the_apis_message(page: Page, console):
    sign_in(page, "boss", password="not the password")
    expect(page.get_by_role("alert")).to_contain_text("Invalid username or password")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_the_session_cookie_is_http_only_same_site_lax_and_limited_to_the_console(page: Page, context: BrowserContext,
                                                                                 console):
    sign_in(page, "boss")
    cookie = next(c for c in context.cookies() if c["name"] == "techapi_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/console"
    assert cookie["expires"] > 0  # it expires with the API token it carries
    assert page.evaluate("document.cookie") == ""  # no script can read it


def test_a_supervisor_of_another_store_sees_none_of_it_and_cannot_reach_it(page: Page, console):
    job_id = console.pending[2]
    sign_in(page, "elsewhere")
    expect(page.get_by_text("0 closures")).to_be_visible()
    page.goto("/console/closures?status=")
    for other in console.pending:
        expect(page.locator(f"#closure-{other}")).to_have_count(0)
    documents = httpx.get(f"{console.base}/v1/jobs/{job_id}/documents", headers=console.token("boss")).json()
    doc_id = documents["documents"][0]["id"]
    for url in (f"/console/jobs/{job_id}", f"/console/jobs/{job_id}/documents/{doc_id}",
                f"/console/jobs/{job_id}/documents/{doc_id}/thumbnail"):
        assert page.request.get(url).status == 404, url
    token = page.locator("input[name=csrf_token]").first.input_value()  # their own, valid session
    for action in ("approve", "reject"):
        answer = page.request.post(f"/console/jobs/{job_id}/closure/{action}",
                                   form={"csrf_token": token, "reason": "not mine"}, max_redirects=0)
        assert answer.status == 404, action
    assert console.closure(job_id, "boss")["state"] == "PENDING_APPROVAL"


def test_an_admin_sees_every_stores_closures_but_only_a_supervisor_decides(page: Page, console):
    sign_in(page, "root")
    card = page.locator(f"#closure-{console.pending[2]}")
    expect(card).to_be_visible()
    expect(card.get_by_role("button", name="Approve")).to_have_count(0)
    expect(card).to_contain_text("A supervisor of store")


def test_a_form_posted_without_its_csrf_token_is_refused(page: Page, console):
    job_id = console.pending[2]
    sign_in(page, "boss")
    for form in ({}, {"csrf_token": "0" * 64}, {"csrf_token": ""}):
        answer = page.request.post(f"/console/jobs/{job_id}/closure/approve", form=form, max_redirects=0)
        assert answer.status == 403 and "security token" in answer.text()
    # A page on another site posting the form: the browser sends no cookie (SameSite=Lax), so no session either.
    page.set_content(f'<form method="post" action="{console.base}/console/jobs/{job_id}/closure/approve">'
                     '<button>Go</button></form>')
    page.get_by_role("button", name="Go").click()
    page.wait_for_load_state()
    assert console.closure(job_id, "boss")["state"] == "PENDING_APPROVAL"


def test_signing_out_revokes_the_token_the_cookie_carried(page: Page, context: BrowserContext, console):
    sign_in(page, "boss")
    raw = next(c["value"] for c in context.cookies() if c["name"] == "techapi_console")
    assert httpx.get(f"{console.base}/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You have signed out")
    assert httpx.get(f"{console.base}/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    context.add_cookies([{"name": "techapi_console", "value": raw, "url": f"{console.base}/console"}])
    page.goto("/console/closures")  # the old cookie, put back, opens nothing
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
