"""Imports every model so Base.metadata knows all tables (Alembic, tests)."""

from techapi.assignment.models import Assignment
from techapi.audit.models import AuditEvent
from techapi.auth.models import AccessToken, LoginFailure, User, UserStore
from techapi.capacity.models import Reservation
from techapi.closures.models import Cancellation, Closure
from techapi.evidence.models import Document, TimeRecord
from techapi.idempotency.models import IdempotencyRecord
from techapi.jobs.models import Job, JobTechnician, SyncCursor, SyncedDay
from techapi.queue.models import Task
from techapi.spapi.models import RateBucket
from techapi.webhooks.models import WebhookEvent

__all__ = [
    "AccessToken",
    "Assignment",
    "AuditEvent",
    "Cancellation",
    "Closure",
    "Document",
    "IdempotencyRecord",
    "Job",
    "JobTechnician",
    "LoginFailure",
    "RateBucket",
    "Reservation",
    "SyncCursor",
    "SyncedDay",
    "Task",
    "TimeRecord",
    "User",
    "UserStore",
    "WebhookEvent",
]
