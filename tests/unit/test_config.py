"""Settings from the environment: defaults, validation, secrets kept out of sight."""

from __future__ import annotations

import base64
from dataclasses import fields

import pytest

from techapi.config import ConfigError, Secret, Settings, decode_webhook_secret, load_settings
from techapi.settings_declaration import declared

REAL = {
    "TECHAPI_SPAPI_ENDPOINT": "https://sellingpartnerapi-na.amazon.com",
    "TECHAPI_LWA_CLIENT_ID": "amzn1.application-oa2-client.abc",
    "TECHAPI_LWA_CLIENT_SECRET": "super-secret-value-123",
    "TECHAPI_LWA_REFRESH_TOKEN": "Atzr|refresh-token-value-456",
}


def test_defaults_are_sandbox_sqlite_in_the_instance_folder(tmp_path):
    s = load_settings(environ={}, instance_path=str(tmp_path))
    assert s.sandbox and s.embedded_defaults
    assert s.database_url == f"sqlite:///{tmp_path}/techapi.db"
    assert s.marketplace_id == "ATVPDKIKX0DER" and s.timezone == "UTC"
    assert s.lwa_token_url == "https://api.amazon.com/auth/o2/token"


def test_real_endpoint_needs_the_lwa_credentials(tmp_path):
    env = {**REAL}
    del env["TECHAPI_LWA_REFRESH_TOKEN"]
    with pytest.raises(ConfigError, match="TECHAPI_LWA_REFRESH_TOKEN"):
        load_settings(environ=env, instance_path=str(tmp_path))
    s = load_settings(environ=REAL, instance_path=str(tmp_path))
    assert not s.sandbox and s.spapi_endpoint == "https://sellingpartnerapi-na.amazon.com"


@pytest.mark.parametrize("name, value", [
    ("TECHAPI_DATABASE_URL", "mysql://x/y"),
    ("TECHAPI_DATABASE_URL", "postgresql://u@h/db"),
    ("TECHAPI_SPAPI_ENDPOINT", "http://sellingpartnerapi-na.amazon.com"),
    ("TECHAPI_SPAPI_ENDPOINT", "ftp://x"),
    ("TECHAPI_LWA_TOKEN_URL", "https://user:pw@api.amazon.com/auth/o2/token"),
    ("TECHAPI_TIMEZONE", "Mars/Olympus"),
    ("TECHAPI_MARKETPLACE_ID", "us-east"),
    ("TECHAPI_TOKEN_TTL_SECONDS", "soon"),
    ("TECHAPI_TOKEN_TTL_SECONDS", "5"),
    ("TECHAPI_SPAPI_READ_TIMEOUT", "-1"),
    ("TECHAPI_SECRET_KEY", "short"),
    ("TECHAPI_LOG_LEVEL", "LOUD"),
])
def test_an_invalid_value_is_reported_with_its_variable_name(tmp_path, name, value):
    with pytest.raises(ConfigError) as info:
        load_settings(environ={**REAL, name: value}, instance_path=str(tmp_path))
    assert str(info.value).startswith(name)


def test_plain_http_is_allowed_for_loopback_only(tmp_path):
    s = load_settings(environ={**REAL, "TECHAPI_SPAPI_ENDPOINT": "http://127.0.0.1:8100/"},
                      instance_path=str(tmp_path))
    assert s.spapi_endpoint == "http://127.0.0.1:8100"


def test_postgresql_with_psycopg_is_accepted(tmp_path):
    url = "postgresql+psycopg://postgres:pw@127.0.0.1:5432/test"
    s = load_settings(environ={"TECHAPI_DATABASE_URL": url}, instance_path=str(tmp_path))
    assert s.database_url == url and not s.embedded_defaults
    assert "pw" not in str(s.public_dict())


def test_secrets_never_show_in_repr_or_the_public_view(tmp_path):
    s = load_settings(environ={**REAL, "TECHAPI_SECRET_KEY": "k" * 32}, instance_path=str(tmp_path))
    for text in (repr(s), str(s.public_dict())):
        assert "super-secret-value-123" not in text
        assert "refresh-token-value-456" not in text
        assert "k" * 32 not in text
    assert s.lwa_client_secret.reveal() == "super-secret-value-123"


WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
PREVIOUS_SECRET = "whsec_" + base64.b64encode(b"o" * 32).decode()


def test_every_attribute_but_the_derived_flag_is_declared_with_a_variable_and_help():
    names = {f.name for f in fields(Settings)}
    declared_names = {f.name for f, _ in declared(Settings)}
    assert names - declared_names == {"secret_key_generated"}
    for _, declaration in declared(Settings):
        assert all(var.startswith("TECHAPI_") for var in declaration.env) and declaration.help


def test_the_worker_retry_metrics_and_argon2_settings_have_their_defaults(tmp_path):
    s = load_settings(environ={}, instance_path=str(tmp_path))
    assert (s.task_max_attempts, s.task_backoff_max_seconds, s.worker_metrics_port) == (8, 900.0, None)
    assert (s.argon2_time_cost, s.argon2_memory_kib) == (3, 65536)
    assert s.storage_url == f"file://{tmp_path}/blobs"


def test_the_worker_retry_metrics_and_argon2_settings_are_read_from_the_environment(tmp_path):
    s = load_settings(environ={
        "TECHAPI_TASK_MAX_ATTEMPTS": "3", "TECHAPI_TASK_BACKOFF_MAX_SECONDS": "86400",
        "TECHAPI_WORKER_METRICS_PORT": "9100", "TECHAPI_ARGON2_TIME_COST": "1", "TECHAPI_ARGON2_MEMORY_KIB": "1024",
    }, instance_path=str(tmp_path))
    assert (s.task_max_attempts, s.task_backoff_max_seconds, s.worker_metrics_port) == (3, 86400.0, 9100)
    assert (s.argon2_time_cost, s.argon2_memory_kib) == (1, 1024)


@pytest.mark.parametrize("name, value, message", [
    ("TECHAPI_TOKEN_TTL_SECONDS", "soon", "expected a whole number, got 'soon'"),
    ("TECHAPI_TOKEN_TTL_SECONDS", "5", "must be at least 60, got 5"),
    ("TECHAPI_SPAPI_READ_TIMEOUT", "601", "must be between 0 and 600 seconds, got 601"),
    ("TECHAPI_SPAPI_CONNECT_TIMEOUT", "x", "expected a number of seconds, got 'x'"),
    ("TECHAPI_SECRET_KEY", "short", "must be at least 16 characters"),
    ("TECHAPI_LOG_LEVEL", "loud", "expected DEBUG, INFO, WARNING or ERROR, got 'LOUD'"),
    ("TECHAPI_LOG_FORMAT", "xml", "expected one of json, text, got 'xml'"),
    ("TECHAPI_REQUIRE_APPROVAL", "Maybe", "expected true or false, got 'maybe'"),
    ("TECHAPI_MIN_PHOTOS", "-1", "must be at least 0, got -1"),
    ("TECHAPI_STORAGE_URL", "file://relative", "expected file:///absolute/path or s3://bucket/prefix, got "
                                               "'file://relative'"),
    ("TECHAPI_S3_ENDPOINT_URL", "http://10.0.0.5:9000", "must use https (plain http is allowed for loopback only)"),
    ("TECHAPI_UPLOAD_ALLOWED_HOSTS", "*.com", "'*.com' is too broad; use *.example.com"),
    ("TECHAPI_UPLOAD_ALLOWED_HOSTS", " , ", "list at least one host"),
    ("TECHAPI_REDIS_URL", "http://cache", "expected redis://host:port/db or rediss://..."),
    ("TECHAPI_WEBHOOK_SECRET", "abc", "must start with whsec_"),
    ("TECHAPI_WEBHOOK_SECRET_PREVIOUS", "whsec_!!", "is not whsec_ followed by base64"),
    ("TECHAPI_TASK_MAX_ATTEMPTS", "0", "must be at least 1, got 0"),
    ("TECHAPI_TASK_BACKOFF_MAX_SECONDS", "0", "must be between 0 and 86400 seconds, got 0"),
    ("TECHAPI_TASK_BACKOFF_MAX_SECONDS", "86401", "must be between 0 and 86400 seconds, got 86401"),
    ("TECHAPI_WORKER_METRICS_PORT", "0", "expected a port number from 1 to 65535, got '0'"),
    ("TECHAPI_WORKER_METRICS_PORT", "65536", "expected a port number from 1 to 65535, got '65536'"),
    ("TECHAPI_ARGON2_TIME_COST", "0", "must be at least 1, got 0"),
    ("TECHAPI_ARGON2_MEMORY_KIB", "1023", "must be at least 1024, got 1023"),
])
def test_an_invalid_value_gets_the_message_for_its_rule(tmp_path, name, value, message):
    with pytest.raises(ConfigError) as info:
        load_settings(environ={name: value}, instance_path=str(tmp_path))
    assert str(info.value) == f"{name}: {message}"


