"""The phone's polls, answered beneath the framework (PostgreSQL).

A technician's phone asks the same three things all day: its job list
(GET /v1/jobs), the same with If-None-Match (mostly a 304) and the delta feed
with its cursor (GET /v1/sync/changes?since=..., mostly nothing new). Through
Flask, flask-smorest, webargs and an ORM session each of them took about 2.4 ms
of CPU, ten times what the SQL costs. This WSGI layer answers exactly those
requests, when they are plain (no parameter but `date`, or but `since`; a
technician's bearer token; no body), with ONE statement that checks the token
and reads what the answer needs, and it writes the same body and headers the
views write (tests/api/test_fast_reads.py compares them, request by request).

Whatever it is not sure of goes to the app untouched, which answers as it always
did: another parameter, another conditional header (If-Match, Range...), a token
that fails a check (401) or is not a technician's, a cursor with more to say or
none to accept (410), a HEAD, a body, a database error. The rules stay written once: the statements are
the views' own (reads.jobs, visibility from jobs.services), and so are the ETag
parts (reads.etags.list_parts), the cursor's check (reads.changes.unchanged),
the encoder (reads.encode), the compression (flask-compress's) and the access
log and metrics (observability.record).

The token is checked in the same statement as the data, against the columns the
app checks (revoked, expired, account disabled, role, technician, time zone,
stores), so a revoked token is refused by the very next poll. What a token maps
to is remembered per process (bounded) only to choose the statement and bind
the technician's ID before it runs.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Flask
from flask_compress.flask_compress import _choose_algorithm, _compress_data
from sqlalchemy import Engine, Select, bindparam, func, select, true
from werkzeug.http import parse_etags, quote_etag

from techapi.auth.models import AccessToken, Role, User, UserStore
from techapi.auth.services import token_hash
from techapi.clock import Clock, day_bounds, local_today
from techapi.compression import ALGORITHMS, representation
from techapi.conditional import CACHE_CONTROL, opaque_tag
from techapi.config import Settings
from techapi.edge.times import EARLIEST, LATEST
from techapi.jobs.models import ChangeCounter
from techapi.jobs.services import viewer
from techapi.observability import record, request_id
from techapi.reads import encode
from techapi.reads.changes import unchanged
from techapi.reads.etags import list_parts
from techapi.reads.jobs import DAY_ORDER, JobList, day_rows_statement, day_versions_statement, summarise

log = logging.getLogger(__name__)

JOBS, CHANGES = "/v1/jobs", "/v1/sync/changes"
DATE_QUERY = re.compile(r"date=(\d{4})-(\d{2})-(\d{2})")
SINCE_QUERY = re.compile(r"since=([A-Za-z0-9._~%-]{1,1024})")
BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +([\x21-\x7e]{1,512}) *")
KNOWN_TOKENS = 10_000  # token -> technician, per process
OTHER_CONDITIONS = ("HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE", "HTTP_IF_MODIFIED_SINCE", "HTTP_RANGE",
                    "HTTP_IF_RANGE")
KNOWN_LISTS = 10_000  # a day's list -> its versions and the counter they were read at, per process
CONNECTION_AGE = 300  # seconds, as the engine's pool_recycle
MIN_COMPRESSED = 1024  # as COMPRESS_MIN_SIZE

_T, _U, _S = AccessToken.__table__.c, User.__table__.c, UserStore.__table__.c


@dataclass(frozen=True)
class Caller:
    """A technician as the statements and the ETag see them (techapi.jobs.versions.caller)."""

    id: int
    role: str
    technician_id: str
    timezone: str | None
    store_ids: tuple[str, ...] = ()


@dataclass
class Answer:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    user_id: int


SOMEONE_ELSE = Caller(0, "", "", None)  # remembered for a token that is not a technician's


class NotSure(Exception):
    """The app answers this one."""


# -- statements ---------------------------------------------------------------------------------------------


def _caller_row():
    """The token's row, as the app checks it: one row or none (a subquery named `caller`)."""
    stores = select(func.count()).where(_S.user_id == _U.id).scalar_subquery()
    return (select(_T.revoked_at.label("caller_revoked_at"), _T.expires_at.label("caller_expires_at"),
                   _U.id.label("caller_id"), _U.role.label("caller_role"),
                   _U.technician_id.label("caller_technician_id"), _U.timezone.label("caller_timezone"),
                   _U.active.label("caller_active"), stores.label("caller_stores"))
            .select_from(AccessToken.__table__.join(User.__table__, _U.id == _T.user_id))
            .where(_T.token_hash == bindparam("token_hash")).subquery("caller"))


