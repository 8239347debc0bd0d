"""The `techapi` command: serve, worker, sync, sweep, db, users, openapi, sandbox."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click
from flask import Flask
from prometheus_client import start_http_server
from werkzeug.serving import make_server

from techapi import create_app
from techapi.auth.demo import DEMO_PASSWORD, ensure_demo_users
from techapi.auth.services import create_user
from techapi.checks import cheap, full
from techapi.clock import SystemClock, local_today
from techapi.config import ConfigError, load_settings, markdown_table
from techapi.context import Deps
from techapi.db import SchemaOutdated
from techapi.errors import DomainError
from techapi.evidence.sweep import MIN_AGE, sweep_orphans
from techapi.jobs.sync import sync_day
from techapi.openapi import spec_json
from techapi.reads.ops import status_report
from techapi.spapi.errors import SpApiError
from techapi.spapi.sandbox import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
    Faults,
    Sandbox,
    SandboxConfig,
    SandboxServer,
)
from techapi.spapi.sandbox.seed import seed_bulk
from techapi.worker.runner import Worker

log = logging.getLogger("techapi")


def _app(require_current_schema: bool = True) -> Flask:
    try:
        return create_app(require_current_schema=require_current_schema)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    except SchemaOutdated as exc:
        raise click.ClickException(str(exc)) from None


def _deps(app: Flask) -> Deps:
    return app.extensions["techapi"]


@click.group()
def main() -> None:
    """techapi: job-of-the-day backend for field technicians on SP-API Services."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the API and an in-process worker (the embedded, single-process mode)."""
    app = _app(require_current_schema=False)
    deps = _deps(app)
    if deps.settings.embedded_defaults:
        deps.db.upgrade()
    else:
        try:
            deps.db.check_schema()
        except SchemaOutdated as exc:
            raise click.ClickException(str(exc)) from None
    problems = [c for c in cheap(deps) if not c.ok]
    if problems:
        raise click.ClickException("; ".join(f"{c.name}: {c.message}" for c in problems))
    if deps.settings.secret_key_generated and not deps.settings.sandbox:
        log.warning("TECHAPI_SECRET_KEY is not set; using a random key for this process")
    worker = Worker(app)
    worker.tick()  # jobs are there before the first request
    if deps.settings.sandbox:
        users = ensure_demo_users(deps)
        click.echo(f"Sandbox mode: demo accounts {', '.join(users)} (password '{DEMO_PASSWORD}')")
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=worker.run, name="worker", daemon=True)
    thread.start()
    base = f"http://{host}:{server.port}"
    click.echo(f"techapi on {base}  (Swagger UI: {base}/docs; supervisor console: {base}/console)")

    def stop(*_: object) -> None:
        worker.stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    thread.join(timeout=10)


@main.command()
@click.option("--once", is_flag=True, help="Do one round of work and exit (non-zero if it failed).")
@click.option("--drain", is_flag=True,
              help="Run queued tasks until none is left (waiting out back-offs); exit 1 if any failed for good.")
@click.option("--metrics-port", type=int, default=None, envvar="TECHAPI_WORKER_METRICS_PORT",
              help="Serve this worker's Prometheus metrics on this port.")
def worker(once: bool, drain: bool, metrics_port: int | None) -> None:
    """Run background work: queued tasks (uploads, closures, cancellations, webhooks) and the job sync."""
    app = _app()
    problems = [c for c in cheap(_deps(app)) if not c.ok]
    if problems:
        raise click.ClickException("; ".join(f"{c.name}: {c.message}" for c in problems))
    if metrics_port:
        start_http_server(metrics_port, addr="0.0.0.0")
    runner = Worker(app)

    def stop(*_: object) -> None:
        runner.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.exit(runner.drain() if drain else runner.run(once=once))


@main.command()
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Day of the appointments (default: today in TECHAPI_TIMEZONE).")
def sync(day: object) -> None:
    """Pull the day's service jobs from SP-API (incremental after the first run)."""
    deps = _deps(_app())
    target: date = day.date() if day else local_today(deps.clock, deps.settings.timezone)  # type: ignore[attr-defined]
    try:
        result = sync_day(deps, target)
    except SpApiError as exc:
        raise click.ClickException(f"sync failed, nothing was written: {exc}") from None
    kind = "full" if result.full else "incremental"
    click.echo(f"{target.isoformat()}: {kind} sync, {result.fetched} fetched, "
               f"{result.created} new, {result.updated} updated")


