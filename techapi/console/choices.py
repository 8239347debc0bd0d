"""What the dispatch pages offer and read back: the caller's stores (scoped as the
API scopes them), a store's technicians with their names, and the days and times
a form sends, in the supervisor's time zone. Bad input is a ValidationError with
a sentence a person can act on, never a 500."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from marshmallow import ValidationError as SchemaError
from sqlalchemy import select
from sqlalchemy.orm import Session

from techapi.auth.models import Role, User, UserStore
from techapi.capacity.access import check_store
from techapi.edge.times import OUT_OF_RANGE, in_range
from techapi.errors import NotFoundError, ValidationError
from techapi.jobs.models import Job, JobTechnician


def stores_of(session: Session, user: User) -> list[str]:
    """A supervisor's stores; an admin's, or every store techapi has jobs of."""
    if user.role == Role.ADMIN and not user.store_ids:
        return sorted(session.scalars(select(Job.store_id).where(Job.store_id.is_not(None)).distinct()))
    return list(user.store_ids)


def chosen_store(session: Session, user: User, asked: str | None) -> tuple[str, list[str]]:
    """The store a page shows (default: the caller's first) and the ones it offers;
    a store the caller does not oversee is 403, as in the API."""
    stores = stores_of(session, user)
    store = asked or (stores[0] if stores else None)
    if store is None:
        raise NotFoundError("You oversee no store yet; ask an admin to give you one")
    check_store(user, store)
    return store, stores if store in stores else [*stores, store]


def technician_names(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """A name for each technician ID: as SP-API names them on jobs, else their account's username."""
    wanted = set(ids)
    names = dict(session.execute(select(JobTechnician.technician_id, JobTechnician.name).where(
        JobTechnician.technician_id.in_(wanted), JobTechnician.name.is_not(None))).all())
    accounts = session.execute(select(User.technician_id, User.username).where(User.technician_id.in_(wanted)))
    for technician_id, username in accounts:
        names.setdefault(technician_id, username)
    return {t: names.get(t, t) for t in wanted}


def technician_accounts(session: Session, store_id: str) -> list[tuple[str, str]]:
    """(technician ID, name) of the store's active technician accounts: who may be given time off."""
    ids = session.scalars(select(User.technician_id).join(UserStore, UserStore.user_id == User.id).where(
        UserStore.store_id == store_id, User.role == Role.TECHNICIAN, User.active.is_(True),
        User.technician_id.is_not(None)))
    names = technician_names(session, ids)
    return sorted(names.items(), key=lambda item: (item[1], item[0]))


def day(raw: str | None, default: date) -> date:
    """A YYYY-MM-DD from a query string, or `default` when none was given."""
    if not raw:
        return default
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(f"{raw!r} is not a date: use YYYY-MM-DD") from None
    if not in_range(value):
        raise ValidationError(f"{raw}: {OUT_OF_RANGE}")
    return value


def local_time(raw: str | None, tz_name: str, label: str) -> datetime:
    """A form's date and time (an <input type=datetime-local>), in the supervisor's time zone unless it says."""
    if not raw:
        raise ValidationError(f"{label}: give a date and time")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationError(f"{label}: {raw!r} is not a date and time (YYYY-MM-DD HH:MM)") from None
    if not in_range(value):
        raise ValidationError(f"{label}: {OUT_OF_RANGE}")
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(tz_name))


def schema_message(exc: SchemaError, labels: dict[str, str]) -> ValidationError:
    """marshmallow's field messages as one sentence, with the form's own labels."""
    found = exc.normalized_messages()
    parts = []
    for field, messages in (found.items() if isinstance(found, dict) else [("", found)]):
        text = " ".join(m for m in messages if isinstance(m, str)) if isinstance(messages, list) else str(messages)
        parts.append(f"{labels.get(field, field)}: {text}" if field else text)
    return ValidationError("; ".join(parts) or "The form did not validate")
