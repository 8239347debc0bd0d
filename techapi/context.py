"""The adapters create_app builds, reachable from views and commands."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from flask import current_app

from techapi.auth.passwords import Passwords
from techapi.clock import Clock
from techapi.config import Settings
from techapi.db import Database
from techapi.spapi.client import SpApiClient
from techapi.spapi.sandbox import Sandbox
from techapi.storage import BlobStore


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


def deps() -> Deps:
    return current_app.extensions["techapi"]
