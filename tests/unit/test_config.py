"""Settings from the environment: defaults, validation, secrets kept out of sight."""

from __future__ import annotations

import pytest

from techapi.config import ConfigError, load_settings

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
