"""Stateful SP-API Services simulator: in-process (WSGI) or over HTTP."""

from techapi.spapi.sandbox.app import (
    IN_PROCESS_BASE_URL,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
    Sandbox,
    SandboxConfig,
)
from techapi.spapi.sandbox.faults import Faults
from techapi.spapi.sandbox.server import SandboxServer

__all__ = [
    "IN_PROCESS_BASE_URL",
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "SANDBOX_REFRESH_TOKEN",
    "Faults",
    "Sandbox",
    "SandboxConfig",
    "SandboxServer",
]
