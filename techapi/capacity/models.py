"""Time off and other reservations of a store's capacity, as techapi keeps them.

SP-API gives a reservation a new reservationId on every update; techapi's own id
stays the same for the phone and the supervisor, and the current SP-API id is kept
beside it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from techapi.db import Base, UTCDateTime


class ReservationKind(enum.StrEnum):
    """The reservation types a person can take (APPOINTMENT is SP-API's own)."""

    BREAK = "BREAK"
    VACATION = "VACATION"
    TRAINING = "TRAINING"
    TRAVEL = "TRAVEL"


class ReservationStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"


class Reservation(Base):
    __tablename__ = "reservations"
    __table_args__ = (
        Index("ix_reservations_store_start", "store_id", "start"),
        Index("ix_reservations_technician_start", "technician_id", "start"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # techapi's stable id (a UUID)
    store_id: Mapped[str] = mapped_column(String(100))
    technician_id: Mapped[str | None] = mapped_column(String(50))  # whose time off, when it is someone's
    kind: Mapped[str] = mapped_column(String(16))  # ReservationKind
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    notes: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=ReservationStatus.ACTIVE)
    spapi_reservation_id: Mapped[str | None] = mapped_column(String(100))  # changes on every update
    # Who made, last moved and cancelled it: time off is no job, so its history is on the row.
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
