"""SP-API's HTTP, once for every operation: the access token, the usage-plan
bucket, retries of 429/5xx/network errors with the one retry policy, SP-API's
error bodies turned into typed errors, and what is observed for metrics."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from techapi.retry import RetryPolicy
from techapi.spapi.errors import SpApiTransportError, error_for_status, parse_error_body
from techapi.spapi.lwa import LwaTokenProvider
from techapi.spapi.ratelimit import RateLimiter

log = logging.getLogger(__name__)

USER_AGENT = "techapi/0.1 (Language=Python)"


def path_segment(value: str) -> str:
    """An ID as one URL path segment."""
    return quote(value, safe="")


class Observer(Protocol):
    def call(self, operation: str, status: int | None) -> None: ...
    def retry(self, operation: str, reason: str) -> None: ...
    def waited(self, operation: str, seconds: float) -> None: ...


class _Quiet:
    def call(self, operation: str, status: int | None) -> None:
        pass

    def retry(self, operation: str, reason: str) -> None:
        pass

    def waited(self, operation: str, seconds: float) -> None:
        pass


class SpApiTransport:
    """Sends one SP-API operation and returns its JSON body, or raises a typed SpApiError."""

    def __init__(
        self,
        endpoint: str,
        marketplace_id: str,
        tokens: LwaTokenProvider,
        http: httpx.Client,
        limiter: RateLimiter,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.marketplace_id = marketplace_id
        self.tokens = tokens
        self.http = http
        self.limiter = limiter
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.observer: Observer = observer or _Quiet()

    def call(
        self,
        operation: str,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        json: Any = None,
    ) -> dict[str, Any]:
        refreshed_token = False
        attempt = 0
        while True:
            token = self.tokens.get()
            # Last thing before sending, so the wait is not spent on the LWA call.
            self.observer.waited(operation, self.limiter.acquire(operation))
            try:
                response = self.http.request(
                    method,
                    self.endpoint + path,
                    params=params,
                    json=json,
                    headers={
                        "x-amz-access-token": token,
                        "Accept": "application/json",
                        "User-Agent": USER_AGENT,
                    },
                )
            except httpx.HTTPError as exc:
                # Timeouts and refused connections: the request may or may not
                # have arrived; every operation here is safe to repeat (the
                # closure worker checks job state after an ambiguous completion).
                self.observer.call(operation, None)
                attempt += 1
                if self.retry.exhausted(attempt):
                    raise SpApiTransportError(
                        operation, None, message=f"{type(exc).__name__} after {attempt} attempts"
                    ) from None
                log.warning("spapi %s transport error %s, retrying", operation, type(exc).__name__)
                self.observer.retry(operation, type(exc).__name__)
                self._sleep(self.retry.delay(attempt, self._rng))
                continue

            self._observe_rate_header(operation, response)
            status = response.status_code
            self.observer.call(operation, status)
            if status < 300:
                data = self._json(response)
                return data if isinstance(data, dict) else {}

            body = self._json(response)
            errors = parse_error_body(body)
            request_id = response.headers.get("x-amzn-RequestId")
            if status == 403 and not refreshed_token and any(e.code == "Unauthorized" for e in errors):
                # An access token revoked or expired early: fetch a new one, once.
                self.tokens.invalidate(token)
                refreshed_token = True
                continue
            if status == 429 or status >= 500:
                if status == 429:
                    self.limiter.penalise(operation)
                attempt += 1
                if not self.retry.exhausted(attempt):
                    log.warning("spapi %s answered %s, retrying (attempt %s)", operation, status, attempt)
                    self.observer.retry(operation, str(status))
                    self._sleep(self.retry.delay(attempt, self._rng))
                    continue
            raise error_for_status(status)(operation, status, errors, request_id)

    def _observe_rate_header(self, operation: str, response: httpx.Response) -> None:
        raw = response.headers.get("x-amzn-RateLimit-Limit")
        if raw:
            try:
                self.limiter.observe_limit(operation, float(raw))
            except ValueError:
                pass

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            return {}
