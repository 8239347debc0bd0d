"""The supervisor's closure queue in Chromium: signing in, the evidence in view
(thumbnails that really decode), deciding, and what the technician then sees."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DECODED = "imgs => imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0)"


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
