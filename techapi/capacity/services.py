"""Time off and other reservations of a store's capacity: SP-API first, then our row.

A change is sent to SP-API first and written here only once SP-API accepted it,
in one transaction, so a refusal leaves nothing behind. If our write fails after
SP-API accepted a new reservation, the reservation is cancelled on SP-API again
(or, if that fails too, logged with its reservationId for a person to cancel).
A move (updateReservation) cannot be taken back: it is logged as an error with
both reservationIds. Every change is logged; the row itself carries who made it
and when (time off is not a job, so the job audit trail is not involved).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from techapi.auth.models import Role, User, UserStore
from techapi.capacity.access import check_store, refusal
from techapi.capacity.models import Reservation, ReservationStatus
from techapi.capacity.rules import Overlap, check_times, refuse_overlaps
from techapi.clock import as_utc
from techapi.context import Deps
from techapi.db import end_read, transaction
from techapi.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from techapi.jobs.models import Job, JobTechnician
from techapi.spapi.errors import SpApiError, SpApiNotFound
from techapi.spapi.scheduling_types import Availability
from techapi.spapi.types import AppointmentStatus, JobStatus

log = logging.getLogger(__name__)

OVER = (JobStatus.COMPLETED, JobStatus.CANCELLED)


# Reads and lookups -----------------------------------------------------------------


def home_store(user: User) -> str:
    """A technician's one store (`techapi users create --role technician --store S`)."""
    if user.role != Role.TECHNICIAN or not user.technician_id:
        raise ForbiddenError("Only technicians take time off here; supervisors use /v1/stores/{storeId}/reservations")
    if len(user.store_ids) != 1:
        raise ValidationError("You have no home store (or more than one); ask an admin to set it")
    return user.store_ids[0]


def mine(session: Session, user: User) -> list[Reservation]:
    home_store(user)
    query = select(Reservation).where(Reservation.technician_id == user.technician_id)
    return list(session.scalars(query.order_by(Reservation.start, Reservation.id)))


def of_store(session: Session, user: User, store_id: str, start: datetime | None = None,
             end: datetime | None = None, technician_id: str | None = None) -> list[Reservation]:
    check_store(user, store_id)
    query = select(Reservation).where(Reservation.store_id == store_id)
    if end is not None:
        query = query.where(Reservation.start < end)
    if start is not None:
        query = query.where(Reservation.end > start)
    if technician_id is not None:
        query = query.where(Reservation.technician_id == technician_id)
    return list(session.scalars(query.order_by(Reservation.start, Reservation.id)))


def find_mine(session: Session, user: User, reservation_id: str) -> Reservation:
    """The caller's own time off; anyone else's is 404, never a hint that it exists."""
    home_store(user)
    row = session.get(Reservation, reservation_id)
    if row is None or row.technician_id != user.technician_id:
        raise NotFoundError("No such time off")
    return row


def find_in_store(session: Session, user: User, store_id: str, reservation_id: str) -> Reservation:
    check_store(user, store_id)
    row = session.get(Reservation, reservation_id)
    if row is None or row.store_id != store_id:
        raise NotFoundError("No such reservation in this store")
    return row


def technician_of_store(session: Session, store_id: str, technician_id: str) -> None:
    found = session.scalar(select(User.id).join(UserStore, UserStore.user_id == User.id).where(
        User.technician_id == technician_id, User.role == Role.TECHNICIAN, User.active.is_(True),
        UserStore.store_id == store_id))
    if found is None:
        raise ValidationError(f"{technician_id} is not an active technician of store {store_id}",
                              errors={"json": {"technicianId": ["Not a technician of this store."]}})


def overlapping(session: Session, technician_id: str, start: datetime, end: datetime) -> list[Overlap]:
    """The technician's own active appointments that [start, end) overlaps."""
    query = (select(Job.service_job_id, Job.appointment_start, Job.appointment_end)
             .join(JobTechnician, JobTechnician.service_job_id == Job.service_job_id)
             .where(JobTechnician.technician_id == technician_id,
                    Job.appointment_status == AppointmentStatus.ACTIVE.value,
                    or_(Job.status.is_(None), Job.status.not_in([s.value for s in OVER])),
                    Job.appointment_start < end, Job.appointment_end > start)
             .order_by(Job.appointment_start, Job.service_job_id))
    return [Overlap(*row) for row in session.execute(query)]


def _refuse_twice(session: Session, technician_id: str, start: datetime, end: datetime,
                  moving: str | None = None) -> None:
    """Nobody is off twice at once: a second reservation would take the store's capacity twice."""
    twice = session.scalars(select(Reservation.id).where(
        Reservation.technician_id == technician_id, Reservation.status == ReservationStatus.ACTIVE.value,
        Reservation.start < end, Reservation.end > start, Reservation.id != (moving or ""))).all()
    if twice:
        raise ConflictError(f"The technician already has time off then: {', '.join(twice)}",
                            errors={"reservations": list(twice)})


