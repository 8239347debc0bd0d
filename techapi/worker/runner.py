"""The worker: runs queued tasks as they come due and syncs today's jobs on a schedule."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

from flask import Flask

from techapi.clock import local_today
from techapi.context import Deps
from techapi.idempotency import purge_expired
from techapi.jobs.sync import SyncResult, sync_day
from techapi.spapi.errors import SpApiError
from techapi.worker import queue

log = logging.getLogger(__name__)
Handler = Callable[[Deps, str, int], None]
IDLE_POLL_SECONDS = 1.0


def handlers() -> dict[str, Handler]:
    from techapi.closures.pipeline import cancel_job, close_job
    from techapi.closures.services import CANCEL_TASK, CLOSE_TASK
    from techapi.evidence.documents import UPLOAD_TASK
    from techapi.evidence.tasks import upload_document
    from techapi.webhooks.processing import process_event
    from techapi.webhooks.routes import TASK as WEBHOOK_TASK

    return {UPLOAD_TASK: upload_document, CLOSE_TASK: close_job, CANCEL_TASK: cancel_job,
            WEBHOOK_TASK: process_event}


def sync_today(deps: Deps) -> SyncResult:
    s = deps.settings
    return sync_day(deps.db, deps.spapi, deps.clock, local_today(deps.clock, s.timezone),
                    s.timezone, s.sync_lookback_days)


class Worker:
    def __init__(self, app: Flask, stop: threading.Event | None = None) -> None:
        self.app = app
        self.deps: Deps = app.extensions["techapi"]
        self.stop = stop or threading.Event()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.handlers = handlers()
        self.failed = 0  # tasks that failed permanently in this run
        self._next_sync = 0.0

    # One task ------------------------------------------------------------------

    def run_one(self) -> bool:
        """Claim and run one due task; False when none is due."""
        db, clock = self.deps.db, self.deps.clock
        claimed = queue.claim(db, self.owner, clock.now(), self.deps.settings.task_lease_seconds)
        if claimed is None:
            return False
        handler = self.handlers.get(claimed.kind)
        try:
            if handler is None:
                raise queue.PermanentFailure(f"no handler for task kind {claimed.kind!r}")
            with self.app.app_context():
                handler(self.deps, claimed.ref, claimed.attempts)
        except queue.RetryLater as exc:
            log.warning("task %s %s: retry in %.0fs (%s)", claimed.kind, claimed.ref, exc.delay, exc.reason)
            queue.retry_later(db, claimed, clock.now(), exc.delay, exc.reason)
        except queue.PermanentFailure as exc:
            log.error("task %s %s failed: %s", claimed.kind, claimed.ref, exc)
            self.failed += 1
            queue.fail(db, claimed, clock.now(), str(exc))
        except Exception as exc:  # a bug: keep the task, back off, keep the worker alive
            log.exception("task %s %s crashed", claimed.kind, claimed.ref)
            queue.retry_later(db, claimed, clock.now(), 60.0, f"{type(exc).__name__}: {exc}")
        else:
            queue.complete(db, claimed, clock.now())
        return True

    # Scheduled sync ------------------------------------------------------------

    def sync_if_due(self, force: bool = False) -> bool:
        if not force and time.monotonic() < self._next_sync:
            return True
        self._next_sync = time.monotonic() + self.deps.settings.sync_interval_seconds
        try:
            purge_expired(self.deps.db, self.deps.clock.now())
            sync_today(self.deps)
            return True
        except SpApiError as exc:
            log.error("scheduled sync failed: %s", exc)
            return False

    # Loops -----------------------------------------------------------------------

    def tick(self) -> bool:
        """One round: sync if due, then every task that is due now."""
        ok = self.sync_if_due()
        while not self.stop.is_set() and self.run_one():
            pass
        return ok

    def run(self, once: bool = False) -> int:
        while not self.stop.is_set():
            ok = self.tick()
            if once:
                return 0 if ok and not self.failed else 1
            self.stop.wait(IDLE_POLL_SECONDS)
        log.info("worker stopped")
        return 0

    def drain(self, max_seconds: float = 3600.0) -> int:
        """Run until no task is pending or running (waiting out back-offs), then
        exit 0, or 1 if any task failed for good."""
        deadline = time.monotonic() + max_seconds
        while not self.stop.is_set() and time.monotonic() < deadline:
            if self.run_one():
                continue
            count, first = queue.outstanding(self.deps.db)
            if count == 0:
                return 1 if self.failed else 0
            wait = (first - self.deps.clock.now()).total_seconds() if first else IDLE_POLL_SECONDS
            self.stop.wait(min(max(wait, 0.05), IDLE_POLL_SECONDS))
        return 1
