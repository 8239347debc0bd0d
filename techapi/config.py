"""Settings from TECHAPI_* environment variables, validated once at start-up.

Every invalid value raises ConfigError naming the variable, so an operator
never has to guess which of twenty settings broke the deploy.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SANDBOX = "sandbox"
DEFAULT_LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
DEFAULT_MARKETPLACE_ID = "ATVPDKIKX0DER"
# Hosts that may be reached over plain http (tests, a local sandbox); everything
# else must be https so tokens and customer data never cross the wire in clear.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names the variable."""


class Secret:
    """A string that never shows itself in repr, str or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and secrets.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__


@dataclass(frozen=True)
class Settings:
    database_url: str
    spapi_endpoint: str  # "sandbox" or a base URL
    lwa_token_url: str
    lwa_client_id: str
    lwa_client_secret: Secret
    lwa_refresh_token: Secret
    marketplace_id: str
    secret_key: Secret
    timezone: str
    instance_path: str
    token_ttl_seconds: int = 12 * 3600
    sync_interval_seconds: int = 300
    sync_lookback_days: int = 90
    spapi_connect_timeout: float = 5.0
    spapi_read_timeout: float = 30.0
    spapi_max_attempts: int = 5
    login_max_failures: int = 5
    login_max_failures_per_client: int = 20
    login_window_seconds: int = 900
    log_level: str = "INFO"
    storage_url: str = ""
    s3_endpoint_url: str | None = None
    max_upload_mb: int = 25
    # Hosts a presigned upload URL may point at; "*.x" matches subdomains of x.
    # Only hosts listed without a wildcard may be reached over plain http.
    upload_allowed_hosts: tuple[str, ...] = ("*.amazonaws.com",)
    min_photos: int = 0
    require_approval: bool = True
    # Standard Webhooks secrets (whsec_...): the current one and, while rotating, the previous one.
    webhook_secrets: tuple[Secret, ...] = ()
    redis_url: str | None = None  # shared SP-API rate limits across processes
    log_format: str = "json"
    proxy_fix_hops: int = 0  # proxies in front whose X-Forwarded-* headers are trusted
    task_lease_seconds: int = 300
    task_backoff_seconds: float = 5.0
    task_backoff_max_seconds: float = 900.0  # TEMP until the declarative settings land
    task_max_attempts: int = 8  # TEMP until the declarative settings land
    # argon2id cost; tests lower it, production keeps the library's defaults.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    secret_key_generated: bool = field(default=False, compare=False)

    @property
    def sandbox(self) -> bool:
        return self.spapi_endpoint == SANDBOX

    @property
    def embedded_defaults(self) -> bool:
        """True when running on the defaults: SQLite in the instance folder + sandbox."""
        return self.sandbox and self.database_url == default_database_url(self.instance_path)

    def with_overrides(self, **overrides: Any) -> Settings:
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        for name in ("lwa_client_secret", "lwa_refresh_token", "secret_key"):
            if isinstance(overrides.get(name), str):
                overrides[name] = Secret(overrides[name])
        if "webhook_secrets" in overrides:
            overrides["webhook_secrets"] = tuple(
                s if isinstance(s, Secret) else Secret(s) for s in overrides["webhook_secrets"])
        return replace(self, **overrides)

    def public_dict(self) -> dict[str, Any]:
        """Settings safe to print: secrets masked, database password removed."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Secret):
                value = "***" if value else ""
            elif isinstance(value, tuple) and value and isinstance(value[0], Secret):
                value = ["***" for _ in value]
            elif f.name == "database_url":
                value = redact_url(value)
            out[f.name] = value
        return out


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


def default_database_url(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'techapi.db'}"


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a number of seconds, got {raw!r}") from None
    if not 0 < value <= 600:
        raise ConfigError(f"{name}: must be between 0 and 600 seconds, got {raw}")
    return value


def check_http_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}: expected an https:// URL, got {value!r}")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ConfigError(f"{name}: must use https (plain http is allowed for loopback only)")
    if parts.username or parts.password:
        raise ConfigError(f"{name}: credentials must not be embedded in the URL")
    return value.rstrip("/")


