"""Login, bearer tokens, lockout, profiles and user management.

Each public function is a service entry point that owns its transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, or_, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload

from techapi.auth.models import AccessToken, LoginFailure, Role, User, UserStore
from techapi.clock import Clock
from techapi.config import Settings, check_timezone
from techapi.db import Database, transaction
from techapi.errors import ConflictError, TooManyRequestsError, UnauthorizedError, ValidationError
from techapi.passwords import MIN_PASSWORD_LENGTH, Passwords


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    token_type: str = "Bearer"


@dataclass(frozen=True)
class Profile:
    """The caller as `GET /v1/me` shows them: the time zone is the effective one."""

    username: str
    role: str
    technician_id: str | None
    store_ids: list[str]
    timezone: str


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def normalise_username(username: str) -> str:
    return username.strip().lower()


def _queue_attempts(session: Session, name: str, client: str) -> None:
    """Take the attempts of one username, and of one client, one at a time while they
    are counted. SQLite's BEGIN IMMEDIATE already does; PostgreSQL queues them on
    advisory locks, always the username's first, so two attempts never deadlock."""
    if session.get_bind().dialect.name == "postgresql":
        for lock in (f"techapi.login.user:{name}", f"techapi.login.client:{client}"):
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:lock))"), {"lock": lock})


def _lockout(session: Session, settings: Settings, name: str, client: str, now: datetime
             ) -> TooManyRequestsError | None:
    """Checked before the password, so a locked account cannot be probed."""
    window = settings.login_window_seconds
    since = now - timedelta(seconds=window)
    # Only rows this attempt's locks cover, so purging never waits on another login.
    session.execute(delete(LoginFailure).where(LoginFailure.at < since,
                                               or_(LoginFailure.username == name, LoginFailure.client == client)))
    limits: tuple[tuple[InstrumentedAttribute, str, int, str], ...] = (
        (LoginFailure.username, name, settings.login_max_failures, "this account"),
        (LoginFailure.client, client, settings.login_max_failures_per_client, "this client"),
    )
    for column, value, limit, what in limits:
        count, oldest = session.execute(select(func.count(), func.min(LoginFailure.at))
                                        .where(column == value, LoginFailure.at >= since)).one()
        if count >= limit:
            retry = int(((oldest or now) + timedelta(seconds=window) - now).total_seconds()) + 1
            return TooManyRequestsError(f"Too many failed logins for {what}; try again in {retry} seconds",
                                        retry_after=retry)
    return None


def purge_login_failures(db: Database, now: datetime, window_seconds: int) -> int:
    """Failures older than the lockout window count for nobody: remove them all (a
    login only purges its own username's and client's, so one-off names would stay)."""
    with db.transaction() as session:
        result = session.execute(delete(LoginFailure).where(LoginFailure.at < now - timedelta(seconds=window_seconds)))
        return result.rowcount or 0


def login(session: Session, passwords: Passwords, settings: Settings, clock: Clock,
          username: str, password: str, client: str) -> IssuedToken:
    """The attempt is counted as a failure before its password is checked and
    forgiven when it is right: however many arrive at once, no more passwords are
    verified than the lockout allows. argon2 runs outside any transaction."""
    now = clock.now()
    name = normalise_username(username)[:64]
    client = (client or "unknown")[:64]
    with transaction(session):
        _queue_attempts(session, name, client)
        refused = _lockout(session, settings, name, client, now)
        if refused is None:
            session.add(LoginFailure(username=name, client=client, at=now))
            user = session.scalar(select(User).where(User.username == name))
    if refused is not None:
        raise refused
    stored = user.password_hash if user else None
    if not passwords.verify(stored, password) or not (user and user.active):
        raise UnauthorizedError("Invalid username or password")  # the counted attempt stays
    raw = secrets.token_urlsafe(32)
    with transaction(session):
        _queue_attempts(session, name, client)
        session.execute(delete(LoginFailure).where(LoginFailure.username == name))
        session.add(AccessToken(user_id=user.id, token_hash=token_hash(raw), created_at=now,
                                expires_at=now + timedelta(seconds=settings.token_ttl_seconds)))
    return IssuedToken(access_token=raw, expires_in=settings.token_ttl_seconds)


