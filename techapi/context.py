"""The adapters create_app builds, reachable from views and commands."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from techapi.auth.passwords import Passwords
from techapi.clock import Clock
from techapi.config import Settings
from techapi.db import Database
from techapi.spapi.client import SpApiClient
from techapi.spapi.sandbox import Sandbox


@dataclass
class Deps:
    settings: Settings
    clock: Clock
    db: Database
    passwords: Passwords
    spapi: SpApiClient
    sandbox: Sandbox | None  # the in-process simulator, in sandbox mode


def deps() -> Deps:
    return current_app.extensions["techapi"]
