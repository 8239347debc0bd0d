"""The worker: runs queued tasks as they come due and syncs today's jobs on a schedule.

What each task kind does comes from the registry create_app assembles; when a
task is retried, and when it gives up, is decided here, by one policy.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from datetime import UTC, datetime, timedelta

from flask import Flask

from techapi.auth.services import purge_login_failures
from techapi.clock import local_today
from techapi.context import Deps
from techapi.evidence.sweep import sweep_orphans
from techapi.idempotency.records import purge_expired
from techapi.jobs.sync import sync_days
from techapi.queue import leases
from techapi.queue.kinds import PermanentFailure, RetryLater, TaskKind, TaskRegistry
from techapi.retry import RetryPolicy
from techapi.spapi.errors import SpApiError

log = logging.getLogger(__name__)
IDLE_POLL_SECONDS = 1.0
SWEEP_INTERVAL_SECONDS = 3600.0  # orphan blobs are rare (a process killed mid-upload) and harmless for an hour


def retry_policy(deps: Deps) -> RetryPolicy:
    s = deps.settings
    return RetryPolicy(s.task_max_attempts, s.task_backoff_seconds, s.task_backoff_max_seconds)


class Worker:
    def __init__(self, app: Flask, stop: threading.Event | None = None, rng: random.Random | None = None) -> None:
        self.app = app
        self.deps: Deps = app.extensions["techapi"]
        self.tasks: TaskRegistry = app.extensions["techapi.tasks"]
        self.policy = retry_policy(self.deps)
        self.stop = stop or threading.Event()
        self.owner = leases.owner_name(str(threading.get_ident()))
        self.failed = 0  # tasks that failed for good in this run
        self._rng = rng or random.Random()
        self._next_sync = 0.0
        self._next_sweep = 0.0

    # One task ------------------------------------------------------------------

    def run_one(self) -> bool:
        """Claim and run one due task; False when none is due."""
        claimed = leases.claim(self.deps.db, self.owner, self.deps.clock.now(), self.deps.settings.task_lease_seconds)
        if claimed is None:
            return False
        kind = self.tasks.get(claimed.kind)
        if self.policy.exhausted(claimed.attempts - 1):
            self._fail(claimed, kind, self._spent(claimed))
            return True
        log.debug("task %s %s: attempt %d", claimed.kind, claimed.ref, claimed.attempts)
        try:
            if kind is None:
                raise PermanentFailure(f"no handler for task kind {claimed.kind!r}")
            with self.app.app_context():
                kind.run(self.deps, claimed.ref, claimed.attempts)
        except RetryLater as exc:
            self._retry(claimed, kind, exc.reason)
        except PermanentFailure as exc:
            self._fail(claimed, kind, str(exc))
        except Exception as exc:  # a bug or a broken input: counted like any attempt, the worker lives on
            log.exception("task %s %s crashed", claimed.kind, claimed.ref)
            self._retry(claimed, kind, f"{type(exc).__name__}: {exc}")
        else:
            leases.complete(self.deps.db, claimed, self.deps.clock.now())
        return True

    @staticmethod
    def _spent(claimed: leases.Claimed) -> str:
        """Why a task claimed with no attempt left is failed without running it."""
        done = claimed.attempts - 1
        if claimed.lease_expired:
            # The last attempt never ended: the process running it died (killed, out of
            # memory) and its lease expired. Running it again may kill this one too.
            before = f"; before that: {claimed.previous_error}" if claimed.previous_error else ""
            return (f"gave up after {done} attempts: the last one never finished (the worker running it died "
                    f"or overran its lease){before}")
        # Attempts spent elsewhere (a closure uploading the document itself) or a lowered cap.
        return f"gave up after {done} attempts: {claimed.previous_error or 'no error recorded'}"

    def _retry(self, claimed: leases.Claimed, kind: TaskKind | None, reason: str) -> None:
        if self.policy.exhausted(claimed.attempts):
            self._fail(claimed, kind, f"gave up after {claimed.attempts} attempts: {reason}")
            return
        delay = self.policy.delay(claimed.attempts, self._rng)
        log.warning("task %s %s: retry in %.1fs (%s)", claimed.kind, claimed.ref, delay, reason)
        leases.retry_later(self.deps.db, claimed, self.deps.clock.now(), delay, reason)

    def _fail(self, claimed: leases.Claimed, kind: TaskKind | None, reason: str) -> None:
        log.error("task %s %s failed: %s", claimed.kind, claimed.ref, reason)
        self.failed += 1
        if not leases.fail(self.deps.db, claimed, self.deps.clock.now(), reason) or kind is None \
                or kind.give_up is None:
            return
        try:
            with self.app.app_context():
                kind.give_up(self.deps, claimed.ref, reason)
        except Exception:  # noqa: BLE001 - the task is FAILED either way; say why the rest was not recorded
            log.exception("task %s %s: recording the failure crashed", claimed.kind, claimed.ref)

    # Scheduled sync ------------------------------------------------------------

    def sync_if_due(self, force: bool = False) -> bool:
        if not force and time.monotonic() < self._next_sync:
            return True
        self._next_sync = time.monotonic() + self.deps.settings.sync_interval_seconds
        try:
            now = self.deps.clock.now()
            purge_expired(self.deps.db, now)
            purge_login_failures(self.deps.db, now, self.deps.settings.login_window_seconds)
            # Today and the phones' offline window (the delta feed's), each day pulled in full once.
            today = local_today(self.deps.clock, self.deps.settings.timezone)
            sync_days(self.deps, today, today + timedelta(days=self.deps.settings.offline_window_days))
            return True
        except SpApiError as exc:
            log.error("scheduled sync failed: %s", exc)
            return False

    def sweep_if_due(self) -> None:
        if time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + SWEEP_INTERVAL_SECONDS
        try:
            sweep_orphans(self.deps.db, self.deps.store, datetime.now(UTC))
        except Exception:  # noqa: BLE001 - storage or database away: the next round tries again
            log.exception("orphan blob sweep failed")

    # Loops -----------------------------------------------------------------------

    def tick(self) -> bool:
        """One round: sync if due, then every task that is due now."""
        ok = self.sync_if_due()
        self.sweep_if_due()
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
            count, first = leases.outstanding(self.deps.db)
            if count == 0:
                return 1 if self.failed else 0
            wait = (first - self.deps.clock.now()).total_seconds() if first else IDLE_POLL_SECONDS
            self.stop.wait(min(max(wait, 0.05), IDLE_POLL_SECONDS))
        return 1
