"""The delta feed: what changed in the caller's offline window since their cursor.

The window is today (in the caller's time zone) and the next
TECHAPI_OFFLINE_WINDOW_DAYS days. Without a cursor, or with one from an earlier
day, the answer holds the whole window (`full`), and with an earlier day's cursor
also the jobs that left it since. With a cursor of today it holds the caller's
jobs stamped above the cursor (techapi.jobs.changes): those in the window as
summaries, those now outside it, or no longer the caller's, as removed IDs.

Every answer covers the counter values up to one upper bound, fixed by its first
page; later pages walk that same range in job ID order, so a job changed while a
client pages is never lost: it is stamped above the bound and comes next time.
A poll with nothing new costs one small query after authentication."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Row, Select, or_, select
from sqlalchemy.orm import Session

from techapi.auth.models import Role, User
from techapi.clock import Clock, day_bounds, local_today
from techapi.config import Settings
from techapi.errors import GoneError
from techapi.jobs import changes
from techapi.jobs.models import Job, JobDeparture
from techapi.jobs.services import visible
from techapi.jobs.versions import caller
from techapi.reads.cursor import BadCursor, Cursor, caller_digest, decode, encode
from techapi.reads.jobs import JobSummary, listed_rows, summarise

PAGE = 200
CHUNK = 500
RESYNC = "call GET /v1/sync/changes again without `since` and replace what you hold"


@dataclass(frozen=True)
class Changes:
    changes: list[JobSummary]
    removed: list[str]
    cursor: str
    has_more: bool
    full: bool
    window_from: date
    window_to: date
    timezone: str


@dataclass(frozen=True)
class Window:
    first: date
    last: date
    lo: datetime
    hi: datetime

    def holds(self, job: Row) -> bool:
        return job.appointment_start is not None and self.lo <= job.appointment_start < self.hi


def _window(first: date, days: int, tz: str) -> Window:
    last = first + timedelta(days=days)
    return Window(first, last, day_bounds(first, tz)[0], day_bounds(last, tz)[1])


def _accepted(text: str, epoch: str, who: str, today: date, days: int) -> Cursor:
    try:
        cursor = decode(text)
    except BadCursor:
        raise GoneError(f"This cursor is not one this server issued: {RESYNC}") from None
    if cursor.epoch != epoch or cursor.caller != who:
        raise GoneError(f"This cursor was issued to another caller, another account state or another "
                        f"database: {RESYNC}")
    if not today - timedelta(days=days) <= cursor.window <= today:
        raise GoneError(f"This cursor is older than the offline window ({days} days): {RESYNC}")
    return cursor


def _departed(session: Session, user: User, since: int, upto: int) -> set[str]:
    """Jobs taken away from the caller (technician unnamed, job moved to another store)."""
    if user.role == Role.TECHNICIAN:
        whose = JobDeparture.technician_id == user.technician_id
    elif user.role == Role.SUPERVISOR:
        whose = JobDeparture.store_id.in_(user.store_ids)
    else:
        return set()  # an admin sees every job wherever it goes
    return set(session.scalars(select(JobDeparture.service_job_id).distinct()
                               .where(JobDeparture.seq > since, JobDeparture.seq <= upto, whose)))


def _in_window(session: Session, user: User, window: Window, ids: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(ids)
    for i in range(0, len(ordered), CHUNK):  # bound the statement's parameters however many left
        query = select(Job.service_job_id).where(Job.service_job_id.in_(ordered[i:i + CHUNK]),
                                                 Job.appointment_start >= window.lo, Job.appointment_start < window.hi)
        found.update(session.scalars(visible(query, user)))
    return found


def _left_behind(session: Session, user: User, old: Window, window: Window) -> set[str]:
    """The caller's jobs of the days the window has moved past since the cursor."""
    if old.first >= window.first:
        return set()
    query = select(Job.service_job_id).where(Job.appointment_start >= old.lo, Job.appointment_start < window.lo)
    return set(session.scalars(visible(query, user)))


