"""Logging set-up, with a filter that masks secrets wherever they appear."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from flask import g

from techapi.config import Settings

_configured = False
# Bearer tokens, LWA access/refresh tokens and client secrets in free text.
PATTERNS = [
    re.compile(r"(Atz[ar]\|)[A-Za-z0-9_\-|.+/=]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-.~+/=]+"),
    re.compile(r"(?i)((?:client_secret|refresh_token|access_token|password)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+"),
]


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request's context when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        try:
            if g and "request_id" in g:
                entry["request_id"] = g.request_id
                if "user" in g:
                    entry["user_id"] = g.user.id
                if g.get("job_id"):
                    entry["job_id"] = g.job_id
        except RuntimeError:  # outside a request
            pass
        for key in ("request_id", "user_id", "job_id", "task", "method", "route", "status", "duration_ms"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str)


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        for pattern in PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + "***", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def configure_logging(settings: Settings) -> None:
    """Root handler once per process; the secret list is refreshed each call."""
    global _configured
    root = logging.getLogger()
    secrets = [settings.lwa_client_secret.reveal(), settings.lwa_refresh_token.reveal(),
               settings.secret_key.reveal(), *(s.reveal() for s in settings.webhook_secrets)]
    if not _configured:
        root.addHandler(logging.StreamHandler())
        _configured = True
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler) and type(handler) is logging.StreamHandler:
            handler.setFormatter(JsonFormatter() if settings.log_format == "json"
                                 else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.filters = [f for f in handler.filters if not isinstance(f, RedactingFilter)]
        handler.addFilter(RedactingFilter(secrets))
    root.setLevel(settings.log_level)
    # httpx logs every request URL at INFO; keep it to warnings.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # our own access log replaces it
