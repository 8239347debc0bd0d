"""Logging set-up: one JSON (or text) line per record, secrets masked in every
line, and chatty third-party loggers kept at INFO even at DEBUG.

Formatting and redaction never raise: a record that cannot be rendered as given
(bad %-arguments, an object whose str() fails, a database row that cannot be
refreshed after a rollback) is written with repr() fallbacks, because a log line
that fails is an error nobody sees.
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import UTC, datetime
from typing import Any

from flask import g
from sqlalchemy import inspect

from techapi.config import Settings

_configured = False
# Loggers that print credentials or personal data at DEBUG: botocore the AWS
# session token and SigV4 Authorization headers, urllib3/httpcore the raw
# headers, PIL every EXIF tag value (GPS included). They stay at INFO whatever
# TECHAPI_LOG_LEVEL says; httpx logs each request URL at INFO, so it stays at WARNING.
CAPPED_AT_INFO = ("botocore", "boto3", "s3transfer", "urllib3", "httpcore", "PIL")
CAPPED_AT_WARNING = ("httpx", "alembic", "werkzeug")  # werkzeug: our own access log replaces it
# Environment variables whose values are masked wherever they appear.
SECRET_ENVIRONMENT = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
_VALUE = r"[^\s\"'&,;}<>]+"
# Secrets recognised by their shape, whoever logs them. The first group is kept.
PATTERNS = [
    # LWA access and refresh tokens.
    re.compile(r"(Atz[ar]\|)[A-Za-z0-9_\-|.+/=]+"),
    # Authorization header values (Bearer, Basic, SigV4), as text or in a dict's repr.
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*b?[\"']?)[^\"'\n]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-.~+/=]+"),
    re.compile(r"(AWS4-HMAC-SHA256\s+)[^\"'\n]+"),
    # AWS: session token header or query parameter, presigned URL credentials and signatures, key ids.
    re.compile(r"(?i)(x-amz-security-token[\"']?\s*[:=]\s*b?[\"']?)" + _VALUE),
    re.compile(r"(?i)((?:x-amz-credential|x-amz-signature|signature|credential)=)" + _VALUE),
    re.compile(r"()\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}\b"),
    # key=value and "key": "value" pairs whose key says it is secret.
    re.compile(r"(?i)((?:client_secret|refresh_token|access_token|session_token|secret_access_key|password|passwd)"
               r"[\"']?\s*[:=]\s*[\"']?)" + _VALUE),
    # The password in a URL's user-info: scheme://user:password@host.
    re.compile(r"([a-z][a-z0-9+.\-]*://[^\s:/@\"']*:)[^\s@/\"']+(?=@)"),
    # PostgreSQL's error details quote the row and the key (a GPS position, a token hash).
    re.compile(r"(Failing row contains )\(.*\)"),
    re.compile(r"(Key \([^)]*\)=)\(.*?\)(?= (?:already exists|is (?:still )?(?:not present|referenced)))"),
]


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a log line must come out whatever the object does
        try:
            return repr(value)
        except Exception:  # noqa: BLE001
            return f"<unprintable {type(value).__name__}>"


def message_of(record: logging.LogRecord) -> str:
    """record.getMessage(), or the format and its arguments side by side when they do not fit."""
    try:
        return record.getMessage()
    except Exception:  # noqa: BLE001 - e.g. "%d" given a string, or too few arguments
        return f"{_safe_str(record.msg)} (unformattable arguments: {_safe_str(record.args)})"


def user_id_of(user: Any) -> Any:
    """The user's id without a database round trip (the session may be mid-rollback)."""
    try:
        identity = inspect(user).identity
        return identity[0] if identity else getattr(user, "id", None)
    except Exception:  # noqa: BLE001
        return None