def _counter() -> tuple[Any, Any]:
    """The change counter's value and epoch (techapi.jobs.changes.current), as two columns."""
    c = ChangeCounter.__table__.c
    return (select(c.value).where(c.id == 1).scalar_subquery().label("top"),
            select(c.epoch).where(c.id == 1).scalar_subquery().label("epoch"))


def _with_caller(answer: Select | None = None, order: tuple[str, ...] = ()) -> Select:
    """The caller's row and the change counter, with every row of `answer` (none: one row of NULLs).
    One statement is one snapshot: the counter says which changes the answer holds."""
    caller = _caller_row()
    if answer is None:
        return select(caller, *_counter())
    rows = answer.subquery("answer")
    return (select(caller, *_counter(), rows).select_from(caller.outerjoin(rows, true()))
            .order_by(*[rows.c[k] for k in order]))


class Prepared:
    """A statement compiled once for psycopg, with its columns' result processing
    (UTCDateTime's as_utc) and the values of its constants; rows come back as named tuples."""

    def __init__(self, statement: Select, engine: Engine) -> None:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string:
            raise ValueError("an expanding parameter (IN of a list) cannot be compiled once")
        self.sql = compiled.string
        self.constants = {k: v for k, v in compiled.params.items() if v is not None}
        columns = list(statement.selected_columns)
        self.row = namedtuple("Row", [c.key for c in columns])  # type: ignore[misc]  # noqa: PYI024
        self.processors = [(i, p) for i, c in enumerate(columns)
                           if (p := c.type.dialect_impl(dialect).result_processor(dialect, None)) is not None]

    def run(self, connection: Any, values: dict[str, Any]) -> list[Any]:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, {**self.constants, **values})
            raw = cursor.fetchall()
        if not self.processors:
            return [self.row._make(r) for r in raw]
        out = []
        for r in raw:
            items = list(r)
            for i, process in self.processors:
                items[i] = process(items[i])
            out.append(self.row._make(items))
        return out


