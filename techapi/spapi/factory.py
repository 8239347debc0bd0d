"""Build the SP-API client from settings: the in-process sandbox or a real endpoint."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import Engine

from techapi.config import Secret, Settings
from techapi.retry import RetryPolicy
from techapi.spapi.client import SpApiClient
from techapi.spapi.lwa import LwaCredentials, LwaTokenProvider
from techapi.spapi.ratelimit import LocalRateLimiter, RateLimiter
from techapi.spapi.sandbox import (
    IN_PROCESS_BASE_URL,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
    Sandbox,
)
from techapi.spapi.shared_limits import PostgresRateLimiter, RedisRateLimiter, account_key
from techapi.spapi.transport import Observer

# Host name of the in-process sandbox; never resolved, requests go through WSGI.
SANDBOX_BASE_URL = IN_PROCESS_BASE_URL


def build_limiter(settings: Settings, engine: Engine) -> RateLimiter:
    """Buckets shared by every process of the account: Redis, else PostgreSQL; one
    process on SQLite (or the in-process sandbox) keeps them in memory."""
    if settings.sandbox:
        return LocalRateLimiter()
    account = account_key(settings.spapi_endpoint, settings.lwa_client_id, settings.lwa_refresh_token.reveal(),
                          settings.marketplace_id)
    if settings.redis_url:
        return RedisRateLimiter(settings.redis_url, account)
    if engine.dialect.name == "postgresql":
        return PostgresRateLimiter(engine, account)
    return LocalRateLimiter()


def build_client(
    settings: Settings,
    sandbox: Sandbox | None = None,
    limiter: RateLimiter | None = None,
    observer: Observer | None = None,
) -> SpApiClient:
    timeout = httpx.Timeout(
        connect=settings.spapi_connect_timeout,
        read=settings.spapi_read_timeout,
        write=settings.spapi_read_timeout,
        pool=settings.spapi_connect_timeout,
    )
    if settings.sandbox:
        if sandbox is None:
            raise ValueError("sandbox mode needs a Sandbox instance")
        http = httpx.Client(transport=httpx.WSGITransport(app=sandbox), timeout=timeout)
        endpoint = SANDBOX_BASE_URL
        token_url = f"{SANDBOX_BASE_URL}/auth/o2/token"
        credentials = LwaCredentials(
            client_id=SANDBOX_CLIENT_ID,
            client_secret=Secret(SANDBOX_CLIENT_SECRET),
            refresh_token=Secret(SANDBOX_REFRESH_TOKEN),
        )
    else:
        # Redirects stay off: an SP-API answer never legitimately redirects, and
        # following one would carry the access token to another host.
        http = httpx.Client(timeout=timeout, follow_redirects=False)
        endpoint = settings.spapi_endpoint
        token_url = settings.lwa_token_url
        credentials = LwaCredentials(
            client_id=settings.lwa_client_id,
            client_secret=settings.lwa_client_secret,
            refresh_token=settings.lwa_refresh_token,
        )
    return SpApiClient(
        endpoint=endpoint,
        marketplace_id=settings.marketplace_id,
        tokens=LwaTokenProvider(http, token_url, credentials),
        http=http,
        limiter=limiter or LocalRateLimiter(),
        retry=RetryPolicy(max_attempts=settings.spapi_max_attempts),
        observer=observer,
    )


def build_upload_http(settings: Settings, sandbox: Sandbox | None = None) -> tuple[httpx.Client, tuple[str, ...]]:
    """The client for presigned upload URLs and the hosts it may reach."""
    timeout = httpx.Timeout(connect=settings.spapi_connect_timeout, read=60.0, write=60.0,
                            pool=settings.spapi_connect_timeout)
    if settings.sandbox and sandbox is not None:
        client = httpx.Client(transport=httpx.WSGITransport(app=sandbox), timeout=timeout)
        return client, (*settings.upload_allowed_hosts, httpx.URL(SANDBOX_BASE_URL).host)
    return httpx.Client(timeout=timeout, follow_redirects=False), settings.upload_allowed_hosts