def _exception_text(formatter: logging.Formatter, record: logging.LogRecord) -> str | None:
    try:
        if record.exc_info:
            return formatter.formatException(record.exc_info)
        return record.exc_text or None
    except Exception:  # noqa: BLE001
        return f"{_safe_str(record.exc_info)} (traceback could not be formatted)"


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request's context when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            return self._format(record)
        except Exception as exc:  # noqa: BLE001 - last resort: still one parsable line
            return json.dumps({"ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
                               "level": _safe_str(getattr(record, "levelname", "ERROR")),
                               "logger": _safe_str(getattr(record, "name", "")),
                               "message": _safe_str(getattr(record, "msg", "")),
                               "format_error": f"{type(exc).__name__}: {_safe_str(exc)}"})

    def _format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message_of(record),
        }
        try:
            if g and "request_id" in g:
                entry["request_id"] = g.request_id
                if g.get("user") is not None:
                    entry["user_id"] = user_id_of(g.user)
                if g.get("job_id"):
                    entry["job_id"] = g.job_id
        except Exception:  # noqa: BLE001 - outside a request, or a context being torn down
            pass
        for key in ("request_id", "user_id", "job_id", "task", "method", "route", "status", "duration_ms"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        exception = _exception_text(self, record)
        if exception:
            entry["exception"] = exception
        return json.dumps(entry, default=_safe_str)


class TextFormatter(logging.Formatter):
    """`time level logger: message`, as total as the JSON one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        try:
            record.message = message_of(record)
            line = f"{self.formatTime(record)} {record.levelname} {record.name}: {record.message}"
            exception = _exception_text(self, record)
            return f"{line}\n{exception}" if exception else line
        except Exception:  # noqa: BLE001
            return f"{_safe_str(getattr(record, 'msg', ''))} (record could not be formatted)"


class RedactingFilter(logging.Filter):
    """Masks known secret values and secret-shaped text in the message and traceback."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        for pattern in PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + "***", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            try:
                message, formattable = record.getMessage(), True
            except Exception:  # noqa: BLE001
                message, formattable = message_of(record), False
            cleaned = self.redact(message)
            if cleaned != message or not formattable:
                record.msg, record.args = cleaned, None
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = self.redact(_exception_text(logging.Formatter(), record) or "")
                record.exc_info = None
            elif record.exc_text:
                record.exc_text = self.redact(record.exc_text)
        except Exception:  # noqa: BLE001 - never drop a line; never let a secret through either
            record.msg, record.args, record.exc_info, record.exc_text = "(log record withheld: redaction failed)", \
                None, None, None
        return True


def secrets_to_mask(settings: Settings, environ: dict[str, str] | None = None) -> list[str]:
    env = os.environ if environ is None else environ
    return [settings.lwa_client_secret.reveal(), settings.lwa_refresh_token.reveal(), settings.secret_key.reveal(),
            settings.metrics_token.reveal(), *(s.reveal() for s in settings.webhook_secrets),
            *(env.get(name, "") for name in SECRET_ENVIRONMENT)]


def configure_logging(settings: Settings) -> None:
    """Root handler once per process; the secret list is refreshed each call.
    The redacting filter goes on every handler of the root logger and of gunicorn's
    error logger, so whatever logger a line comes from, it is masked on the way out."""
    global _configured
    root = logging.getLogger()
    if not _configured:
        root.addHandler(logging.StreamHandler())
        _configured = True
    redacting = RedactingFilter(secrets_to_mask(settings))
    for handler in (*root.handlers, *logging.getLogger("gunicorn.error").handlers):
        if type(handler) is logging.StreamHandler:
            handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
        handler.filters = [f for f in handler.filters if not isinstance(f, RedactingFilter)]
        handler.addFilter(redacting)
    root.setLevel(settings.log_level)
    level = logging.getLevelName(settings.log_level)
    for name in CAPPED_AT_INFO:
        logging.getLogger(name).setLevel(max(logging.INFO, level))
    for name in CAPPED_AT_WARNING:
        logging.getLogger(name).setLevel(max(logging.WARNING, level))
