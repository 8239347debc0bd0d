"""Webhook deliveries, kept by id so a redelivery is recognised."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from techapi.db import Base, UTCDateTime


class WebhookEvent(Base):
    __tablename__ = "webhook_events"

    webhook_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # RECEIVED, APPLIED, REJECTED, IGNORED
    status: Mapped[str] = mapped_column(String(12))
    result: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