@main.command()
@click.option("--older-than-minutes", default=int(MIN_AGE.total_seconds() // 60), show_default=True,
              type=click.IntRange(min=1),
              help="Only blobs at least this old: an upload in flight has blobs but no row yet.")
def sweep(older_than_minutes: int) -> None:
    """Remove stored document blobs that have no document row (left by a process that died mid-upload)."""
    deps = _deps(_app())
    result = sweep_orphans(deps.db, deps.store, datetime.now(UTC), timedelta(minutes=older_than_minutes))
    click.echo(f"removed {len(result.removed)} orphan blob(s) and {result.partial} partial upload(s); "
               f"{result.kept_young} blob(s) younger than {older_than_minutes} min not judged")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations (idempotent; creates everything on an empty database)."""
    deps = _deps(_app(require_current_schema=False))
    deps.db.upgrade()
    click.echo(f"database at {deps.db.current_revision()}")


@db.command("current")
def db_current() -> None:
    """Show the schema revision and whether it is current."""
    deps = _deps(_app(require_current_schema=False))
    current, head = deps.db.current_revision(), deps.db.head_revision()
    click.echo(f"current: {current or 'empty'}; head: {head}")
    if current != head:
        sys.exit(1)


@main.group()
def users() -> None:
    """User accounts."""


@users.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(["technician", "supervisor", "admin"]))
@click.option("--technician-id", default=None, help="The technician's SP-API technicianId.")
@click.option("--store", "stores", multiple=True,
              help="A storeId the supervisor oversees (repeat); a technician's one home store (time off).")
@click.option("--timezone", default=None, help="IANA time zone (default: TECHAPI_TIMEZONE).")
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the password from standard input (never from the command line).")
def users_create(username: str, role: str, technician_id: str | None, stores: tuple[str, ...],
                 timezone: str | None, password_stdin: bool) -> None:
    """Create a technician, supervisor or admin."""
    if role == "technician" and len(set(stores)) > 1:
        raise click.ClickException("a technician has one home store: give --store once")
    password = sys.stdin.readline().rstrip("\r\n")
    deps = _deps(_app())
    with deps.db.session() as session:
        try:
            user = create_user(session, deps.passwords, deps.clock, username, role, password,
                               technician_id=technician_id, stores=stores, timezone=timezone)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(f"created {user.role} {user.username}")


@main.group()
def openapi() -> None:
    """The OpenAPI document."""


@openapi.command("export")
@click.option("--output", default="openapi/openapi.json", show_default=True, type=click.Path())
def openapi_export(output: str) -> None:
    """Write the OpenAPI document (the committed copy is checked for drift by a test)."""
    app = _app(require_current_schema=False)
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(spec_json(app))
    click.echo(f"wrote {path}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8100, show_default=True, type=int)
@click.option("--bulk-jobs", default=0, type=int, help="Extra jobs for today on one technician.")
@click.option("--error-rate", default=0.0, type=float, help="Share of SP-API calls answered 5xx.")
@click.option("--error-after-commit-rate", default=0.0, type=float,
              help="Share of calls that do the work and then answer 5xx.")
@click.option("--throttle-rate", default=0.0, type=float, help="Share of calls answered 429.")
@click.option("--latency", default=0.0, type=float, help="Seconds added to SP-API calls.")
@click.option("--base-url", default=None,
              help="How techapi reaches this sandbox (the base of its upload URLs); default http://HOST:PORT.")
def sandbox(host: str, port: int, bulk_jobs: int, error_rate: float, error_after_commit_rate: float,
            throttle_rate: float, latency: float, base_url: str | None) -> None:
    """Run the SP-API simulator as an HTTP server."""
    settings = load_settings()
    today = local_today(SystemClock(), settings.timezone)
    box = Sandbox.demo(today, settings.timezone, settings.marketplace_id, config=SandboxConfig(base_url=base_url),
                       faults=Faults(error_rate=error_rate, error_after_commit_rate=error_after_commit_rate,
                                     throttle_rate=throttle_rate, latency_seconds=latency))
    if bulk_jobs:
        seed_bulk(box.state, bulk_jobs, today, settings.timezone, settings.marketplace_id)
    server = SandboxServer(box, host, port)
    env = {
        "TECHAPI_SPAPI_ENDPOINT": box.base_url,
        "TECHAPI_LWA_TOKEN_URL": f"{box.base_url}/auth/o2/token",
        "TECHAPI_LWA_CLIENT_ID": SANDBOX_CLIENT_ID,
        "TECHAPI_LWA_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
        "TECHAPI_LWA_REFRESH_TOKEN": SANDBOX_REFRESH_TOKEN,
    }
    click.echo(f"SP-API sandbox on {server.url} (as {box.base_url}); point techapi at it with:")
    for key, value in env.items():
        click.echo(f"  export {key}='{value}'")
    if box.world:
        click.echo(f"demo technicianId {box.world.demo_technician_id}, storeId {box.world.demo_store_id}")
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with server:
        stop.wait()


@main.command("check-config")
def check_config() -> None:
    """Check the environment: database, migrations, blob store, LWA credentials, upload allow-list."""
    deps = _deps(_app(require_current_schema=False))
    results = full(deps)
    for check in results:
        click.echo(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.message}")
    if not all(c.ok for c in results):
        sys.exit(1)


@main.command()
@click.option("--stuck-minutes", default=30, show_default=True, help="Closures queued longer than this are stuck.")
def status(stuck_minutes: int) -> None:
    """Print the task queue and the closures that need an operator."""
    deps = _deps(_app())
    click.echo(status_report(deps, stuck_minutes))


@main.command("config")
@click.option("--markdown", is_flag=True,
              help="Print the table of variables for README.md instead (from the declarations, not the environment).")
def show_config(markdown: bool) -> None:
    """Print the effective configuration (secrets masked)."""
    if markdown:
        click.echo(markdown_table(), nl=False)
        return
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    click.echo(json.dumps(settings.public_dict(), indent=2, default=str))
