"""The supervisor's closure queue in Chromium: signing in, the evidence in view
(thumbnails that really decode), deciding, and what the technician then sees."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SCREENSHOTS, sign_in

pytestmark = pytest.mark.browser
DECODED = ("imgs => imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0 "
           "&& Math.max(i.naturalWidth, i.naturalHeight) <= 320)")  # decoded, and a thumbnail


def test_a_supervisor_signs_in_and_sees_the_pending_closures_with_their_photos(page: Page, console):
    sign_in(page, "boss")
    expect(page).to_have_url(f"{console.base}/console/closures")
    expect(page.get_by_role("heading", name="Closures to decide")).to_be_visible()
    for job_id in console.pending[2:]:  # the two no other test decides on
        card = page.locator(f"#closure-{job_id}")
        expect(card).to_be_visible()
        expect(card.get_by_role("button", name="Approve")).to_be_visible()
        expect(card.get_by_label("Reason")).to_be_visible()
        expect(card.get_by_role("link", name="POA")).to_be_visible()
        photos = card.locator(".thumbs img")
        expect(photos).to_have_count(2)
        page.wait_for_function(f"() => ({DECODED})([...document.querySelectorAll('#closure-{job_id} .thumbs img')])",
                               timeout=10_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "closures.png"), full_page=False)


def test_rejecting_asks_for_a_reason_which_the_technicians_api_then_shows(page: Page, console):
    job_id = console.pending[0]
    sign_in(page, "boss")
    card = page.locator(f"#closure-{job_id}")
    card.get_by_label("Reason").fill("The second photo does not show the mounted bracket")
    card.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("status")).to_contain_text(f"Rejected the closure of job {job_id}")
    expect(page.locator(f"#closure-{job_id}")).to_have_count(0)  # no longer pending

    closure = console.closure(job_id, "tech")
    assert closure["state"] == "REJECTED"
    assert closure["rejectionReason"] == "The second photo does not show the mounted bracket"
    page.get_by_label("Status").select_option("REJECTED")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(f"#closure-{job_id}")).to_contain_text("The second photo does not show the mounted bracket")


def test_approving_sends_the_closure_to_amazon_and_the_sandbox_shows_the_job_completed(page: Page, console):
    job_id = console.pending[1]
    sign_in(page, "boss")
    page.locator(f"#closure-{job_id}").get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text(f"Approved the closure of job {job_id}")
    assert console.closure(job_id, "boss")["state"] in ("QUEUED", "COMPLETED")

    console.run.run("worker", "--drain")
    # `techapi serve` runs a worker too: the closure may be in its hands; wait for it, bounded.
    deadline = time.monotonic() + 30
    while console.sandbox.state.jobs[job_id].status != "COMPLETED" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert console.sandbox.state.jobs[job_id].status == "COMPLETED"
    assert console.sandbox.state.jobs[job_id].completions == 1
    page.goto("/console/closures?status=COMPLETED")
    expect(page.locator(f"#closure-{job_id}")).to_be_visible()


def test_a_rejection_without_a_reason_is_refused_by_the_page_and_by_the_server(page: Page, console):
    job_id = console.pending[3]
    sign_in(page, "boss")
    card = page.locator(f"#closure-{job_id}")
    card.get_by_role("button", name="Reject").click()  # the browser asks for the reason first
    assert card.get_by_label("Reason").evaluate("el => el.validity.valueMissing")
    token = page.locator("input[name=csrf_token]").first.input_value()
    answer = page.request.post(f"/console/jobs/{job_id}/closure/reject", form={"csrf_token": token, "reason": ""})
    assert answer.ok and "Give a reason" in answer.text()  # redirected back, with why
    assert console.closure(job_id, "boss")["state"] == "PENDING_APPROVAL"


def test_the_job_page_shows_the_job_and_its_history_in_time_order(page: Page, console):
    job_id = console.pending[2]
    sign_in(page, "boss")
    page.locator(f"#closure-{job_id}").get_by_role("link").first.click()
    expect(page).to_have_url(f"{console.base}/console/jobs/{job_id}")
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    actions = page.locator("table tbody tr td:nth-child(2)").all_inner_texts()
    assert actions[:2] == ["start.recorded", "finish.recorded"]
    assert actions.count("document.added") == 3 and "closure.requested" in actions
    times = page.locator("table tbody tr td:first-child time").evaluate_all("ts => ts.map(t => t.dateTime)")
    assert len(times) == len(actions) and times == sorted(times)  # oldest first
    expect(page.locator("main")).to_contain_text(job_id)
    page.wait_for_function(f"() => ({DECODED})([...document.querySelectorAll('.thumbs img')])", timeout=10_000)
    full = page.locator(".thumbs a").first.get_attribute("href")
    answer = page.request.get(full)
    assert answer.ok and answer.headers["content-type"] == "image/jpeg"
    assert answer.headers["x-content-type-options"] == "nosniff"
