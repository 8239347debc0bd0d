"""Settings from TECHAPI_* environment variables, validated once at start-up.

Each setting is declared once, below, with its variable, default, parser and
help text; load_settings, `techapi config` and the README's table all read the
declarations. Every invalid value raises ConfigError naming the variable, so an
operator never has to guess which setting broke the deploy.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import techapi.settings_parsers as p
from techapi.settings_declaration import ConfigError, Secret, declared, public, read, redact_url, setting
from techapi.settings_declaration import markdown_table as _markdown_table

__all__ = ["ConfigError", "Secret", "Settings", "check_timezone", "decode_webhook_secret",
           "default_database_url", "load_settings", "markdown_table", "redact_url"]

SANDBOX = "sandbox"
WEBHOOK_SECRET_PREFIX = "whsec_"
LWA_CREDENTIALS = ("lwa_client_id", "lwa_client_secret", "lwa_refresh_token")


def decode_webhook_secret(value: str) -> bytes:
    """`whsec_<base64>` to the HMAC key; ValueError when malformed."""
    if not value.startswith(WEBHOOK_SECRET_PREFIX):
        raise ValueError("must start with whsec_")
    try:
        key = base64.b64decode(value[len(WEBHOOK_SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not whsec_ followed by base64") from None
    if len(key) < 16:
        raise ValueError("key must be at least 16 bytes")
    return key


def _webhook_secret(raw: str) -> str:
    decode_webhook_secret(raw)
    return raw  # kept encoded: the webhook handler decodes it where it verifies


def _grace_minutes(raw: str) -> int:
    minutes = p.whole(minimum=0)(raw)
    if minutes > 1440:
        raise ValueError(f"must be at most 1440 minutes (a day), got {raw}")
    return minutes


@dataclass(frozen=True, kw_only=True)
class Settings:
    database_url: str = setting(
        "TECHAPI_DATABASE_URL", parse=p.database_url, shown="`sqlite:///<instance>/techapi.db`",
        help="SQLite, or PostgreSQL as `postgresql+psycopg://user:pw@host/db`")
    instance_path: str = setting(
        "TECHAPI_INSTANCE_PATH", parse=p.absolute_path, shown="`./instance` (editable install)",
        help="where the default database lives")
    spapi_endpoint: str = setting(
        "TECHAPI_SPAPI_ENDPOINT", parse=p.literal_or(SANDBOX, p.http_url), default=SANDBOX,
        help="`sandbox` (in-process simulator) or a base URL such as `https://sellingpartnerapi-na.amazon.com`")
    lwa_token_url: str = setting(
        "TECHAPI_LWA_TOKEN_URL", parse=p.http_url, default="https://api.amazon.com/auth/o2/token",
        help="Login with Amazon token endpoint")
    lwa_client_id: str = setting(
        "TECHAPI_LWA_CLIENT_ID", parse=p.text, default="",
        help="LWA client id; required when the endpoint is not `sandbox`")
    lwa_client_secret: Secret = setting(
        "TECHAPI_LWA_CLIENT_SECRET", parse=p.text, default="", secret=True,
        help="LWA client secret; required when the endpoint is not `sandbox`")
    lwa_refresh_token: Secret = setting(
        "TECHAPI_LWA_REFRESH_TOKEN", parse=p.text, default="", secret=True,
        help="LWA refresh token of the selling partner; required when the endpoint is not `sandbox`")
    marketplace_id: str = setting(
        "TECHAPI_MARKETPLACE_ID", parse=p.marketplace_id, default="ATVPDKIKX0DER",
        help="marketplace sent as `marketplaceIds`")
    secret_key: Secret = setting(
        "TECHAPI_SECRET_KEY", parse=p.min_length(16), secret=True, shown="random per process",
        help="Flask secret (at least 16 characters)")
    timezone: str = setting(
        "TECHAPI_TIMEZONE", parse=p.timezone, default="UTC",
        help='what "today" means for users without their own time zone')
    token_ttl_seconds: int = setting(
        "TECHAPI_TOKEN_TTL_SECONDS", parse=p.whole(minimum=60), default=12 * 3600,
        help="lifetime of a bearer token, in seconds")
    sync_interval_seconds: int = setting(
        "TECHAPI_SYNC_INTERVAL_SECONDS", parse=p.whole(minimum=10), default=300,
        help="how often the worker syncs today's jobs, in seconds")
    sync_lookback_days: int = setting(
        "TECHAPI_SYNC_LOOKBACK_DAYS", parse=p.whole(), default=90,
        help="`createdAfter` look-back of a day's first (full) sync")
    spapi_connect_timeout: float = setting(
        "TECHAPI_SPAPI_CONNECT_TIMEOUT", parse=p.seconds(maximum=600), default=5.0,
        help="seconds to wait for a connection to SP-API")
    spapi_read_timeout: float = setting(
        "TECHAPI_SPAPI_READ_TIMEOUT", parse=p.seconds(maximum=600), default=30.0,
        help="seconds to wait for SP-API's answer")
    spapi_max_attempts: int = setting(
        "TECHAPI_SPAPI_MAX_ATTEMPTS", parse=p.whole(), default=5,
        help="attempts per SP-API call on 429, 5xx and network errors")
    login_max_failures: int = setting(
        "TECHAPI_LOGIN_MAX_FAILURES", parse=p.whole(), default=5,
        help="failed logins per username within the window before a lockout")
    login_max_failures_per_client: int = setting(
        "TECHAPI_LOGIN_MAX_FAILURES_PER_CLIENT", parse=p.whole(), default=20,
        help="failed logins per client address within the window before a lockout")
    login_window_seconds: int = setting(
        "TECHAPI_LOGIN_WINDOW_SECONDS", parse=p.whole(), default=900,
        help="the login lockout window, in seconds")
    request_timeout_seconds: int = setting(
        "TECHAPI_REQUEST_TIMEOUT_SECONDS", parse=p.whole(), default=120,
        help="gunicorn's worker timeout (a hung worker is restarted), and how long an unanswered "
             "Idempotency-Key stays taken before a retry may run again")
    log_level: str = setting(
        "TECHAPI_LOG_LEVEL", parse=p.log_level, default="INFO",
        help="`DEBUG`, `INFO`, `WARNING`, `ERROR`")
    storage_url: str = setting(
        "TECHAPI_STORAGE_URL", parse=p.storage_url, shown="`file://<instance>/blobs`",
        help="blob store for documents: `file:///path` or `s3://bucket/prefix` (server-side encryption AES256)")
    s3_endpoint_url: str | None = setting(
        "TECHAPI_S3_ENDPOINT_URL", parse=p.http_url, default=None, shown="(AWS)",
        help="an S3-compatible server instead of AWS")
    max_upload_mb: int = setting(
        "TECHAPI_MAX_UPLOAD_MB", parse=p.whole(), default=25,
        help="largest upload request accepted")
    max_decoded_megapixels: int = setting(
        "TECHAPI_MAX_DECODED_MEGAPIXELS", parse=p.whole(), default=50,
        help="largest image decoded, in megapixels of 24-bit colour; a bigger JPEG is decoded at 1/2, 1/4 or 1/8 "
             "scale when that fits, anything else bigger is 422. Peak memory per upload: under 8 MB per megapixel "
             "+ 64 MiB + 3x the upload")
    # Only hosts listed without a wildcard may be reached over plain http.
    upload_allowed_hosts: tuple[str, ...] = setting(
        "TECHAPI_UPLOAD_ALLOWED_HOSTS", parse=p.host_patterns, default=("*.amazonaws.com",),
        help="comma-separated hosts that presigned upload URLs may point at; `*.domain` matches subdomains over https")
    min_photos: int = setting(
        "TECHAPI_MIN_PHOTOS", parse=p.whole(minimum=0), default=0,
        help="photos required before a job counts as ready")
    ontime_grace_minutes: int = setting(
        "TECHAPI_ONTIME_GRACE_MINUTES", parse=_grace_minutes, default=15,
        help="minutes a recorded start may lie outside the appointment window and still count as on time "
             "in the technician report")
    offline_window_days: int = setting(
        "TECHAPI_OFFLINE_WINDOW_DAYS", parse=p.whole(minimum=0, maximum=31), default=7,
        help="the phones' offline window (the delta feed's, and what the worker's sync pulls): today and "
             "this many days after it; a cursor older than the window is refused (410)")
    fast_reads: bool = setting(
        "TECHAPI_FAST_READS", parse=p.boolean, default=True,
        help="on PostgreSQL, answer technicians' plain job-list polls and delta-feed polls with nothing new in "
             "one statement beneath the framework (techapi/reads/fast.py): the same answers for less CPU")
    require_approval: bool = setting(
        "TECHAPI_REQUIRE_APPROVAL", parse=p.boolean, default=True,
        help="closures wait for a supervisor's approval")
    webhook_secrets: tuple[Secret, ...] = setting(
        "TECHAPI_WEBHOOK_SECRET", "TECHAPI_WEBHOOK_SECRET_PREVIOUS", parse=_webhook_secret, default=(),
        secret=True, shown="(none: every delivery is refused)",
        help="field-app webhook secrets, `whsec_<base64>`: the current one and, while rotating, the previous one")
    redis_url: str | None = setting(
        "TECHAPI_REDIS_URL", parse=p.redis_url, default=None,
        help="keep the shared SP-API rate buckets in Redis instead of PostgreSQL")
    log_format: str = setting(
        "TECHAPI_LOG_FORMAT", parse=p.choice("json", "text"), default="json",
        help="`json` (one object per line) or `text`")
    proxy_fix_hops: int = setting(
        "TECHAPI_PROXY_FIX_HOPS", parse=p.whole(minimum=0), default=0,
        help="proxies in front whose `X-Forwarded-For/Proto/Host` are trusted (ProxyFix)")
    metrics_token: Secret = setting(
        "TECHAPI_METRICS_TOKEN", parse=p.min_length(16), default="", secret=True,
        shown="(none: `/metrics` answers 404)",
        help="bearer token a scraper sends to the web port's `/metrics` (at least 16 characters)")
    worker_metrics_port: int | None = setting(
        "TECHAPI_WORKER_METRICS_PORT", parse=p.port, default=None,
        help="serve a worker's Prometheus metrics on this port")
    task_lease_seconds: int = setting(
        "TECHAPI_TASK_LEASE_SECONDS", parse=p.whole(), default=300,
        help="how long a worker holds a task before another may take it over")
    task_backoff_seconds: float = setting(
        "TECHAPI_TASK_BACKOFF_SECONDS", parse=p.seconds(maximum=600), default=5.0,
        help="first back-off of a task that failed for a passing reason (doubles each time)")
    task_backoff_max_seconds: float = setting(
        "TECHAPI_TASK_BACKOFF_MAX_SECONDS", parse=p.seconds(maximum=86400), default=900.0,
        help="longest wait between two attempts of a task")
    task_max_attempts: int = setting(
        "TECHAPI_TASK_MAX_ATTEMPTS", parse=p.whole(), default=8,
        help="attempts of a background task before it is FAILED")
    # argon2id cost; tests lower it, production keeps the library's defaults.
    argon2_time_cost: int = setting(
        "TECHAPI_ARGON2_TIME_COST", parse=p.whole(), default=3,
        help="argon2id passes over memory per password hash")
    argon2_memory_kib: int = setting(
        "TECHAPI_ARGON2_MEMORY_KIB", parse=p.whole(minimum=1024), default=65536,
        help="argon2id memory per password hash, in KiB")
    # Not a setting: whether secret_key was made up for this process (TECHAPI_SECRET_KEY unset).
    secret_key_generated: bool = field(default=False, compare=False)

    @property
    def sandbox(self) -> bool:
        return self.spapi_endpoint == SANDBOX

    @property
    def embedded_defaults(self) -> bool:
        """True when running on the defaults: SQLite in the instance folder + sandbox."""
        return self.sandbox and self.database_url == default_database_url(self.instance_path)

    def with_overrides(self, **overrides: Any) -> Settings:
        unknown = set(overrides) - {f.name for f in fields(self)}
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        for f, declaration in declared(type(self)):
            if f.name in overrides:
                overrides[f.name] = declaration.wrap(overrides[f.name])
        return replace(self, **overrides)

    def public_dict(self) -> dict[str, Any]:
        """Settings safe to print: secrets masked, passwords removed from URLs."""
        return {f.name: public(getattr(self, f.name)) for f in fields(self)}


DECLARED = {f.name: (f, declaration) for f, declaration in declared(Settings)}


def default_database_url(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'techapi.db'}"


def load_settings(
    environ: Mapping[str, str] | None = None, instance_path: str | None = None
) -> Settings:
    env = os.environ if environ is None else environ
    instance = read(env, DECLARED["instance_path"][0], fallback=instance_path or "instance")
    # Defaults computed here, and validated like values that were given.
    fallbacks = {
        "instance_path": instance,
        "database_url": default_database_url(instance),
        "storage_url": f"file://{Path(instance) / 'blobs'}",
        "secret_key": secrets.token_urlsafe(32),
    }
    values = {name: read(env, f, fallbacks.get(name)) for name, (f, _) in DECLARED.items()}

    if values["spapi_endpoint"] != SANDBOX:
        for name in LWA_CREDENTIALS:
            if not values[name]:
                raise ConfigError(f"{_variable(name)}: required when {_variable('spapi_endpoint')} is not 'sandbox'")
    key_given = bool(env.get(_variable("secret_key"), "").strip())
    return Settings(**values, secret_key_generated=not key_given)


def _variable(name: str) -> str:
    return DECLARED[name][1].env[0]


def markdown_table() -> str:
    """The README's configuration table (`techapi config --markdown`)."""
    return _markdown_table(Settings)


def check_timezone(name: str, value: str) -> str:
    """A user's time zone, checked as TECHAPI_TIMEZONE is."""
    try:
        return p.timezone(value)
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None
