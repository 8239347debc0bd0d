"""What the job list's and the job detail's ETags are computed from: the caller,
the query and the versions of the jobs shown, in one small query (no job loaded)."""

from __future__ import annotations

from datetime import date
from typing import Any

from techapi.auth.guard import current_user
from techapi.auth.models import User
from techapi.clock import local_today
from techapi.config import Settings
from techapi.context import deps
from techapi.db import get_session
from techapi.jobs import versions
from techapi.reads.jobs import JobList, day_versions, versions_in


def day_list_parts(args: dict[str, Any]) -> tuple[object, ...]:
    d, user = deps(), current_user()
    tz = user.timezone or d.settings.timezone
    day = args.get("date") or local_today(d.clock, tz)
    rows = day_versions(get_session(), user, day, tz, args.get("needs"))
    return _list_parts(day, args, rows)


def day_list_answer_parts(answer: JobList, args: dict[str, Any]) -> tuple[object, ...]:
    """The same parts, read off the list the view loaded."""
    return _list_parts(answer.date, args, versions_in(answer))


def _list_parts(day: date, args: dict[str, Any], rows: list[tuple[str, int]]) -> tuple[object, ...]:
    return list_parts(current_user(), deps().settings, day, args.get("needs"), rows)


def list_parts(user: User, settings: Settings, day: date, needs: str | None,
               rows: list[tuple[str, int]]) -> tuple[object, ...]:
    """What the list's ETag hashes: the caller, the day, the filter, the rule of
    readiness and the (job ID, version) of the jobs shown, in ID order."""
    return ("jobs", versions.caller(user, settings.timezone), day, needs, settings.min_photos, rows)


def detail_parts(serviceJobId: str) -> tuple[object, ...]:
    d, user = deps(), current_user()
    version = versions.version_of(get_session(), user, serviceJobId)
    return ("job", versions.caller(user, d.settings.timezone), serviceJobId, d.settings.min_photos, version)
