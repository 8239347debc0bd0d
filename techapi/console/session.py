"""Who is signed in to the console, and the token that proves a form came from them.

The cookie carries an API bearer token issued by the auth service, so a console
session expires, is revoked and is locked out exactly as an API token is, and any
web process can read it: Flask's signed session depends on TECHAPI_SECRET_KEY,
which is random per process when unset. CSRF tokens and flash messages are keyed
by that bearer token for the same reason.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import Response, abort, g, request

from techapi.auth import services as auth
from techapi.auth.models import Role
from techapi.context import deps
from techapi.db import get_session
from techapi.errors import ForbiddenError, UnauthorizedError

COOKIE = "techapi_console"
LOGIN_COOKIE = "techapi_console_login"  # a nonce, so the sign-in form has a CSRF token too
FLASH_COOKIE = "techapi_console_flash"
PATH = "/console"
CONSOLE_ROLES = (Role.SUPERVISOR, Role.ADMIN)


def _mac(key: str, purpose: str, value: str = "") -> str:
    return hmac.new(key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def set_cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path=PATH, httponly=True, samesite="Lax",
                        secure=request.is_secure)


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path=PATH, httponly=True, samesite="Lax", secure=request.is_secure)


def load_user() -> None:
    """Before every console request: g.user and g.token from the cookie, or None."""
    g.user = g.token = None
    raw = request.cookies.get(COOKIE)
    if not raw:
        return
    try:
        user, token = auth.authenticate(get_session(), deps().clock, raw)
    except UnauthorizedError:
        return  # expired or revoked: signed out
    if user.role in CONSOLE_ROLES:
        g.user, g.token, g.raw_token = user, token, raw


def sign_in(username: str, password: str) -> auth.IssuedToken:
    """The API's login (lockout included), for supervisors and admins only."""
    d, session = deps(), get_session()
    issued = auth.login(session, d.passwords, d.settings, d.clock, username, password,
                        request.remote_addr or "unknown")
    user, token = auth.authenticate(session, d.clock, issued.access_token)
    if user.role not in CONSOLE_ROLES:
        auth.logout(session, d.clock, token)  # a token nobody will ever use
        raise ForbiddenError("The console is for supervisors. Technicians use the phone app.")
    return issued


def sign_out() -> None:
    """Revoke the session's token: signed out on every server at once."""
    if g.get("token") is not None:
        auth.logout(get_session(), deps().clock, g.token)


def login_nonce() -> str:
    """The sign-in form's nonce: the one in the browser's cookie, or a new one."""
    if "login_nonce" not in g:
        g.login_nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    return g.login_nonce


def csrf_token() -> str:
    """The token every form carries: derived from the session, so it dies with it."""
    if g.get("user") is not None:
        return _mac(g.raw_token, "csrf")
    return _mac(login_nonce(), "login-csrf")


def check_csrf() -> None:
    """Every POST carries the token of the session (or of the sign-in form) it came from; else 403."""
    if request.method != "POST":
        return
    sent = request.form.get("csrf_token", "")
    if g.get("user") is not None:
        expected = _mac(g.raw_token, "csrf")
    elif request.cookies.get(LOGIN_COOKIE):
        expected = _mac(request.cookies[LOGIN_COOKIE], "login-csrf")
    else:
        expected = ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(403, "The form's security token is missing or out of date; reload the page and try again.")


def flash(response: Response, message: str, category: str = "info") -> None:
    """A message for the next page, signed with the session token (works across processes)."""
    body = base64.urlsafe_b64encode(f"{category}\n{message}".encode()).decode()
    set_cookie(response, FLASH_COOKIE, f"{body}.{_mac(g.raw_token, 'flash', body)}")


def flashed() -> tuple[str, str] | None:
    """The message left for this page, if it is this session's; shown once (see forget_flash)."""
    value = request.cookies.get(FLASH_COOKIE)
    if not value or g.get("user") is None:
        return None
    g.flash_shown = True
    body, _, mac = value.rpartition(".")
    if not hmac.compare_digest(mac.encode(), _mac(g.raw_token, "flash", body).encode()):
        return None
    try:
        category, _, message = base64.urlsafe_b64decode(body).decode().partition("\n")
    except ValueError:
        return None
    return category, message


def forget_flash(response: Response) -> Response:
    """After a page showed the message: gone from the browser."""
    if g.get("flash_shown"):
        clear_cookie(response, FLASH_COOKIE)
    return response
