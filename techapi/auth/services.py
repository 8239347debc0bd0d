"""Login, bearer tokens, lockout and user management. Services own the transaction."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload

from techapi.auth.models import AccessToken, LoginFailure, Role, User, UserStore
from techapi.auth.passwords import MIN_PASSWORD_LENGTH, Passwords
from techapi.clock import Clock
from techapi.config import Settings, check_timezone
from techapi.errors import ConflictError, TooManyRequestsError, UnauthorizedError, ValidationError


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    token_type: str = "Bearer"


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def normalise_username(username: str) -> str:
    return username.strip().lower()


def _retry_after(session: Session, column, value: str, since: datetime, window: int, now: datetime) -> int:
    oldest = session.scalar(select(func.min(LoginFailure.at)).where(column == value, LoginFailure.at >= since))
    return int(((oldest or now) + timedelta(seconds=window) - now).total_seconds()) + 1


def login(
    session: Session,
    passwords: Passwords,
    settings: Settings,
    clock: Clock,
    username: str,
    password: str,
    client: str,
) -> IssuedToken:
    now = clock.now()
    name = normalise_username(username)[:64]
    client = (client or "unknown")[:64]
    window = settings.login_window_seconds
    since = now - timedelta(seconds=window)
    session.execute(delete(LoginFailure).where(LoginFailure.at < since))

    def failures(column, value: str) -> int:
        return session.scalar(
            select(func.count()).select_from(LoginFailure).where(column == value, LoginFailure.at >= since)
        ) or 0

    # Checked before the password, so a locked account cannot be probed.
    for column, value, limit, what in (
        (LoginFailure.username, name, settings.login_max_failures, "this account"),
        (LoginFailure.client, client, settings.login_max_failures_per_client, "this client"),
    ):
        if failures(column, value) >= limit:
            retry = _retry_after(session, column, value, since, window, now)
            session.commit()
            raise TooManyRequestsError(
                f"Too many failed logins for {what}; try again in {retry} seconds", retry_after=retry
            )

    user = session.scalar(select(User).where(User.username == name))
    if not passwords.verify(user.password_hash if user else None, password) or not (user and user.active):
        session.add(LoginFailure(username=name, client=client, at=now))
        session.commit()
        raise UnauthorizedError("Invalid username or password")

    session.execute(delete(LoginFailure).where(LoginFailure.username == name))
    raw = secrets.token_urlsafe(32)
    session.add(
        AccessToken(
            user_id=user.id,
            token_hash=token_hash(raw),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.token_ttl_seconds),
        )
    )
    session.commit()
    return IssuedToken(access_token=raw, expires_in=settings.token_ttl_seconds)


def authenticate(session: Session, clock: Clock, raw_token: str) -> tuple[User, AccessToken]:
    # One query for token, user and stores: this runs on every request.
    token = session.scalar(select(AccessToken).where(AccessToken.token_hash == token_hash(raw_token))
                           .options(joinedload(AccessToken.user).joinedload(User.stores)))
    if token is None or token.revoked_at is not None:
        raise UnauthorizedError("Invalid or revoked bearer token")
    if token.expires_at <= clock.now():
        raise UnauthorizedError("Bearer token has expired; log in again")
    if not token.user.active:
        raise UnauthorizedError("Account is disabled")
    return token.user, token


def logout(session: Session, clock: Clock, token: AccessToken) -> None:
    token.revoked_at = clock.now()
    session.commit()


def set_timezone(session: Session, user: User, timezone: str | None) -> User:
    if timezone is not None:
        try:
            check_timezone("timezone", timezone)
        except ValueError:
            raise ValidationError(
                "Unknown time zone", errors={"timezone": [f"unknown time zone {timezone!r}"]}
            ) from None
    user.timezone = timezone
    session.commit()
    return user


def create_user(
    session: Session,
    passwords: Passwords,
    clock: Clock,
    username: str,
    role: str,
    password: str,
    technician_id: str | None = None,
    stores: Iterable[str] = (),
    timezone: str | None = None,
    enforce_policy: bool = True,
) -> User:
    name = normalise_username(username)
    stores = sorted({s.strip() for s in stores if s.strip()})
    if not name or len(name) > 64 or not all(c.isalnum() or c in "-_.@" for c in name):
        raise ValidationError("username: 1-64 characters: letters, digits, - _ . @")
    try:
        role = Role(role).value
    except ValueError:
        raise ValidationError(f"role: expected one of {', '.join(r.value for r in Role)}") from None
    if enforce_policy and len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if role == Role.TECHNICIAN and not technician_id:
        raise ValidationError("a technician needs --technician-id (their SP-API technicianId)")
    if role != Role.TECHNICIAN and technician_id:
        raise ValidationError("only technicians have a technician id")
    if role == Role.SUPERVISOR and not stores:
        raise ValidationError("a supervisor needs at least one --store")
    if technician_id and not (1 <= len(technician_id) <= 50):
        raise ValidationError("technician id: 1-50 characters")
    if timezone:
        try:
            check_timezone("timezone", timezone)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
    if session.scalar(select(User).where(User.username == name)):
        raise ConflictError(f"user {name!r} already exists")
    if technician_id and session.scalar(select(User).where(User.technician_id == technician_id)):
        raise ConflictError(f"technician id {technician_id!r} already belongs to another user")
    user = User(
        username=name,
        password_hash=passwords.hash(password),
        role=role,
        technician_id=technician_id,
        timezone=timezone,
        active=True,
        created_at=clock.now(),
        stores=[UserStore(store_id=s) for s in stores],
    )
    session.add(user)
    session.commit()
    return user
