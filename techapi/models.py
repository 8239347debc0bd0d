"""Imports every model so Base.metadata knows all tables (Alembic, tests)."""

from techapi.audit import AuditEvent
from techapi.auth.models import AccessToken, LoginFailure, Role, User, UserStore
from techapi.closures.models import Cancellation, Closure
from techapi.evidence.models import Document, TimeRecord
from techapi.idempotency import IdempotencyRecord
from techapi.jobs.models import Job, JobTechnician, SyncCursor, SyncedDay
from techapi.spapi.shared_limits import RateBucket
from techapi.webhooks.models import WebhookEvent
from techapi.worker.queue import Task

__all__ = [
    "AccessToken",
    "AuditEvent",
    "Cancellation",
    "Closure",
    "Document",
    "IdempotencyRecord",
    "WebhookEvent",
    "Task",
    "TimeRecord",
    "Job",
    "JobTechnician",
    "LoginFailure",
    "RateBucket",
    "Role",
    "SyncCursor",
    "SyncedDay",
    "User",
    "UserStore",
]