def _guard(session: Session, deps: Deps, user: User, technician_id: str | None, start: datetime, end: datetime,
           force: bool, moving: str | None = None) -> None:
    check_times(start, end, deps.clock.now())
    if force and user.role == Role.TECHNICIAN:
        raise ForbiddenError("Only a supervisor or an admin may force time off over appointments")
    if technician_id is None:
        return
    _refuse_twice(session, technician_id, start, end, moving)
    found = overlapping(session, technician_id, start, end)
    if found and force:
        log.warning("time off of %s forced over %s by %s", technician_id,
                    ", ".join(o.service_job_id for o in found), user.username)
    elif found:
        refuse_overlaps(found)


# Writes ----------------------------------------------------------------------------


def create(deps: Deps, session: Session, user: User, store_id: str, technician_id: str | None, kind: str,
           start: datetime, end: datetime, notes: str | None = None, force: bool = False) -> Reservation:
    """createReservation on the store, then our row with techapi's own stable id."""
    _guard(session, deps, user, technician_id, start, end, force)
    end_read(session)  # no transaction held across the SP-API call
    try:
        made = deps.spapi.create_reservation(store_id, kind, Availability(start, end))
    except SpApiError as exc:
        raise refusal(exc) from None
    now = deps.clock.now()
    row = Reservation(id=str(uuid.uuid4()), store_id=store_id, technician_id=technician_id, kind=kind,
                      start=start, end=end, notes=notes, status=ReservationStatus.ACTIVE.value,
                      spapi_reservation_id=made.reservation_id, created_by=user.id, updated_by=user.id, created_at=now,
                      updated_at=now, cancelled_at=None, version=1)
    try:
        with transaction(session):
            if technician_id is not None:
                # Two requests may both have passed the guard: the technician's row lock lets one
                # insert at a time, and the later one finds the earlier's time off and is refused.
                session.execute(select(User.id).where(User.technician_id == technician_id).with_for_update())
                _refuse_twice(session, technician_id, start, end)
            session.add(row)
    except Exception:
        _take_back(deps, made.reservation_id)
        raise
    log.info("reservation %s (%s%s) created on store %s for %s by %s: %s..%s, SP-API %s", row.id, kind,
             ", forced" if force else "", store_id, technician_id or "the store", user.username, start, end,
             made.reservation_id)
    return row


def _take_back(deps: Deps, reservation_id: str) -> None:
    try:
        deps.spapi.cancel_reservation(reservation_id)
        log.error("reservation %s cancelled on SP-API again: it could not be recorded here", reservation_id)
    except SpApiError:
        log.exception("reservation %s exists on SP-API but not here, and cancelling it failed: cancel it by hand",
                      reservation_id)


def move(deps: Deps, session: Session, user: User, row: Reservation, start: datetime, end: datetime,
         force: bool = False) -> Reservation:
    """updateReservation: SP-API answers a new reservationId; techapi's id stays, the version goes up."""
    if row.status != ReservationStatus.ACTIVE:
        raise ConflictError("This reservation is cancelled")
    _guard(session, deps, user, row.technician_id, start, end, force, moving=row.id)
    old_id, version, key = row.spapi_reservation_id, row.version, row.id
    end_read(session)
    try:
        made = deps.spapi.update_reservation(old_id or "", row.store_id, row.kind, Availability(start, end))
    except SpApiNotFound:
        raise ConflictError("The reservation changed meanwhile; reload it and try again") from None
    except SpApiError as exc:
        raise refusal(exc) from None
    try:
        with transaction(session):
            moved = session.execute(
                update(Reservation).where(Reservation.id == key, Reservation.version == version)
                .values(start=start, end=end, spapi_reservation_id=made.reservation_id,
                        updated_at=deps.clock.now(), updated_by=user.id, version=version + 1)).rowcount
    except Exception:
        log.exception("reservation %s moved on SP-API (%s -> %s) but not recorded here", key, old_id,
                      made.reservation_id)
        raise
    if not moved:
        log.error("reservation %s moved on SP-API (%s -> %s) while another change won here", key, old_id,
                  made.reservation_id)
        raise ConflictError("The reservation changed meanwhile; reload it and try again")
    session.refresh(row)
    log.info("reservation %s moved by %s to %s..%s, SP-API %s -> %s", key, user.username, start, end, old_id,
             made.reservation_id)
    return row


def cancel(deps: Deps, session: Session, user: User, row: Reservation) -> Reservation:
    """cancelReservation (what is left of it, once begun); cancelling twice is cancelling once."""
    if row.status == ReservationStatus.CANCELLED:
        return row
    if as_utc(row.end) <= as_utc(deps.clock.now()):
        raise ConflictError("This time off is over; it stays on the record")
    key, version = row.id, row.version
    end_read(session)
    try:
        if row.spapi_reservation_id:
            deps.spapi.cancel_reservation(row.spapi_reservation_id)
    except SpApiNotFound:
        log.warning("reservation %s was already gone on SP-API (%s)", key, row.spapi_reservation_id)
    except SpApiError as exc:
        raise refusal(exc) from None
    now = deps.clock.now()
    with transaction(session):
        session.execute(update(Reservation).where(Reservation.id == key).values(
            status=ReservationStatus.CANCELLED.value, cancelled_at=now, cancelled_by=user.id, updated_at=now,
            updated_by=user.id, version=version + 1))
    session.refresh(row)
    log.info("reservation %s cancelled by %s (SP-API %s)", key, user.username, row.spapi_reservation_id)
    return row
