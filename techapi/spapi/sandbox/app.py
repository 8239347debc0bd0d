"""A stateful SP-API Services v1 simulator (a moto for SP-API), as a WSGI app.

This is the plumbing every call shares: dispatch, the access-token check,
usage-plan buckets, injected faults and SP-API's response headers. What each
path does lives in a handler module, and routes.py maps paths to handlers.
Reachable in-process (httpx.WSGITransport) or over real HTTP (server.py).
"""

from __future__ import annotations

import json
import random
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.wrappers import Request, Response

from techapi.clock import Clock, SystemClock
from techapi.spapi import plans
from techapi.spapi.ratelimit import TokenBucket
from techapi.spapi.sandbox import routes, rules
from techapi.spapi.sandbox.faults import Faults, inject_faults
from techapi.spapi.sandbox.routing import Operation, Reply, fail, quota_exceeded
from techapi.spapi.sandbox.seed import DemoWorld, roll_forward, seed_demo
from techapi.spapi.sandbox.state import SandboxState

SANDBOX_CLIENT_ID = "amzn1.application-oa2-client.sandbox"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"
SANDBOX_REFRESH_TOKEN = "Atzr|sandbox-refresh-token"
# The in-process sandbox's host name: never resolved, requests go through WSGI.
IN_PROCESS_BASE_URL = "http://sandbox.techapi.internal"
# The model's one operation whose every error status (400 to 503) is a bare
# ErrorList; the others wrap it in {"errors": [...]}. Handlers, the access-token
# check, usage plans and faults all raise the wrapped form; respond() unwraps it.
BARE_ERROR_LISTS = frozenset({plans.SET_FULFILLMENT_DATA})


@dataclass
class SandboxConfig:
    client_id: str = SANDBOX_CLIENT_ID
    client_secret: str = SANDBOX_CLIENT_SECRET
    refresh_token: str = SANDBOX_REFRESH_TOKEN
    token_ttl_seconds: int = 3600
    url_ttl_seconds: int = 300
    enforce_rate_limits: bool = True
    # Where the sandbox is reached: the base of the upload URLs it hands out, never
    # the caller's Host header. None: its server's own URL over HTTP (server.py),
    # IN_PROCESS_BASE_URL in-process.
    base_url: str | None = None
    usage_plans: dict[str, plans.UsagePlan] = field(default_factory=lambda: dict(plans.USAGE_PLANS))


class Sandbox:
    def __init__(
        self,
        state: SandboxState | None = None,
        clock: Clock | None = None,
        config: SandboxConfig | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.state = state or SandboxState()
        self.clock = clock or SystemClock()
        self.config = config or SandboxConfig()
        self.faults = faults or Faults()
        self._rng = random.Random(self.faults.seed)
        # Signs the upload URLs (documents.py); one key per sandbox, so another sandbox's URLs fail.
        self.signing_key = secrets.token_bytes(32)
        # Created now, full, like SP-API's own buckets that exist before our first call.
        self._buckets = {op: TokenBucket(p.rate, p.burst) for op, p in self.config.usage_plans.items()}
        self._bucket_lock = threading.Lock()
        self.world: DemoWorld | None = None
        self.url_map = routes.url_map()

    @classmethod
    def demo(cls, today: date, tz_name: str, marketplace_id: str, **kwargs: Any) -> Sandbox:
        sandbox = cls(**kwargs)
        sandbox.world = seed_demo(sandbox.state, today, tz_name, marketplace_id)
        return sandbox

    @property
    def base_url(self) -> str:
        return (self.config.base_url or IN_PROCESS_BASE_URL).rstrip("/")

    def set_faults(self, faults: Faults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if self.world is not None:  # a demo world left running past midnight gets its new day
            roll_forward(self.state, self.world, self.clock.now())
        adapter = self.url_map.bind_to_environ(request.environ)
        name = "unknown"
        try:
            name, args = adapter.match()
            route = routes.BY_NAME[name]
            if isinstance(route, Operation):
                return self._spapi_call(route, request, args)
            return route.handler(self, request, **args)
        except Reply as reply:
            return self.respond(name, reply.status, reply.body, reply.headers)
        except NotFound:
            return self.respond(name, 404, {"errors": [rules.err(
                "The requested resource was not found.", code="NotFound")]})
        except HTTPException as exc:
            return self.respond(name, exc.code or 400, {"errors": [rules.err(
                exc.description or "Bad request", code="InvalidInput")]})

    def respond(self, name: str, status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
        """A JSON answer with SP-API's headers, counted under `name` in the statistics."""
        self.state.count(name, status)
        if status >= 400 and name in BARE_ERROR_LISTS and isinstance(body, dict) and "errors" in body:
            body = body["errors"]
        out = {"x-amzn-RequestId": str(uuid.uuid4())}
        plan = self.config.usage_plans.get(name)
        if plan is not None and status != 403:
            out["x-amzn-RateLimit-Limit"] = f"{plan.rate}"
        out.update(headers or {})
        if status == 204 or body is None:
            return Response(status=status, headers=out)
        return Response(json.dumps(body), status=status, headers=out, mimetype="application/json")

    def _spapi_call(self, operation: Operation, request: Request, args: dict[str, str]) -> Response:
        self._authenticate(request)
        if self.config.enforce_rate_limits and not self._bucket(operation.name).try_take():
            raise quota_exceeded()
        after_commit = inject_faults(self.faults, self._rng, operation.name)
        status, body = operation.handler(self, request, **args)
        if after_commit:
            raise fail(500, rules.err("We encountered an internal error. Please try again.",
                                      code="InternalFailure"))
        return self.respond(operation.name, status, body)

    def _authenticate(self, request: Request) -> None:
        token = request.headers.get("x-amz-access-token", "")
        with self.state.lock:
            expiry = self.state.access_tokens.get(token)
        if expiry is None or expiry <= self.clock.now():
            detail = ("The access token you provided has expired." if expiry else
                      "The access token you provided is revoked, malformed or invalid.")
            raise fail(403, rules.err("Access to requested resource is denied.",
                                      code="Unauthorized", details=detail))

    def _bucket(self, operation: str) -> TokenBucket:
        with self._bucket_lock:
            bucket = self._buckets.get(operation)
            if bucket is None:
                plan = self.config.usage_plans[operation]
                bucket = self._buckets[operation] = TokenBucket(plan.rate, plan.burst)
            return bucket