# One query for token, user and stores: it runs on every request, so it is built once.
_TOKEN_BY_HASH = (select(AccessToken).where(AccessToken.token_hash == bindparam("token_hash"))
                  .options(joinedload(AccessToken.user).joinedload(User.stores)))


_T, _U, _S = AccessToken.__table__.c, User.__table__.c, UserStore.__table__.c
# The same lookup as plain rows (a row per store): what a request that only reads needs.
_TOKEN_ROWS = (select(_T.id, _T.user_id, _T.created_at, _T.expires_at, _T.revoked_at, _U.username, _U.role,
                      _U.technician_id, _U.timezone, _U.active, _U.created_at.label("user_created_at"), _S.store_id)
               .select_from(AccessToken.__table__.join(User.__table__, _U.id == _T.user_id)
                            .outerjoin(UserStore.__table__, _S.user_id == _U.id))
               .where(_T.token_hash == bindparam("token_hash")).order_by(_S.store_id))


def authenticate(session: Session, clock: Clock, raw_token: str) -> tuple[User, AccessToken]:
    """The caller behind a bearer token, with their stores: 401 unless the token is
    known, not revoked, not expired and its account active."""
    token = session.scalar(_TOKEN_BY_HASH, {"token_hash": token_hash(raw_token)})
    return _checked(token, clock)


def authenticate_reader(session: Session, clock: Clock, raw_token: str) -> tuple[User, AccessToken]:
    """authenticate for a request that only reads: the same query and checks, without
    the ORM's loading (a third of a list request's CPU). The user and token are not
    attached to the session, so they can never be written through it."""
    rows = session.connection().execute(_TOKEN_ROWS, {"token_hash": token_hash(raw_token)}).all()
    if not rows:
        return _checked(None, clock)
    r = rows[0]
    user = User(id=r.user_id, username=r.username, role=r.role, technician_id=r.technician_id,
                timezone=r.timezone, active=r.active, created_at=r.user_created_at,
                stores=[UserStore(user_id=r.user_id, store_id=row.store_id) for row in rows if row.store_id])
    token = AccessToken(id=r.id, user_id=r.user_id, created_at=r.created_at, expires_at=r.expires_at,
                        revoked_at=r.revoked_at, user=user)
    return _checked(token, clock)


def _checked(token: AccessToken | None, clock: Clock) -> tuple[User, AccessToken]:
    if token is None or token.revoked_at is not None:
        raise UnauthorizedError("Invalid or revoked bearer token")
    if token.expires_at <= clock.now():
        raise UnauthorizedError("Bearer token has expired; log in again")
    if not token.user.active:
        raise UnauthorizedError("Account is disabled")
    return token.user, token


def logout(session: Session, clock: Clock, token: AccessToken) -> None:
    with transaction(session):
        token.revoked_at = clock.now()


def profile(user: User, default_timezone: str) -> Profile:
    return Profile(user.username, user.role, user.technician_id, user.store_ids, user.timezone or default_timezone)


def set_timezone(session: Session, user: User, timezone: str | None) -> User:
    if timezone is not None:
        try:
            check_timezone("timezone", timezone)
        except ValueError:
            raise ValidationError(
                "Unknown time zone", errors={"timezone": [f"unknown time zone {timezone!r}"]}
            ) from None
    with transaction(session):
        user.timezone = timezone
    return user


def _check_new_user(name: str, role: str, password: str, technician_id: str | None, stores: list[str],
                    timezone: str | None, enforce_policy: bool) -> str:
    """The role, once every rule for a new account holds."""
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
    return role


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
    store_ids = sorted({s.strip() for s in stores if s.strip()})
    role = _check_new_user(name, role, password, technician_id, store_ids, timezone, enforce_policy)
    password_hash = passwords.hash(password)  # slow by design: before the transaction
    with transaction(session):
        if session.scalar(select(User).where(User.username == name)):
            raise ConflictError(f"user {name!r} already exists")
        if technician_id and session.scalar(select(User).where(User.technician_id == technician_id)):
            raise ConflictError(f"technician id {technician_id!r} already belongs to another user")
        user = User(username=name, password_hash=password_hash, role=role, technician_id=technician_id,
                    timezone=timezone, active=True, created_at=clock.now(),
                    stores=[UserStore(store_id=s) for s in store_ids])
        session.add(user)
    return user
