"""How a setting is declared, read from the environment, masked and documented.

A setting is a field of a frozen dataclass whose default is `setting(...)`: the
field gives the attribute, its type and its default; the declaration gives the
environment variable, the parser and the help text. techapi.config holds the
declarations themselves; this module holds what they have in common and imports
nothing from techapi but the parsers.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from techapi.settings_parsers import Parser

_KEY = "techapi.setting"


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
class Setting:
    # Several variables make a tuple of the values set, in order (a secret and, while rotating, the previous one).
    env: tuple[str, ...]
    parse: Parser
    help: str
    shown: str  # the documented default when the default is computed at load time
    secret: bool

    def wrap(self, value: Any) -> Any:
        """Strings of a secret setting as Secret, so an override cannot leak one."""
        if not self.secret:
            return value
        if len(self.env) > 1:
            return tuple(v if isinstance(v, Secret) else Secret(v) for v in value)
        return Secret(value) if isinstance(value, str) else value


def setting(*env: str, parse: Parser, help: str, default: Any = MISSING, shown: str = "",
            secret: bool = False) -> Any:
    """A dataclass field read from `env`; without a default, load_settings must supply a fallback."""
    declaration = Setting(env, parse, help, shown, secret)
    return field(default=declaration.wrap(default) if default is not MISSING else MISSING,
                 metadata={_KEY: declaration})


def declared(cls: type) -> Iterator[tuple[Field[Any], Setting]]:
    for f in fields(cls):
        if _KEY in f.metadata:
            yield f, f.metadata[_KEY]


def read(env: Mapping[str, str], f: Field[Any], fallback: str | None = None) -> Any:
    """The field's value: its variable parsed, else `fallback` parsed, else its default."""
    declaration: Setting = f.metadata[_KEY]
    given = [(var, env.get(var, "").strip()) for var in declaration.env]
    given = [(var, raw) for var, raw in given if raw]
    if len(declaration.env) > 1:
        return declaration.wrap(tuple(_parse(declaration, var, raw) for var, raw in given))
    if not given and fallback is not None:
        given = [(declaration.env[0], fallback)]
    if given:
        return declaration.wrap(_parse(declaration, *given[0]))
    if f.default is MISSING:
        raise ConfigError(f"{declaration.env[0]}: required")
    return f.default


def _parse(declaration: Setting, var: str, raw: str) -> Any:
    try:
        return declaration.parse(raw)
    except ValueError as exc:
        raise ConfigError(f"{var}: {exc}") from None


# Query parameters that carry a credential (libpq's password=, redis-py's password=, tokens, keys).
_SECRET_PARAMETER = re.compile(
    r"(?i)([?&;](?:[a-z_]*password|passwd|pwd|[a-z_]*secret|[a-z_]*token|sslpassword|sslkey|auth|"
    r"x-amz-credential|x-amz-signature|x-amz-security-token|signature)=)[^&;#]*")


def redact_url(url: str) -> str:
    """The URL with the password of its user-info and every credential parameter masked."""
    try:
        parts = urlsplit(url)
        if parts.password is not None:
            userinfo, _, host = parts.netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            url = parts._replace(netloc=f"{user}:***@{host}").geturl()
    except ValueError:  # not a URL we can parse: mask anything between "://...:" and "@"
        url = re.sub(r"(://[^/:@]*:)[^@/]*@", r"\1***@", url)
    return _SECRET_PARAMETER.sub(lambda m: m.group(1) + "***", url)


def public(value: Any) -> Any:
    """A value safe to print: secrets masked, passwords taken out of URLs."""
    if isinstance(value, Secret):
        return "***" if value else ""
    if isinstance(value, tuple) and value and isinstance(value[0], Secret):
        return ["***" for _ in value]
    if isinstance(value, str):
        return redact_url(value)
    return value


def markdown_table(cls: type) -> str:
    """The README's table of variables, in declaration order."""
    lines = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for f, declaration in declared(cls):
        variables = ", ".join(f"`{var}`" for var in declaration.env)
        lines.append(f"| {variables} | {declaration.shown or _shown(f.default)} | {declaration.help} |")
    return "\n".join(lines) + "\n"


def _shown(default: Any) -> str:
    if default is None or default in ("", ()) or isinstance(default, Secret) and not default:
        return "(none)"
    if isinstance(default, bool):
        text = "true" if default else "false"
    elif isinstance(default, float) and default.is_integer():
        text = str(int(default))
    elif isinstance(default, tuple):
        text = ",".join(default)
    else:
        text = str(default)
    return f"`{text}`"
