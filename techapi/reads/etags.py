"""What the job list's and the job detail's ETags are computed from: the caller,
the query and the versions of the jobs shown, in one small query (no job loaded)."""

from __future__ import annotations

from typing import Any

from techapi.auth.guard import current_user
from techapi.clock import local_today
from techapi.context import deps
from techapi.db import get_session
from techapi.jobs import versions
from techapi.reads.jobs import list_query


def day_list_parts(args: dict[str, Any]) -> tuple[object, ...]:
    d, user = deps(), current_user()
    tz = user.timezone or d.settings.timezone
    day = args.get("date") or local_today(d.clock, tz)
    needs = args.get("needs")
    rows = versions.versions_of(get_session(), list_query(user, day, tz, needs))
    return ("jobs", versions.caller(user, d.settings.timezone), day, needs, d.settings.min_photos, rows)


def detail_parts(serviceJobId: str) -> tuple[object, ...]:
    d, user = deps(), current_user()
    version = versions.version_of(get_session(), user, serviceJobId)
    return ("job", versions.caller(user, d.settings.timezone), serviceJobId, d.settings.min_photos, version)
