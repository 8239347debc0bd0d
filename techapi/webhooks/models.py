"""Webhook deliveries, kept by id so a redelivery is recognised."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from techapi.db import Base, UTCDateTime
from techapi.states import Transitions


class EventStatus(enum.StrEnum):
    RECEIVED = "RECEIVED"  # stored, waiting for the worker
    APPLIED = "APPLIED"
    REJECTED = "REJECTED"  # `result` says why
    IGNORED = "IGNORED"  # an event type we do not know, acknowledged and kept


E = EventStatus
EVENT = Transitions("Webhook event", EventStatus, {
    E.RECEIVED: {E.APPLIED, E.REJECTED},
    E.APPLIED: set(),
    E.REJECTED: set(),
    E.IGNORED: set(),
})


class WebhookEvent(Base):
    __tablename__ = "webhook_events"

    webhook_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12))  # EventStatus, moved by webhooks.tasks.move_event only
    result: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