def check_database_url(name: str, value: str) -> str:
    scheme = value.split(":", 1)[0]
    if not (scheme.startswith("sqlite") or scheme.startswith("postgresql")):
        raise ConfigError(
            f"{name}: expected sqlite:///path or postgresql+psycopg://user@host/db, "
            f"got scheme {scheme!r}"
        )
    if scheme.startswith("postgresql") and scheme != "postgresql+psycopg":
        raise ConfigError(f"{name}: use the psycopg 3 driver (postgresql+psycopg://...)")
    return value


def check_timezone(name: str, value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name}: unknown time zone {value!r} (use an IANA name)") from None
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}: expected true or false, got {raw!r}")


def check_allowed_hosts(name: str, raw: str) -> tuple[str, ...]:
    hosts = tuple(h.strip().lower() for h in raw.split(",") if h.strip())
    if not hosts:
        raise ConfigError(f"{name}: list at least one host")
    for host in hosts:
        bare = host[2:] if host.startswith("*.") else host
        if not bare or any(c in bare for c in "*/:@ "):
            raise ConfigError(f"{name}: {host!r} is not a host name or *.domain pattern")
        if host.startswith("*.") and bare.count(".") < 1:
            raise ConfigError(f"{name}: {host!r} is too broad; use *.example.com")
    return hosts


def check_webhook_secrets(env: Mapping[str, str]) -> tuple[Secret, ...]:
    from techapi.webhooks.signature import decode_secret

    out = []
    for name in ("TECHAPI_WEBHOOK_SECRET", "TECHAPI_WEBHOOK_SECRET_PREVIOUS"):
        raw = env.get(name, "").strip()
        if not raw:
            continue
        try:
            decode_secret(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}: {exc}") from None
        out.append(Secret(raw))
    return tuple(out)


def check_redis_url(value: str) -> str | None:
    if not value:
        return None
    if urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError("TECHAPI_REDIS_URL: expected redis://host:port/db or rediss://...")
    return value


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def check_storage_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme == "file" and parts.path.startswith("/"):
        return value
    if parts.scheme == "s3" and parts.netloc:
        return value
    raise ConfigError(f"{name}: expected file:///absolute/path or s3://bucket/prefix, got {value!r}")