def test_a_missing_lwa_credential_is_named_in_the_message(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings(environ={**REAL, "TECHAPI_LWA_CLIENT_SECRET": " "}, instance_path=str(tmp_path))
    assert str(info.value) == "TECHAPI_LWA_CLIENT_SECRET: required when TECHAPI_SPAPI_ENDPOINT is not 'sandbox'"


def test_the_webhook_secrets_are_the_current_one_then_the_previous_one(tmp_path):
    s = load_settings(environ={"TECHAPI_WEBHOOK_SECRET": WEBHOOK_SECRET,
                               "TECHAPI_WEBHOOK_SECRET_PREVIOUS": PREVIOUS_SECRET}, instance_path=str(tmp_path))
    assert [secret.reveal() for secret in s.webhook_secrets] == [WEBHOOK_SECRET, PREVIOUS_SECRET]
    alone = load_settings(environ={"TECHAPI_WEBHOOK_SECRET_PREVIOUS": PREVIOUS_SECRET}, instance_path=str(tmp_path))
    assert [secret.reveal() for secret in alone.webhook_secrets] == [PREVIOUS_SECRET]
    assert s.public_dict()["webhook_secrets"] == ["***", "***"]


def test_a_secret_key_that_was_given_is_kept_and_not_flagged_as_generated(tmp_path):
    given = load_settings(environ={"TECHAPI_SECRET_KEY": "k" * 32}, instance_path=str(tmp_path))
    assert given.secret_key.reveal() == "k" * 32 and not given.secret_key_generated
    made_up = load_settings(environ={}, instance_path=str(tmp_path))
    assert len(made_up.secret_key.reveal()) >= 32 and made_up.secret_key_generated


def test_the_instance_path_comes_from_the_environment_first_and_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={"TECHAPI_INSTANCE_PATH": "var/techapi"}, instance_path="/elsewhere")
    assert s.instance_path == str(tmp_path / "var" / "techapi")
    assert s.database_url == f"sqlite:///{tmp_path}/var/techapi/techapi.db" and s.embedded_defaults


def test_overrides_wrap_secrets_and_refuse_unknown_names(tmp_path):
    s = load_settings(environ={}, instance_path=str(tmp_path)).with_overrides(
        secret_key="x" * 20, lwa_client_secret="lwa", webhook_secrets=[WEBHOOK_SECRET], argon2_time_cost=1)
    assert s.secret_key == Secret("x" * 20) and s.lwa_client_secret == Secret("lwa")
    assert s.webhook_secrets == (Secret(WEBHOOK_SECRET),) and s.argon2_time_cost == 1
    with pytest.raises(ConfigError, match=r"unknown setting\(s\): nope"):
        s.with_overrides(nope=1)


def test_the_public_view_takes_passwords_out_of_every_url(tmp_path):
    s = load_settings(environ={"TECHAPI_REDIS_URL": "redis://:hunter2-pw@cache:6379/0"}, instance_path=str(tmp_path))
    assert s.public_dict()["redis_url"] == "redis://:***@cache:6379/0"
    assert s.redis_url == "redis://:hunter2-pw@cache:6379/0"


def test_a_webhook_secret_decodes_to_its_key():
    assert decode_webhook_secret(WEBHOOK_SECRET) == b"k" * 32


@pytest.mark.parametrize("value, message", [
    ("abc", "must start with whsec_"),
    ("whsec_not base64", "is not whsec_ followed by base64"),
    ("whsec_" + base64.b64encode(b"k" * 15).decode(), "key must be at least 16 bytes"),
])
def test_a_malformed_webhook_secret_is_refused_with_its_reason(value, message):
    with pytest.raises(ValueError) as info:
        decode_webhook_secret(value)
    assert str(info.value) == message
