"""Migrations from empty, on SQLite and PostgreSQL (whichever this run targets)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from techapi import create_app
from techapi.config import load_settings
from techapi.db import Base, Database, SchemaOutdated
from techapi.logs import RedactingFilter


def test_migrations_create_every_table_on_an_empty_database(empty_database_url):
    db = Database(empty_database_url())
    assert db.current_revision() is None
    db.upgrade()
    assert db.current_revision() == db.head_revision()
    tables = set(inspect(db.engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    db.upgrade()  # idempotent
    assert db.current_revision() == db.head_revision()
    db.dispose()


def test_migrated_schema_matches_the_models(empty_database_url):
    db = Database(empty_database_url())
    db.upgrade()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    db.dispose()
    assert diff == [], "models changed without a migration"


def test_the_app_refuses_to_start_on_an_outdated_schema(empty_database_url, tmp_path):
    settings = load_settings(environ={"TECHAPI_DATABASE_URL": empty_database_url(),
                                      "TECHAPI_INSTANCE_PATH": str(tmp_path)})
    with pytest.raises(SchemaOutdated, match="run `techapi db upgrade`"):
        create_app(settings)


def test_times_come_back_as_aware_utc(deps, synced):
    from sqlalchemy import select

    from techapi.jobs.models import Job

    with deps.db.session() as session:
        start = session.scalars(select(Job.appointment_start).where(Job.appointment_start.is_not(None))).first()
    assert start.tzinfo is not None
    assert start.utcoffset().total_seconds() == 0


def test_a_logged_database_error_never_carries_the_values_it_was_given(clean_database):
    """Errors are logged with their text: a GPS position or a token hash must not be in it,
    neither as SQLAlchemy's parameters nor in PostgreSQL's own detail of the failing row."""
    db = Database(clean_database)
    secret = "47.6100-secret-value"
    try:
        with pytest.raises(IntegrityError) as raised, db.engine.begin() as conn:
            conn.execute(text("INSERT INTO users (username) VALUES (:v)"), {"v": secret})
        conn2 = db.engine.connect()
        with conn2.begin():
            conn2.execute(text("INSERT INTO login_failures (username, client, at) VALUES (:v, 'c', :at)"),
                          {"v": secret, "at": datetime(2026, 6, 15, tzinfo=UTC)})
        with pytest.raises(IntegrityError) as duplicate, conn2.begin():
            conn2.execute(text("INSERT INTO login_failures (id, username, client, at) "
                               "SELECT id, username, client, at FROM login_failures"))
        conn2.close()
    finally:
        db.dispose()
    assert "hidden due to hide_parameters" in str(raised.value)
    redact = RedactingFilter([]).redact
    for error in (raised.value, duplicate.value):
        record = logging.LogRecord("techapi", logging.ERROR, __file__, 1, "failed: %s", (error,), None)
        assert RedactingFilter([]).filter(record) and secret not in record.getMessage()
        assert secret not in redact(str(error))