class Connections:
    """This process's connections for the fast reads: autocommit (one statement, no BEGIN),
    made by the engine (its on-connect settings), kept out of its pool, recycled as it would."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.idle: queue.LifoQueue = queue.LifoQueue()
        self.observers: list[Callable[[str], None]] = []  # each statement's SQL, before it runs (tests count them)

    @staticmethod
    def _fresh(item: tuple[Any, float]) -> bool:
        return not item[0].closed and time.monotonic() - item[1] < CONNECTION_AGE

    def _take(self) -> tuple[Any, float]:
        while True:
            try:
                item = self.idle.get_nowait()
            except queue.Empty:
                break
            if self._fresh(item):
                return item
            item[0].close()
        pooled = self.engine.raw_connection()
        pooled.detach()
        connection = pooled.dbapi_connection
        connection.autocommit = True
        with connection.cursor() as cursor:  # the engine plans every run afresh (techapi.db); these need not
            cursor.execute("SET plan_cache_mode = auto")
        return connection, time.monotonic()

    def close(self) -> None:
        while True:
            try:
                self.idle.get_nowait()[0].close()
            except queue.Empty:
                return

    def run(self, prepared: Prepared, values: dict[str, Any]) -> list[Any]:
        item = self._take()
        for observe in self.observers:
            observe(prepared.sql)
        try:
            rows = prepared.run(item[0], values)
        except BaseException:
            item[0].close()  # whatever state it is in, it is not worth keeping
            raise
        self.idle.put(item)
        return rows


# -- the layer ----------------------------------------------------------------------------------------------


class FastReads:
    """WSGI middleware in front of the app (see the module's docstring)."""

    def __init__(self, app: Flask, wsgi_app: Callable, settings: Settings, clock: Clock, engine: Engine) -> None:
        self.app, self.next, self.settings, self.clock = app, wsgi_app, settings, clock
        # Every statement here plans the same whatever its values (a technician's day is one range
        # of their own index, migration 0013): planned once per connection, not on every run.
        self.connections = Connections(engine)
        tech = Role.TECHNICIAN.value
        self.caller = Prepared(_with_caller(), engine)
        self.rows = Prepared(_with_caller(day_rows_statement(tech, None), order=DAY_ORDER), engine)
        self.versions = Prepared(_with_caller(day_versions_statement(tech, None)), engine)
        self.known: OrderedDict[str, Caller] = OrderedDict()  # token hash -> technician, or SOMEONE_ELSE
        # (technician, day's bounds) -> (counter, epoch, versions): a list's versions as of that counter value.
        self.lists: OrderedDict[tuple[object, ...], tuple[int, str, list[tuple[str, int]]]] = OrderedDict()
        self.polls: OrderedDict[tuple[object, ...], Answer] = OrderedDict()  # delta polls with nothing new
        self.lock = threading.Lock()

    def close(self) -> None:
        """Close the idle connections (the engine's dispose does not know them)."""
        self.connections.close()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        try:
            answer = self._answer(environ)
        except NotSure:
            return self.next(environ, start_response)
        except Exception as exc:  # noqa: BLE001 (a database error, a bug: the app answers)
            log.warning("fast read gave way to the app: %s", type(exc).__name__)
            return self.next(environ, start_response)
        rid = request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        start_response(answer.status, [*answer.headers, ("X-Request-ID", rid)])
        record("GET", environ["PATH_INFO"], int(answer.status[:3]), started, rid, answer.user_id)
        return [answer.body]

    # The request ------------------------------------------------------------------------------------------

    def _answer(self, environ: dict[str, Any]) -> Answer:
        path = environ.get("PATH_INFO")
        if environ.get("REQUEST_METHOD") != "GET" or path not in (JOBS, CHANGES):
            raise NotSure
        if environ.get("CONTENT_LENGTH") not in (None, "", "0") or "HTTP_TRANSFER_ENCODING" in environ:
            raise NotSure
        if any(k in environ for k in OTHER_CONDITIONS):
            raise NotSure  # flask-compress makes a compressed answer conditional on these (a 412, a 206)
        if any("\x00" in v for k, v in environ.items()
               if (k.startswith("HTTP_") or k == "CONTENT_TYPE") and isinstance(v, str)):
            raise NotSure  # the app's edge refuses it with its own words
        found = BEARER.fullmatch(environ.get("HTTP_AUTHORIZATION", ""))
        if found is None:
            raise NotSure
        hashed = token_hash(found.group(1))
        caller = self._caller(hashed)
        query = environ.get("QUERY_STRING", "")
        if path == JOBS:
            return self._jobs(environ, hashed, caller, query)
        return self._changes(environ, hashed, caller, query)

    def _caller(self, hashed: str) -> Caller:
        with self.lock:
            caller = self.known.get(hashed)
            if caller is not None:
                self.known.move_to_end(hashed)
        if caller is SOMEONE_ELSE:
            raise NotSure  # a supervisor's or an admin's token: the app, at no extra statement
        if caller is not None:
            return caller
        rows = self.connections.run(self.caller, {"token_hash": hashed})
        caller = SOMEONE_ELSE if not rows else Caller(rows[0].caller_id, rows[0].caller_role,
                                                       rows[0].caller_technician_id, rows[0].caller_timezone)
        technician = caller.role == Role.TECHNICIAN.value and bool(caller.technician_id)
        if technician:
            try:
                self._checked(rows[0], caller)
            except NotSure:
                technician = False
        # Not a technician's, or unknown, revoked, expired, disabled: the app's to answer from now on
        # (a token never comes back to life; an account enabled again costs only the fast path).
        with self.lock:
            self.known[hashed] = caller if technician else SOMEONE_ELSE
            while len(self.known) > KNOWN_TOKENS:
                self.known.popitem(last=False)
        if not technician:
            raise NotSure
        return caller

    def _checked(self, row: Any, caller: Caller) -> None:
        """The app's checks of the token, and the caller still the one remembered; else the app answers."""
        if (row.caller_revoked_at is not None or row.caller_expires_at <= self.clock.now() or not row.caller_active
                or (row.caller_id, row.caller_role, row.caller_technician_id, row.caller_timezone)
                != (caller.id, caller.role, caller.technician_id, caller.timezone) or row.caller_stores):
            raise NotSure

    def _run(self, prepared: Prepared, hashed: str, caller: Caller, **values: Any) -> list[Any]:
        rows = self.connections.run(prepared, {"token_hash": hashed, **viewer(caller), **values})  # type: ignore[arg-type]
        try:
            if not rows:
                raise NotSure  # the token is gone
            self._checked(rows[0], caller)
        except NotSure:
            with self.lock:  # looked up afresh next time, and then remembered as not ours
                self.known.pop(hashed, None)
            raise
        return rows

    # GET /v1/jobs -----------------------------------------------------------------------------------------

    def _jobs(self, environ: dict[str, Any], hashed: str, caller: Caller, query: str) -> Answer:
        tz = caller.timezone or self.settings.timezone
        day = _day(query) if query else local_today(self.clock, tz)
        lo, hi = day_bounds(day, tz)
        sent = environ.get("HTTP_IF_NONE_MATCH")
        key = (caller.technician_id, lo, hi)
        if sent is not None:
            tags = _tags(sent)
            opaque = opaque_tag(list_parts(caller, self.settings, day, None,  # type: ignore[arg-type]
                                           self._versions(hashed, caller, key)))
            if opaque in tags:
                return Answer("304 NOT MODIFIED", [("ETag", _echo(sent, opaque)), *_cached()], b"", caller.id)
            # Changed: the 200, as without If-None-Match (a second statement; the app would take three).
        rows = self._run(self.rows, hashed, caller, lo=lo, hi=hi)
        jobs = [r for r in rows if r.service_job_id is not None]
        versions = self._remember(key, rows[0], sorted((r.service_job_id, r.version) for r in jobs))
        answer = JobList(day, tz, summarise(jobs, self.settings.min_photos))
        tag = opaque_tag(list_parts(caller, self.settings, day, None, versions))  # type: ignore[arg-type]
        return self._json(environ, encode.job_list(answer), caller.id, tag)

    def _versions(self, hashed: str, caller: Caller, key: tuple[object, ...]) -> list[tuple[str, int]]:
        """The list's (job ID, version)s. Every commit that changes a job a list shows (its row, its
        technicians, its evidence) moves the change counter (techapi.jobs.changes): while the counter
        is where it was when they were read, they are what a read would find, so a poll checks the
        token and the counter only."""
        with self.lock:
            known = self.lists.get(key)
        if known is not None:
            first = self._run(self.caller, hashed, caller)[0]
            if (first.top, first.epoch) == known[:2]:
                return known[2]
        rows = self._run(self.versions, hashed, caller, lo=key[1], hi=key[2])
        return self._remember(key, rows[0], sorted((r.service_job_id, r.version) for r in rows
                                                   if r.service_job_id is not None))

    def _remember(self, key: tuple[object, ...], first: Any, versions: list[tuple[str, int]]) -> list[tuple[str, int]]:
        if first.top is not None:  # no counter row yet: nothing to check the next poll against
            with self.lock:
                self.lists[key] = (first.top, first.epoch, versions)
                self.lists.move_to_end(key)
                while len(self.lists) > KNOWN_LISTS:
                    self.lists.popitem(last=False)
        return versions

    # GET /v1/sync/changes ---------------------------------------------------------------------------------

    def _changes(self, environ: dict[str, Any], hashed: str, caller: Caller, query: str) -> Answer:
        found = SINCE_QUERY.fullmatch(query)
        if found is None or "%" in found.group(1):
            raise NotSure
        rows = self._run(self.caller, hashed, caller)
        top, epoch = (rows[0].top, rows[0].epoch) if rows[0].top is not None else (0, "")
        # The answer is a function of these alone (the caller checked above): a phone polling an idle
        # account asks the same question every time, so it is worked out once.
        key = (caller, found.group(1), top, epoch, local_today(self.clock, caller.timezone or self.settings.timezone),
               _choose_algorithm(ALGORITHMS, environ.get("HTTP_ACCEPT_ENCODING", "")))
        with self.lock:
            known = self.polls.get(key)
        if known is not None:
            return known
        answer = unchanged(caller, found.group(1), top, epoch, self.clock, self.settings)  # type: ignore[arg-type]
        if answer is None:
            raise NotSure
        done = self._json(environ, encode.changes(answer), caller.id)
        with self.lock:
            self.polls[key] = done
            while len(self.polls) > KNOWN_TOKENS:
                self.polls.popitem(last=False)
        return done

    # Answers ----------------------------------------------------------------------------------------------

    def _json(self, environ: dict[str, Any], data: dict[str, Any], user_id: int, tag: str | None = None) -> Answer:
        # The app's JSON provider, as its response() writes a body outside debug mode.
        body = (self.app.json.dumps(data, separators=(",", ":")) + "\n").encode()
        headers = [("Content-Type", "application/json")]
        algorithm = _choose_algorithm(ALGORITHMS, environ.get("HTTP_ACCEPT_ENCODING", ""))
        if algorithm is not None and len(body) >= MIN_COMPRESSED:
            body = _compress_data(self.app, body, algorithm)
            headers.append(("Content-Encoding", algorithm))
            tag = tag and f"{tag}:{algorithm}"
        headers.append(("Content-Length", str(len(body))))
        if tag is not None:
            headers += [("ETag", quote_etag(tag)), *_cached()]
        else:
            headers.append(("Vary", "Accept-Encoding"))
        return Answer("200 OK", headers, body, user_id)


def _cached() -> Iterator[tuple[str, str]]:
    yield "Cache-Control", CACHE_CONTROL
    yield "Vary", "Authorization, Accept-Encoding"


def _day(query: str) -> date:
    found = DATE_QUERY.fullmatch(query)
    if found is None:
        raise NotSure
    try:
        day = date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        raise NotSure from None
    if not EARLIEST <= day <= LATEST:
        raise NotSure
    return day


def _tags(sent: str) -> set[str]:
    """If-None-Match's tags, strong and weak, by our opaque part (flask-compress's `:gzip` /
    `:br` taken off, as compression._strip_suffixes does); `*`: the app answers."""
    tags = parse_etags(sent)
    if tags.star_tag:
        raise NotSure
    return {representation(tag)[0] for tag in tags.as_set(include_weak=True) if tag}


def _echo(sent: str, opaque: str) -> str:
    """The 304's ETag, as compression._echo_suffix gives it: the client's strong tag of a compressed
    representation when it holds one, else ours."""
    for held in filter(None, parse_etags(sent).as_set(include_weak=False)):
        base, suffix = representation(held)
        if base == opaque and suffix:
            return quote_etag(held)
    return quote_etag(opaque)
