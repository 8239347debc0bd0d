"""Shared fixtures: a real database (SQLite, or PostgreSQL when
TECHAPI_TEST_DATABASE_URL is set), the sandbox in-process and over HTTP."""

from __future__ import annotations

import logging
import os
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from techapi import create_app
from techapi.auth.services import create_user
from techapi.cli import main
from techapi.clock import FrozenClock
from techapi.config import Secret, Settings, load_settings
from techapi.db import Base, Database
from techapi.jobs.sync import sync_day
from techapi.retry import RetryPolicy
from techapi.spapi.client import SpApiClient
from techapi.spapi.lwa import LwaCredentials, LwaTokenProvider
from techapi.spapi.ratelimit import LocalRateLimiter
from techapi.spapi.sandbox import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
    Sandbox,
    SandboxConfig,
    SandboxServer,
)
from techapi.spapi.sandbox.seed import make_job

logging.getLogger("werkzeug").setLevel(logging.WARNING)

# A fixed "now": Monday 15 June 2026, 15:00 UTC.
NOW = datetime(2026, 6, 15, 15, 0, tzinfo=UTC)
TEST_DATABASE_URL = os.environ.get("TECHAPI_TEST_DATABASE_URL", "").strip()
# "s3": every app in the suite keeps its blobs on moto's S3 server on loopback.
TEST_STORAGE = os.environ.get("TECHAPI_TEST_STORAGE", "file").strip()
S3_BUCKET = "techapi-test"
PASSWORD = "correct horse battery"


def _new_schema_url(base_url: str) -> tuple[str, str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base_url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in base_url else "?"
    return f"{base_url}{sep}options=-csearch_path%3D{schema}", schema


def _drop_schema(base_url: str, schema: str) -> None:
    engine = create_engine(base_url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session")
def empty_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A factory of brand-new empty databases of the kind this run tests."""
    made: list[str] = []

    def make() -> str:
        if TEST_DATABASE_URL:
            url, schema = _new_schema_url(TEST_DATABASE_URL)
            made.append(schema)
            return url
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'techapi.db'}"

    yield make
    for schema in made:
        _drop_schema(TEST_DATABASE_URL, schema)


@pytest.fixture(scope="session")
def database_url(empty_database_url) -> str:
    url = empty_database_url()
    db = Database(url)
    db.upgrade()
    db.dispose()
    return url


@pytest.fixture
def clean_database(database_url: str) -> str:
    db = Database(database_url)
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    db.dispose()
    return database_url


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, seconds: float = 60, ok: tuple[int, ...] = (200,)) -> None:
    """Poll `url` until it answers one of `ok`; a bounded loop."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code in ok:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds} s")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server, over real HTTP on loopback."""
    from moto.server import ThreadedMotoServer

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ.setdefault(key, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    import boto3

    boto3.client("s3", endpoint_url=url).create_bucket(Bucket=S3_BUCKET)
    yield url
    server.stop()


@pytest.fixture
def storage_env(request, tmp_path) -> dict[str, str]:
    """TECHAPI_STORAGE_URL for this test: a fresh S3 prefix in S3 runs, else files under tmp_path."""
    if TEST_STORAGE == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        return {"TECHAPI_STORAGE_URL": f"s3://{S3_BUCKET}/{uuid.uuid4().hex}", "TECHAPI_S3_ENDPOINT_URL": endpoint}
    return {"TECHAPI_STORAGE_URL": f"file://{tmp_path}/blobs"}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def settings(tmp_path, clean_database: str, storage_env: dict[str, str]) -> Settings:
    base = load_settings(
        environ={"TECHAPI_DATABASE_URL": clean_database, "TECHAPI_INSTANCE_PATH": str(tmp_path), **storage_env}
    )
    # argon2 at its cheapest: the tests are about behaviour, not cost.
    return base.with_overrides(argon2_time_cost=1, argon2_memory_kib=1024)


@pytest.fixture
def sandbox(clock: FrozenClock, settings: Settings) -> Sandbox:
    return Sandbox.demo(NOW.date(), settings.timezone, settings.marketplace_id, clock=clock)


@pytest.fixture
def app(settings: Settings, clock: FrozenClock, sandbox: Sandbox):
    app = create_app(settings, clock=clock, sandbox=sandbox)
    app.config["TESTING"] = True
    yield app
    app.extensions["techapi"].db.dispose()


@pytest.fixture
def deps(app):
    return app.extensions["techapi"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def synced(deps):
    """Today's demo jobs pulled from the in-process sandbox."""
    return sync_day(deps, NOW.date())


class Auth:
    """Create users and log them in through the real endpoint."""

    def __init__(self, deps, client) -> None:
        self.deps, self.client = deps, client

    def user(self, username: str, role: str, technician_id: str | None = None,
             stores: tuple[str, ...] = (), timezone: str | None = None):
        with self.deps.db.session() as session:
            return create_user(session, self.deps.passwords, self.deps.clock, username, role, PASSWORD,
                               technician_id=technician_id, stores=stores, timezone=timezone)

    def token(self, username: str, password: str = PASSWORD) -> str:
        response = self.client.post("/v1/auth/token", json={"username": username, "password": password})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["access_token"]

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}


