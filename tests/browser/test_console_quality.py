"""What every console page owes a supervisor: accessible (axe-core finds nothing
critical or serious), nothing loaded from outside the server, usable on a tablet."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import SCREENSHOTS, WAIT_MS, sign_in

pytestmark = pytest.mark.browser
BLOCKING = ("critical", "serious")


def pages(console) -> list[str]:
    """Every console page there is, with something on it."""
    job_id = console.pending[2]
    return ["/console/closures", "/console/closures?status=", "/console/closures?status=REJECTED",
            f"/console/jobs/{job_id}", "/console/jobs/no-such-job",
            "/console/board?date=2026-06-15", "/console/board", f"/console/jobs/{job_id}/reschedule",
            "/console/time-off", "/console/reports/technicians?from=2026-06-14&to=2026-06-15"]


def blocking_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in BLOCKING]


def test_axe_finds_no_critical_or_serious_violation_on_any_page(page: Page, console):
    page.goto("/console/login")
    assert blocking_violations(page) == [], "/console/login"
    sign_in(page, "tech")  # the page with its refusal
    assert blocking_violations(page) == [], "/console/login (refused)"
    sign_in(page, "boss")
    for url in pages(console):
        page.goto(url)
        assert blocking_violations(page) == [], url


def test_no_page_requests_anything_from_outside_the_server(page: Page, console):
    server = urlsplit(console.base).netloc
    hosts: list[tuple[str, str]] = []
    page.on("request", lambda request: hosts.append((urlsplit(request.url).netloc, request.url)))
    page.goto("/console/login")
    sign_in(page, "boss")
    for url in [*pages(console), "/docs"]:
        page.goto(url, wait_until="networkidle")
    expect(page.locator(".swagger-ui")).to_be_visible()  # /docs really rendered, from the package
    page.wait_for_selector(".opblock", timeout=WAIT_MS)
    loaded = {url for _, url in hosts}
    assert any(u.endswith("/console/static/console.css") for u in loaded)
    assert any("/thumbnail" in u for u in loaded) and any(u.endswith("/openapi.json") for u in loaded)
    outside = sorted({url for host, url in hosts if host != server and not url.startswith(("data:", "blob:"))})
    assert outside == []


def test_the_pages_fit_a_tablet_768_pixels_wide(browser: Browser, console):
    tablet = browser.new_context(base_url=console.base, viewport={"width": 768, "height": 1024})
    tablet.set_default_timeout(WAIT_MS)
    try:
        page = tablet.new_page()
        sign_in(page, "boss")
        for url in pages(console)[:4]:
            page.goto(url)
            assert page.evaluate("document.documentElement.scrollWidth") <= 768, url
        page.goto("/console/closures")
        for name in ("Approve", "Reject", "Sign out"):
            box = page.get_by_role("button", name=name).first.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 768, name
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.goto(f"/console/jobs/{console.pending[2]}")
        page.screenshot(path=str(SCREENSHOTS / "job-tablet.png"))
    finally:
        tablet.close()