def load_settings(
    environ: Mapping[str, str] | None = None, instance_path: str | None = None
) -> Settings:
    env = os.environ if environ is None else environ
    instance = env.get("TECHAPI_INSTANCE_PATH", "").strip() or instance_path or "instance"
    instance = str(Path(instance).resolve())

    database_url = env.get("TECHAPI_DATABASE_URL", "").strip() or default_database_url(instance)
    check_database_url("TECHAPI_DATABASE_URL", database_url)

    endpoint = env.get("TECHAPI_SPAPI_ENDPOINT", "").strip() or SANDBOX
    if endpoint != SANDBOX:
        endpoint = check_http_url("TECHAPI_SPAPI_ENDPOINT", endpoint)

    token_url = check_http_url(
        "TECHAPI_LWA_TOKEN_URL", env.get("TECHAPI_LWA_TOKEN_URL", "").strip() or DEFAULT_LWA_TOKEN_URL
    )
    client_id = env.get("TECHAPI_LWA_CLIENT_ID", "").strip()
    client_secret = Secret(env.get("TECHAPI_LWA_CLIENT_SECRET", "").strip())
    refresh_token = Secret(env.get("TECHAPI_LWA_REFRESH_TOKEN", "").strip())
    if endpoint != SANDBOX:
        for var, value in (
            ("TECHAPI_LWA_CLIENT_ID", client_id),
            ("TECHAPI_LWA_CLIENT_SECRET", client_secret),
            ("TECHAPI_LWA_REFRESH_TOKEN", refresh_token),
        ):
            if not value:
                raise ConfigError(f"{var}: required when TECHAPI_SPAPI_ENDPOINT is not 'sandbox'")

    marketplace = env.get("TECHAPI_MARKETPLACE_ID", "").strip() or DEFAULT_MARKETPLACE_ID
    if not marketplace.isalnum() or not marketplace.isupper() or len(marketplace) > 20:
        raise ConfigError(f"TECHAPI_MARKETPLACE_ID: expected an id like ATVPDKIKX0DER, got {marketplace!r}")

    raw_key = env.get("TECHAPI_SECRET_KEY", "").strip()
    if raw_key and len(raw_key) < 16:
        raise ConfigError("TECHAPI_SECRET_KEY: must be at least 16 characters")
    secret_key = Secret(raw_key or secrets.token_urlsafe(32))

    log_level = (env.get("TECHAPI_LOG_LEVEL", "").strip() or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"TECHAPI_LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR, got {log_level!r}")

    return Settings(
        database_url=database_url,
        spapi_endpoint=endpoint,
        lwa_token_url=token_url,
        lwa_client_id=client_id,
        lwa_client_secret=client_secret,
        lwa_refresh_token=refresh_token,
        marketplace_id=marketplace,
        secret_key=secret_key,
        timezone=check_timezone("TECHAPI_TIMEZONE", env.get("TECHAPI_TIMEZONE", "").strip() or "UTC"),
        instance_path=instance,
        token_ttl_seconds=_int(env, "TECHAPI_TOKEN_TTL_SECONDS", 12 * 3600, minimum=60),
        sync_interval_seconds=_int(env, "TECHAPI_SYNC_INTERVAL_SECONDS", 300, minimum=10),
        sync_lookback_days=_int(env, "TECHAPI_SYNC_LOOKBACK_DAYS", 90),
        spapi_connect_timeout=_float(env, "TECHAPI_SPAPI_CONNECT_TIMEOUT", 5.0),
        spapi_read_timeout=_float(env, "TECHAPI_SPAPI_READ_TIMEOUT", 30.0),
        spapi_max_attempts=_int(env, "TECHAPI_SPAPI_MAX_ATTEMPTS", 5),
        login_max_failures=_int(env, "TECHAPI_LOGIN_MAX_FAILURES", 5),
        login_max_failures_per_client=_int(env, "TECHAPI_LOGIN_MAX_FAILURES_PER_CLIENT", 20),
        login_window_seconds=_int(env, "TECHAPI_LOGIN_WINDOW_SECONDS", 900),
        log_level=log_level,
        storage_url=check_storage_url(
            "TECHAPI_STORAGE_URL", env.get("TECHAPI_STORAGE_URL", "").strip() or f"file://{Path(instance) / 'blobs'}"
        ),
        s3_endpoint_url=(check_http_url("TECHAPI_S3_ENDPOINT_URL", env["TECHAPI_S3_ENDPOINT_URL"].strip())
                         if env.get("TECHAPI_S3_ENDPOINT_URL", "").strip() else None),
        max_upload_mb=_int(env, "TECHAPI_MAX_UPLOAD_MB", 25),
        upload_allowed_hosts=check_allowed_hosts(
            "TECHAPI_UPLOAD_ALLOWED_HOSTS", env.get("TECHAPI_UPLOAD_ALLOWED_HOSTS", "").strip() or "*.amazonaws.com"
        ),
        min_photos=_int(env, "TECHAPI_MIN_PHOTOS", 0, minimum=0),
        require_approval=_bool(env, "TECHAPI_REQUIRE_APPROVAL", True),
        webhook_secrets=check_webhook_secrets(env),
        redis_url=check_redis_url(env.get("TECHAPI_REDIS_URL", "").strip()),
        log_format=check_choice("TECHAPI_LOG_FORMAT", env.get("TECHAPI_LOG_FORMAT", "").strip() or "json",
                                ("json", "text")),
        proxy_fix_hops=_int(env, "TECHAPI_PROXY_FIX_HOPS", 0, minimum=0),
        task_lease_seconds=_int(env, "TECHAPI_TASK_LEASE_SECONDS", 300, minimum=1),
        task_backoff_seconds=_float(env, "TECHAPI_TASK_BACKOFF_SECONDS", 5.0),
        secret_key_generated=not raw_key,
    )
