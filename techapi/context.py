"""The adapters and hooks create_app builds, reachable from views, tasks and commands."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from flask import current_app
from sqlalchemy.orm import Session

from techapi.clock import Clock
from techapi.config import Settings
from techapi.db import Database
from techapi.passwords import Passwords
from techapi.spapi.client import SpApiClient
from techapi.spapi.sandbox import Sandbox
from techapi.spapi.types import ServiceJob
from techapi.storage import BlobStore

# Why a job's evidence can no longer change (a closure is pending, say), or None.
# Declared by a domain above evidence and handed down by create_app.
EvidenceLock = Callable[[Session, str], str | None]
# Run at sync, in its transaction, with the jobs just fetched from SP-API.
SyncHook = Callable[[Session, Sequence[ServiceJob], datetime], Any]


def _never_locked(session: Session, service_job_id: str) -> str | None:
    return None


@dataclass
class Deps:
    settings: Settings
    clock: Clock
    db: Database
    passwords: Passwords
    spapi: SpApiClient
    sandbox: Sandbox | None  # the in-process simulator, in sandbox mode
    store: BlobStore
    upload_http: httpx.Client  # for presigned document URLs only
    upload_allowed_hosts: tuple[str, ...]
    evidence_lock: EvidenceLock = _never_locked
    sync_hooks: tuple[SyncHook, ...] = field(default_factory=tuple)


def deps() -> Deps:
    return current_app.extensions["techapi"]
