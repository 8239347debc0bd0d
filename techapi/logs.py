"""Logging set-up, with a filter that masks secrets wherever they appear."""

from __future__ import annotations

import logging
import re

from techapi.config import Settings
from techapi.observability import JsonFormatter

_configured = False
# Bearer tokens, LWA access/refresh tokens and client secrets in free text.
PATTERNS = [
    re.compile(r"(Atz[ar]\|)[A-Za-z0-9_\-|.+/=]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-.~+/=]+"),
    re.compile(r"(?i)((?:client_secret|refresh_token|access_token|password)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+"),
]


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
