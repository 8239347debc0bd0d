"""The console in a real browser: `techapi serve` as an operator runs it, against
the SP-API sandbox over HTTP (so `techapi worker --drain` and the test see the
same Amazon), driven by Debian's headless Chromium through Playwright.

One server for the whole package: starting it, syncing and bringing closures to
the supervisor takes several seconds. Each test uses jobs of its own."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from techapi import create_app
from techapi.auth.services import create_user
from techapi.clock import FrozenClock, SystemClock
from techapi.config import load_settings
from techapi.jobs.sync import sync_day
from techapi.spapi.sandbox import Sandbox, SandboxConfig, SandboxServer
from tests import pdfs
from tests.conftest import NOW, PASSWORD
from tests.fullrun import FullRun
from tests.integration.test_closure_pipeline import environment

# The README's screenshots are refreshed with TECHAPI_SCREENSHOTS=docs/screenshots; otherwise the
# tests still take them (a page that cannot be drawn fails) but keep them out of the work tree.
SCREENSHOTS = Path(os.environ.get("TECHAPI_SCREENSHOTS") or Path(tempfile.gettempdir()) / "techapi-screenshots")

CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 10_000  # every Playwright wait is bounded


@dataclass
class Console:
    """The running server, its sandbox, and the closures waiting for the supervisor."""

    base: str
    run: FullRun
    sandbox: Sandbox
    pending: list[str] = field(default_factory=list)  # job IDs, in the order they were asked for

    def token(self, username: str) -> dict[str, str]:
        return FullRun.login(self.base, username)

    def closure(self, job_id: str, username: str = "tech") -> dict:
        return httpx.get(f"{self.base}/v1/jobs/{job_id}/closure", headers=self.token(username)).json()


def photo(i: int) -> bytes:
    """A 640x480 JPEG that looks like something in a screenshot (gradients, not a flat colour)."""
    size = (640, 480)
    bands = (Image.linear_gradient("L").rotate(90 * i).resize(size), Image.radial_gradient("L").resize(size),
             Image.new("L", size, 80 + 70 * i))
    out = io.BytesIO()
    Image.merge("RGB", bands).save(out, "JPEG", quality=85)
    return out.getvalue()


def _bring_to_closure(base: str, tech: dict[str, str], job: dict, photos: int) -> None:
    """What the technician's phone does: times inside the appointment, photos, a POA, then closure."""
    job_id, start = job["serviceJobId"], datetime.fromisoformat(job["appointment"]["start"]) + timedelta(minutes=5)
    for action, at in (("start", start), ("finish", start + timedelta(minutes=40))):
        answer = httpx.post(f"{base}/v1/jobs/{job_id}/{action}", json={"at": at.isoformat()}, headers=tech)
        assert answer.status_code == 200, answer.text
    uploads = [("PHOTO", f"photo{i}.jpg", photo(i)) for i in range(photos)] + [("POA", "poa.pdf", pdfs.signed())]
    for kind, name, data in uploads:
        answer = httpx.post(f"{base}/v1/jobs/{job_id}/documents", headers=tech, data={"kind": kind},
                            files={"file": (name, io.BytesIO(data))}, timeout=30)
        assert answer.status_code == 201, answer.text
    answer = httpx.post(f"{base}/v1/jobs/{job_id}/closure", headers=tech)
    assert answer.status_code == 200 and answer.json()["state"] == "PENDING_APPROVAL", answer.text


def _set_up(env: dict[str, str], world) -> None:
    """Schema, accounts and the day's jobs, in this process (a CLI process per step costs seconds)."""
    app = create_app(load_settings(environ=env), clock=SystemClock(), require_current_schema=False)
    deps = app.extensions["techapi"]
    try:
        deps.db.upgrade()
        accounts = (("tech", "technician", world.technician_ids[0], []),  # the first technician of store 0
                    ("boss", "supervisor", None, [world.store_ids[0]]),
                    ("elsewhere", "supervisor", None, [world.store_ids[1]]),
                    ("root", "admin", None, []))
        with deps.db.session() as session:
            for username, role, technician_id, stores in accounts:
                create_user(session, deps.passwords, deps.clock, username, role, PASSWORD,
                            technician_id=technician_id, stores=stores)
        sync_day(deps, NOW.date())
    finally:
        deps.db.dispose()


@pytest.fixture(scope="package")
def console(tmp_path_factory, empty_database_url) -> Iterator[Console]:
    tmp_path = tmp_path_factory.mktemp("console")
    box = Sandbox.demo(NOW.date(), "UTC", "ATVPDKIKX0DER", clock=FrozenClock(NOW), config=SandboxConfig())
    with SandboxServer(box) as server:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("TECHAPI_")},
               **environment(tmp_path, empty_database_url(), server.url,
                             TECHAPI_STORAGE_URL=f"file://{tmp_path}/blobs"),
               # argon2 at its cheapest: every test signs in
               "TECHAPI_ARGON2_TIME_COST": "1", "TECHAPI_ARGON2_MEMORY_KIB": "1024"}
        _set_up(env, box.world)
        run = FullRun(tmp_path, env)
        with run.served() as base:
            console = Console(base, run, box)
            tech = console.token("tech")
            jobs = httpx.get(f"{base}/v1/jobs", params={"date": NOW.date().isoformat()}, headers=tech).json()["jobs"]
            open_jobs = [j for j in jobs if j["status"] == "NOT_SERVICED" and j["appointment"]]
            assert len(open_jobs) >= 4, jobs
            for job in open_jobs[:4]:
                _bring_to_closure(base, tech, job, photos=2)
                console.pending.append(job["serviceJobId"])
            yield console


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium chromium-driver (.ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser, console: Console) -> Iterator[BrowserContext]:
    made = browser.new_context(base_url=console.base, viewport={"width": 1280, "height": 900})
    made.set_default_timeout(WAIT_MS)
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/console/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
