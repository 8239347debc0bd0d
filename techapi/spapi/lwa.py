"""Login with Amazon: trade the refresh token for short-lived access tokens.

The token is cached until shortly before it expires; one thread refreshes
while the others wait for its result instead of stampeding the token URL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from techapi.config import Secret
from techapi.spapi.errors import LwaError, SpApiTransportError, parse_error_body

OPERATION = "lwaToken"


@dataclass(frozen=True)
class LwaCredentials:
    client_id: str
    client_secret: Secret
    refresh_token: Secret


class LwaTokenProvider:
    def __init__(
        self,
        http: httpx.Client,
        token_url: str,
        credentials: LwaCredentials,
        monotonic: Callable[[], float] = time.monotonic,
        max_attempts: int = 3,
    ) -> None:
        self._http = http
        self._token_url = token_url
        self._credentials = credentials
        self._monotonic = monotonic
        self._max_attempts = max_attempts
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0

    def get(self) -> str:
        with self._lock:
            if self._token is None or self._monotonic() >= self._refresh_at:
                self._refresh()
            assert self._token is not None
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget `token` (SP-API refused it); a newer one is kept."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _refresh(self) -> None:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self._credentials.refresh_token.reveal(),
            "client_id": self._credentials.client_id,
            "client_secret": self._credentials.client_secret.reveal(),
        }
        response = None
        for attempt in range(self._max_attempts):
            try:
                response = self._http.post(
                    self._token_url, data=form, headers={"Accept": "application/json"}
                )
            except httpx.HTTPError as exc:
                if attempt + 1 == self._max_attempts:
                    raise SpApiTransportError(
                        OPERATION, None, message=f"token endpoint unreachable: {type(exc).__name__}"
                    ) from None
                time.sleep(0.2 * 2**attempt)
                continue
            if response.status_code < 500 and response.status_code != 429:
                break
            if attempt + 1 < self._max_attempts:
                time.sleep(0.2 * 2**attempt)
        assert response is not None
        started = self._monotonic()
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            # LWA answers {"error": "invalid_grant", "error_description": ...};
            # keep the code, never the request (it holds the secrets).
            code = body.get("error", "") if isinstance(body, dict) else ""
            errors = parse_error_body(body)
            raise LwaError(
                OPERATION,
                response.status_code,
                errors,
                message=f"LWA refused the refresh token ({code or 'no error code'})",
            )
        expires_in = float(body.get("expires_in", 3600))
        # Refresh a minute early (or at 90% of a short lifetime) so a token never
        # expires between our check and SP-API's.
        margin = min(60.0, expires_in * 0.1)
        self._token = str(body["access_token"])
        self._refresh_at = started + expires_in - margin