@pytest.fixture
def auth(deps, client) -> Auth:
    return Auth(deps, client)


@pytest.fixture
def world(sandbox: Sandbox):
    assert sandbox.world is not None
    return sandbox.world


@pytest.fixture
def unassigned_job(sandbox: Sandbox, world) -> str:
    """Today 17:00 UTC at the first store, booked with no technician yet."""
    start = NOW.replace(hour=17, minute=0)
    job = make_job(random.Random(99), marketplace_id=world.marketplace_id, store_id=world.store_ids[0],
                   technician=None, start=start, created=start - timedelta(days=3))
    sandbox.state.add_job(job)
    return job["serviceJobId"]


@pytest.fixture
def job_id(client, auth, world, synced) -> str:
    """The third of today's jobs of the first technician, who is logged in as "tech"."""
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    jobs = client.get("/v1/jobs", headers=auth.headers("tech")).get_json()["jobs"]
    return jobs[2]["serviceJobId"]


@pytest.fixture
def tech(auth, job_id) -> dict[str, str]:
    return auth.headers("tech")


@pytest.fixture
def afternoon_job(client, auth, world, synced) -> str:
    """Today's 12:30 UTC appointment of the first technician ("tech"), before NOW (15:00 UTC)."""
    auth.user("tech", "technician", technician_id=world.technician_ids[0])
    jobs = client.get("/v1/jobs", headers=auth.headers("tech")).get_json()["jobs"]
    return next(j["serviceJobId"] for j in jobs if j["appointment"]["start"].startswith("2026-06-15T12:30"))


# The sandbox over real HTTP ---------------------------------------------------


@pytest.fixture
def http_sandbox(clock: FrozenClock) -> Iterator[SandboxServer]:
    box = Sandbox.demo(NOW.date(), "UTC", "ATVPDKIKX0DER", clock=clock, config=SandboxConfig())
    with SandboxServer(box) as server:
        yield server


def http_client(
    server: SandboxServer,
    *,
    limiter: LocalRateLimiter | None = None,
    retry: RetryPolicy | None = None,
    read_timeout: float = 10.0,
    client_secret: str = SANDBOX_CLIENT_SECRET,
    monotonic=None,
) -> SpApiClient:
    http = httpx.Client(timeout=httpx.Timeout(connect=2.0, read=read_timeout, write=5.0, pool=2.0))
    credentials = LwaCredentials(SANDBOX_CLIENT_ID, Secret(client_secret), Secret(SANDBOX_REFRESH_TOKEN))
    kwargs = {"monotonic": monotonic} if monotonic else {}
    tokens = LwaTokenProvider(http, f"{server.url}/auth/o2/token", credentials, **kwargs)
    return SpApiClient(
        endpoint=server.url,
        marketplace_id="ATVPDKIKX0DER",
        tokens=tokens,
        http=http,
        limiter=limiter or LocalRateLimiter(),
        retry=retry or RetryPolicy(max_attempts=4, base_delay=0.02, max_delay=0.2),
    )


# The `techapi` command in this process ----------------------------------------


class CommandRunner(CliRunner):
    """click's CliRunner for `techapi.cli.main`, as Flask's test_cli_runner is for
    `app.cli`: `runner.invoke(["db", "current"], input=..., env=...)`. The command
    builds its own app from TECHAPI_* variables, so the test's database and
    instance folder are given as those; any TECHAPI_* variable of the outer
    environment is unset. An exception the command does not turn into an error
    message propagates (catch_exceptions=False): a traceback fails the test."""

    def invoke(self, args=None, **kwargs):  # type: ignore[override]
        kwargs.setdefault("catch_exceptions", False)
        return super().invoke(main, args, **kwargs)


@pytest.fixture
def runner(settings: Settings, storage_env: dict[str, str]) -> CommandRunner:
    """The command against the same database and instance folder as `app`."""
    env: dict[str, str | None] = {name: None for name in os.environ if name.startswith("TECHAPI_")}
    env.update({"TECHAPI_DATABASE_URL": settings.database_url, "TECHAPI_INSTANCE_PATH": settings.instance_path,
                **storage_env, "TECHAPI_ARGON2_TIME_COST": "1", "TECHAPI_ARGON2_MEMORY_KIB": "1024"})
    return CommandRunner(env=env)
