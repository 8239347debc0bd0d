"""Imports every model so Base.metadata knows all tables (Alembic, tests)."""

from techapi.auth.models import AccessToken, LoginFailure, Role, User, UserStore
from techapi.jobs.models import Job, JobTechnician, SyncCursor, SyncedDay

__all__ = [
    "AccessToken",
    "Job",
    "JobTechnician",
    "LoginFailure",
    "Role",
    "SyncCursor",
    "SyncedDay",
    "User",
    "UserStore",
]
