"""The worker loop: sync today's jobs on a schedule until told to stop."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from techapi.clock import local_today
from techapi.context import Deps
from techapi.jobs.sync import SyncResult, sync_day
from techapi.spapi.errors import SpApiError

log = logging.getLogger(__name__)


def sync_today(deps: Deps) -> SyncResult:
    s = deps.settings
    return sync_day(deps.db, deps.spapi, deps.clock, local_today(deps.clock, s.timezone),
                    s.timezone, s.sync_lookback_days)


class Worker:
    def __init__(self, app: Flask, stop: threading.Event | None = None) -> None:
        self.app = app
        self.deps: Deps = app.extensions["techapi"]
        self.stop = stop or threading.Event()
        self.failures = 0

    def tick(self) -> bool:
        """One round of scheduled work; False if it failed (it is retried next round)."""
        try:
            sync_today(self.deps)
            return True
        except SpApiError as exc:
            self.failures += 1
            log.error("scheduled sync failed: %s", exc)
            return False

    def run(self, once: bool = False) -> int:
        interval = self.deps.settings.sync_interval_seconds
        while not self.stop.is_set():
            ok = self.tick()
            if once:
                return 0 if ok else 1
            self.stop.wait(interval)
        log.info("worker stopped")
        return 0
