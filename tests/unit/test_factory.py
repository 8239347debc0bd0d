"""create_app, the one composition root: what it reads, what it lets a test
override, and what it refuses (flaskr's test_factory, for techapi)."""

from __future__ import annotations

import os

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from techapi import create_app
from techapi.config import ConfigError, Secret, load_settings
from techapi.db import SchemaOutdated


@pytest.fixture
def made():
    """Apps made by a test, their engines disposed afterwards."""
    apps = []
    yield apps
    for app in apps:
        app.extensions["techapi"].db.dispose()


def settings_for(database_url: str, tmp_path):
    return load_settings(environ={"TECHAPI_DATABASE_URL": database_url, "TECHAPI_INSTANCE_PATH": str(tmp_path)})


def test_without_a_test_config_the_app_reads_the_environment_and_is_not_testing(
        monkeypatch, tmp_path, database_url, made):
    for name in [k for k in os.environ if k.startswith("TECHAPI_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TECHAPI_DATABASE_URL", database_url)
    monkeypatch.setenv("TECHAPI_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("TECHAPI_MIN_PHOTOS", "4")
    app = create_app()
    made.append(app)
    assert not app.testing
    settings = app.extensions["techapi"].settings
    assert settings.database_url == database_url and settings.min_photos == 4
    assert app.instance_path == str(tmp_path)


def test_keyword_overrides_are_applied_over_the_given_settings(tmp_path, database_url, made):
    settings = settings_for(database_url, tmp_path)
    app = create_app(settings, min_photos=3, proxy_fix_hops=2, secret_key="a-test-secret-key-of-some-length")
    made.append(app)
    applied = app.extensions["techapi"].settings
    assert applied.min_photos == 3 and settings.min_photos == 0
    assert isinstance(app.wsgi_app, ProxyFix) and app.wsgi_app.x_for == 2
    # A secret given as a plain string is wrapped, and reaches Flask.
    assert isinstance(applied.secret_key, Secret)
    assert app.config["SECRET_KEY"] == "a-test-secret-key-of-some-length"


def test_without_overrides_the_given_settings_are_used_as_they_are(tmp_path, database_url, made):
    settings = settings_for(database_url, tmp_path)
    app = create_app(settings)
    made.append(app)
    assert app.extensions["techapi"].settings is settings
    assert not isinstance(app.wsgi_app, ProxyFix)


def test_an_unknown_override_is_refused_by_name(tmp_path, database_url):
    with pytest.raises(ConfigError, match=r"unknown setting\(s\): min_fotos"):
        create_app(settings_for(database_url, tmp_path), min_fotos=3)


def test_an_outdated_schema_is_refused_with_what_to_run(tmp_path, empty_database_url):
    with pytest.raises(SchemaOutdated, match="run `techapi db upgrade` first"):
        create_app(settings_for(empty_database_url(), tmp_path))


def test_an_outdated_schema_is_let_through_when_the_caller_says_so(tmp_path, empty_database_url, made):
    app = create_app(settings_for(empty_database_url(), tmp_path), require_current_schema=False)
    made.append(app)
    db = app.extensions["techapi"].db
    assert db.current_revision() is None and db.head_revision() is not None