def _removed(session: Session, user: User, cursor: Cursor, upto: int, window: Window, tz: str,
             days: int) -> set[str]:
    departed = _departed(session, user, cursor.since, upto)
    gone = departed - _in_window(session, user, window, departed)
    if cursor.window < window.first:  # a new day: the page query sees only the window, so ask for the rest
        outside = or_(Job.appointment_start.is_(None), Job.appointment_start < window.lo,
                      Job.appointment_start >= window.hi)
        changed = select(Job.service_job_id).where(Job.change_seq > cursor.since, Job.change_seq <= upto, outside)
        gone |= set(session.scalars(visible(changed, user)))
        gone |= _left_behind(session, user, _window(cursor.window, days, tz), window)
    return gone


def _page(user: User, since: int, upto: int, after: str, window: Window | None) -> Select:
    query = select(Job).where(Job.change_seq > since, Job.change_seq <= upto, Job.service_job_id > after)
    if window is not None:
        query = query.where(Job.appointment_start >= window.lo, Job.appointment_start < window.hi)
    return visible(query, user).order_by(Job.service_job_id).limit(PAGE + 1)


def _nothing_new(cursor: Cursor, since: str, top: int, today: date, window: Window, tz: str) -> Changes | None:
    """The answer to a settled cursor of today when the counter has not moved: itself."""
    if cursor.paging or cursor.window != today or top != cursor.since:
        return None
    return Changes([], [], since, False, False, window.first, window.last, tz)


def unchanged(user: User, since: str, top: int, epoch: str, clock: Clock, settings: Settings) -> Changes | None:
    """delta's answer when `since` is a valid settled cursor of today and the counter
    (`top`, `epoch`, as changes.current reads them) has not moved since; None
    whenever delta has more to do (or a 410 to give)."""
    tz, days = user.timezone or settings.timezone, settings.offline_window_days
    today = local_today(clock, tz)
    try:
        cursor = _accepted(since, epoch, caller_digest(caller(user, settings.timezone)), today, days)
    except GoneError:
        return None
    return _nothing_new(cursor, since, top, today, _window(today, days, tz), tz)


def delta(session: Session, user: User, since: str | None, clock: Clock, settings: Settings) -> Changes:
    """The caller's changes since `since` (everything in the window without it), one page."""
    tz, days = user.timezone or settings.timezone, settings.offline_window_days
    today = local_today(clock, tz)
    window = _window(today, days, tz)
    top, epoch = changes.current(session)
    who = caller_digest(caller(user, settings.timezone))
    start = Cursor(epoch, who, since=0, window=today)
    removed: set[str] = set()
    if since is None:
        cursor, upto, full = start, top, True
    else:
        cursor = _accepted(since, epoch, who, today, days)
        if cursor.paging and cursor.window == today:
            upto, full = cursor.upto, cursor.full
        else:  # a settled cursor, or pages begun on an earlier day: start a new answer
            full, upto = cursor.window < today, top
            if nothing := _nothing_new(cursor, since, top, today, window, tz):
                return nothing
            removed = _removed(session, user, cursor, upto, window, tz, days)
            cursor = Cursor(epoch, who, since=cursor.since, window=today)
    # A full answer starts below 0: jobs written before the counter existed are still at 0.
    rows = listed_rows(session, _page(user, -1 if full else cursor.since, upto, cursor.after,
                                      window if full else None))
    has_more = len(rows) > PAGE
    rows = rows[:PAGE]
    current = [j for j in rows if window.holds(j)]
    removed |= {j.service_job_id for j in rows if not window.holds(j)}
    if has_more:
        after = Cursor(epoch, who, cursor.since, today, upto=upto, after=rows[-1].service_job_id, full=full)
    else:
        after = Cursor(epoch, who, since=upto, window=today)
    return Changes(summarise(current, settings.min_photos), sorted(removed), encode(after), has_more,
                   full, window.first, window.last, tz)
