"""Engine, one session per app context, the unit of work, and the Alembic wiring.

Service entry points own their transactions: `with transaction(session):`
commits when the block ends and rolls back when it raises. Domain steps never
commit. The teardown always rolls back whatever a request left open, so a
failed request writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app, g
from sqlalchemy import DateTime, MetaData, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from techapi.clock import as_utc

MIGRATIONS = Path(__file__).parent / "migrations"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC and always hands back aware UTC values.

    SQLite has no time zones; without this, values come back naive and
    comparisons with aware datetimes raise.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else as_utc(value)


class SchemaOutdated(RuntimeError):
    """The database schema is not at the migrations' head."""


def make_engine(url: str) -> Engine:
    # hide_parameters: a logged database error never carries the values (a GPS position, a token hash).
    kwargs: dict[str, Any] = {"future": True, "hide_parameters": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    else:
        # No pre-ping (a round trip on every checkout); connections are recycled
        # instead, and a dead one fails one request, which the client retries.
        kwargs.update(pool_recycle=300, pool_size=5, max_overflow=10)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgres_session)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; emit it ourselves so
        # SELECT ... then UPDATE inside one service call is really one transaction.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


def _postgres_session(dbapi_conn: Any, _record: Any) -> None:
    # psycopg prepares a statement after its fifth run, and PostgreSQL then moves to a
    # generic plan, blind to the values: for the job list (a technician's ID, a day's
    # bounds) that plan took 2.5 times as long as planning each run afresh (1.2 ms
    # against 0.45 ms, measured on the load bench's data, before job_technicians carried
    # the job's start). The app's other reads by range (a store's day, the reports) have
    # that shape still: keep the prepared statements (no parsing), plan each run with its
    # values. techapi.reads.fast, whose statements plan well either way, keeps its plans.
    autocommit = dbapi_conn.autocommit
    dbapi_conn.autocommit = True
    with dbapi_conn.cursor() as cur:
        cur.execute("SET plan_cache_mode = force_custom_plan")
    dbapi_conn.autocommit = autocommit


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.on_dispose: list[Callable[[], None]] = []  # connections held outside the engine's pool
        # Reads that write nothing: on PostgreSQL in autocommit, which spares each request its
        # BEGIN and ROLLBACK round trips (each statement sees its own snapshot; the read views
        # that use it run one query after authentication). A write through one is refused.
        if self.engine.dialect.name == "postgresql":
            self.read_sessions = sessionmaker(self.engine.execution_options(isolation_level="AUTOCOMMIT"),
                                              expire_on_commit=False)
            event.listen(self.read_sessions, "before_flush", _refuse_writes)
        else:  # SQLite: a read in a transaction costs no round trip
            self.read_sessions = self.sessions

    def init_app(self, app: Flask) -> None:
        app.extensions["techapi.db"] = self
        app.teardown_appcontext(_close_session)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session outside a request (CLI, worker, reads): rolled back unless committed."""
        session = self.sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A new session holding one unit of work (worker, CLI)."""
        with self.session() as session, transaction(session):
            yield session

    # Migrations -------------------------------------------------------------

    def alembic_config(self) -> AlembicConfig:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return cfg

    def upgrade(self) -> None:
        """Bring the schema to head; idempotent."""
        cfg = self.alembic_config()
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(self.alembic_config()).get_current_head()

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def check_schema(self) -> None:
        current, head = self.current_revision(), self.head_revision()
        if current != head:
            raise SchemaOutdated(
                f"database schema is at {current or 'nothing'}, code expects {head}: "
                "run `techapi db upgrade` first"
            )

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        for close in self.on_dispose:
            close()
        self.engine.dispose()


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """One unit of work on `session`: committed when the block ends normally,
    rolled back when it raises, so nothing is ever half-written."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def end_read(session: Session) -> None:
    """End a transaction that only read, keeping what it loaded. On SQLite every
    transaction holds the write lock (BEGIN IMMEDIATE), so one that is followed by
    slow work (password hashing, image decoding) must not stay open."""
    session.commit()


def get_db() -> Database:
    return current_app.extensions["techapi.db"]


def get_session() -> Session:
    """The request's session, created on first use (a read-only one after read_only())."""
    if "db_session" not in g:
        db = get_db()
        g.db_session = db.read_sessions() if g.get("read_only") else db.sessions()
    return g.db_session


def read_only() -> None:
    """This request only reads: its session, when made, skips the transaction round trips."""
    g.read_only = True


def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a read-only session was asked to write")


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()
