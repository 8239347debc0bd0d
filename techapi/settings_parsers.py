"""Parsers for setting values: a raw string in, a typed value out, or ValueError.

The messages leave out the variable's name: the loader in techapi.config adds it,
so each message is written once and reads "TECHAPI_X: <message>". This module
imports nothing from techapi, so anything may use it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Parser = Callable[[str], Any]

# Hosts that may be reached over plain http (tests, a local sandbox); everything
# else must be https so tokens and customer data never cross the wire in clear.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def text(raw: str) -> str:
    return raw


def absolute_path(raw: str) -> str:
    return str(Path(raw).resolve())


def _number(convert: Callable[[str], float], expected: str, check: Callable[[float], str | None]) -> Parser:
    """A parser of numbers: `convert` the text, then `check` says what is wrong, if anything."""

    def parse(raw: str) -> float:
        try:
            value = convert(raw)
        except ValueError:
            raise ValueError(f"expected {expected}, got {raw!r}") from None
        problem = check(value)
        if problem:
            raise ValueError(f"{problem}, got {raw}")
        return value

    return parse


def whole(minimum: int = 1, maximum: int | None = None) -> Parser:
    def check(v: float) -> str | None:
        if v < minimum:
            return f"must be at least {minimum}"
        return f"must be at most {maximum}" if maximum is not None and v > maximum else None

    return _number(int, "a whole number", check)


def seconds(maximum: float = 600) -> Parser:
    return _number(float, "a number of seconds",
                   lambda v: None if 0 < v <= maximum else f"must be between 0 and {maximum:g} seconds")


def boolean(raw: str) -> bool:
    raw = raw.lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def port(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ValueError(f"expected a port number from 1 to 65535, got {raw!r}")
    return int(raw)


def choice(*choices: str) -> Parser:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {raw!r}")
        return raw

    return parse


def log_level(raw: str) -> str:
    level = raw.upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"expected DEBUG, INFO, WARNING or ERROR, got {level!r}")
    return level


def min_length(length: int) -> Parser:
    def parse(raw: str) -> str:
        if len(raw) < length:
            raise ValueError(f"must be at least {length} characters")
        return raw

    return parse


def literal_or(literal: str, parser: Parser) -> Parser:
    """`literal` as it is, anything else through `parser` ("sandbox" or a URL)."""
    def parse(raw: str) -> Any:
        return raw if raw == literal else parser(raw)

    return parse


def http_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an https:// URL, got {raw!r}")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError("must use https (plain http is allowed for loopback only)")
    if parts.username or parts.password:
        raise ValueError("credentials must not be embedded in the URL")
    return raw.rstrip("/")


def database_url(raw: str) -> str:
    scheme = raw.split(":", 1)[0]
    if not (scheme.startswith("sqlite") or scheme.startswith("postgresql")):
        raise ValueError(
            f"expected sqlite:///path or postgresql+psycopg://user@host/db, got scheme {scheme!r}"
        )
    if scheme.startswith("postgresql") and scheme != "postgresql+psycopg":
        raise ValueError("use the psycopg 3 driver (postgresql+psycopg://...)")
    return raw


def storage_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme == "file" and parts.path.startswith("/"):
        return raw
    if parts.scheme == "s3" and parts.netloc:
        return raw
    raise ValueError(f"expected file:///absolute/path or s3://bucket/prefix, got {raw!r}")


def redis_url(raw: str) -> str:
    if urlsplit(raw).scheme not in ("redis", "rediss", "unix"):
        raise ValueError("expected redis://host:port/db or rediss://...")
    return raw


def timezone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {raw!r} (use an IANA name)") from None
    return raw


def marketplace_id(raw: str) -> str:
    if not raw.isalnum() or not raw.isupper() or len(raw) > 20:
        raise ValueError(f"expected an id like ATVPDKIKX0DER, got {raw!r}")
    return raw


def host_patterns(raw: str) -> tuple[str, ...]:
    """Comma-separated host names; "*.x" matches the subdomains of x."""
    hosts = tuple(h.strip().lower() for h in raw.split(",") if h.strip())
    if not hosts:
        raise ValueError("list at least one host")
    for host in hosts:
        bare = host[2:] if host.startswith("*.") else host
        if not bare or any(c in bare for c in "*/:@ "):
            raise ValueError(f"{host!r} is not a host name or *.domain pattern")
        if host.startswith("*.") and bare.count(".") < 1:
            raise ValueError(f"{host!r} is too broad; use *.example.com")
    return hosts
