"""techapi: the job-of-the-day backend for field technicians on SP-API Services v1."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from techapi import compression, edge
from techapi.apidoc import Api
from techapi.appointments.routes import blp as appointments_blp
from techapi.assignment import tasks as assignment_tasks
from techapi.assignment.models import Assignment
from techapi.assignment.routes import blp as assignment_blp
from techapi.auth.routes import blp as auth_blp
from techapi.capacity.routes import blp as capacity_blp
from techapi.clock import Clock, SystemClock, local_today
from techapi.closures import tasks as closure_tasks
from techapi.closures.lifecycle import evidence_lock
from techapi.closures.models import Cancellation, Closure
from techapi.closures.reconcile import reconcile_with_upstream
from techapi.closures.routes import blp as closures_blp
from techapi.config import Settings, load_settings
from techapi.console import blp as console_blp
from techapi.context import Deps
from techapi.db import Database, SchemaOutdated
from techapi.errors import register_error_handlers
from techapi.evidence import tasks as evidence_tasks
from techapi.evidence.models import Document, TimeRecord
from techapi.evidence.routes import blp as evidence_blp
from techapi.evidence.routes import limit_upload_size
from techapi.health import blp as health_blp
from techapi.jobs import changes
from techapi.logs import configure_logging
from techapi.observability import SpApiMetrics
from techapi.observability import init_app as init_observability
from techapi.offline.routes import blp as offline_blp
from techapi.passwords import Passwords
from techapi.queue.kinds import TaskRegistry
from techapi.reads.fast import FastReads
from techapi.reads.ops import metrics_blp
from techapi.reads.routes import blp as jobs_blp
from techapi.reads.sync import blp as changes_blp
from techapi.reports.routes import blp as reports_blp
from techapi.spapi.client import SpApiClient
from techapi.spapi.factory import build_client, build_limiter, build_upload_http
from techapi.spapi.sandbox import Sandbox
from techapi.storage import BlobStore, open_store
from techapi.webhooks import tasks as webhook_tasks
from techapi.webhooks.routes import blp as webhooks_blp

API_DESCRIPTION = """\
techapi sits between field technicians' phones and Amazon's Selling Partner API
for Services. Log in with `POST /v1/auth/token`, then send
`Authorization: Bearer <access_token>`.

Every error is JSON: `{"code": <HTTP status>, "status": <reason>, "message": <text>,
"errors": <field errors, when there are any>}`. Malformed JSON is 400 (so is JSON
nested over 32 levels, a number over 40 characters, and NUL or a lone surrogate
anywhere in a request), a body that is not JSON where JSON is expected 415, a
missing or invalid token 401, a schema violation 422 (dates outside 2000-2099 too).

Every POST, PUT, PATCH and DELETE of a logged-in user accepts an `Idempotency-Key`
header (IETF httpapi draft): the first response to a key is stored per user for
24 hours and replayed, byte for byte, for a retry of the same request; the same
key with a different request is 422, a retry while the first is still running 409.
A request that died holds its key for the request timeout at most; after that a
retry of the same request runs again. Logout is never replayed.
"""

# Whom the phone team asks about the contract (spectral:oas wants a contact; no public address exists yet).
API_CONTACT = {"name": "techapi backend team"}
JSON_BODY_LIMIT = 1024 * 1024
SWAGGER_UI_URL = "/static/swagger-ui/"  # Flask's static folder: techapi/static
BLUEPRINTS = (health_blp, auth_blp, jobs_blp, evidence_blp, closures_blp, appointments_blp, assignment_blp,
              capacity_blp, offline_blp, changes_blp, webhooks_blp, reports_blp)
# What the worker runs, as each domain declares it.
TASK_KINDS = (*evidence_tasks.KINDS, *closure_tasks.KINDS, *webhook_tasks.KINDS, *assignment_tasks.KINDS)
# A closure open here gives way to SP-API's word on its job, at every sync.
SYNC_HOOKS = (reconcile_with_upstream,)
# Rows a job's responses show: a change to any of them bumps the job's version (ETags).
JOB_PARTS = (TimeRecord, Document, Closure, Cancellation, Assignment)


def create_app(
    config: Settings | None = None,
    *,
    clock: Clock | None = None,
    sandbox: Sandbox | None = None,
    spapi: SpApiClient | None = None,
    store: BlobStore | None = None,
    require_current_schema: bool = True,
    **overrides: Any,
) -> Flask:
    """The one composition root: settings, database, adapters, routes."""
    app = Flask(__name__)
    settings = config or load_settings(instance_path=app.instance_path)
    if overrides:
        settings = settings.with_overrides(**overrides)
    app.instance_path = settings.instance_path
    configure_logging(settings)

    clock = clock or SystemClock()
    db = Database(settings.database_url)
    db.init_app(app)
    # Departures outlive the oldest cursor accepted (window + 1 local days, a DST day among them).
    changes.track(db.sessions, JOB_PARTS, clock, timedelta(days=settings.offline_window_days + 2))
    if require_current_schema:
        try:
            db.check_schema()
        except SchemaOutdated:
            db.dispose()  # this app will never serve; leave no pooled connection behind
            raise

    if settings.sandbox and sandbox is None and spapi is None:
        sandbox = Sandbox.demo(local_today(clock, settings.timezone), settings.timezone,
                               settings.marketplace_id, clock=clock)
    spapi = spapi or build_client(settings, sandbox, limiter=build_limiter(settings, db.engine),
                                  observer=SpApiMetrics())
    upload_http, allowed_hosts = build_upload_http(settings, sandbox)
    app.extensions["techapi"] = Deps(
        settings=settings,
        clock=clock,
        db=db,
        passwords=Passwords(settings.argon2_time_cost, settings.argon2_memory_kib),
        spapi=spapi,
        sandbox=sandbox,
        store=store or open_store(settings.storage_url, settings.s3_endpoint_url),
        upload_http=upload_http,
        upload_allowed_hosts=allowed_hosts,
        evidence_lock=evidence_lock,
        sync_hooks=SYNC_HOOKS,
    )
    app.extensions["techapi.tasks"] = TaskRegistry(TASK_KINDS)

    app.config.update(
        SECRET_KEY=settings.secret_key.reveal(),
        MAX_CONTENT_LENGTH=JSON_BODY_LIMIT,
        API_TITLE="techapi",
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # Swagger UI from the package (techapi/static/swagger-ui, see VENDORED.md), never a
        # CDN: /docs must work on a LAN without internet. No online validator badge either.
        OPENAPI_SWAGGER_UI_URL=SWAGGER_UI_URL,
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},
        API_SPEC_OPTIONS={"info": {"description": API_DESCRIPTION, "contact": API_CONTACT}},
    )
    api = Api(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "From POST /v1/auth/token"}
    )
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    app.register_blueprint(metrics_blp)
    app.register_blueprint(console_blp)  # HTML pages, outside the OpenAPI document
    init_observability(app)  # first, so every response (refusals too) carries its request ID
    app.before_request(limit_upload_size)
    edge.init_app(app)  # NUL, lone surrogates, bounded JSON, 415: before any view
    compression.init_app(app)  # JSON over 1 KiB, gzip or brotli; never document bytes
    if settings.fast_reads and db.engine.dialect.name == "postgresql":
        fast = FastReads(app, app.wsgi_app, settings, clock, db.engine)
        app.extensions["techapi.fast_reads"] = fast
        db.on_dispose.append(fast.close)
        app.wsgi_app = fast  # type: ignore[method-assign]
    if settings.proxy_fix_hops:
        hops = settings.proxy_fix_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    app.extensions["techapi.api"] = api
    register_error_handlers(app)
    return app
