"""Recorded times and documents of a job."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta, timezone

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from techapi.db import Base, UTCDateTime
from techapi.states import Transitions


class TimeKind(enum.StrEnum):
    START = "start"
    FINISH = "finish"


class TimeRecord(Base):
    """The actual start or finish of the work, as the technician recorded it."""

    __tablename__ = "time_records"

    service_job_id: Mapped[str] = mapped_column(
        ForeignKey("jobs.service_job_id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # TimeKind
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # the time that counts (UTC)
    device_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # as the device sent it
    device_offset_minutes: Mapped[int | None] = mapped_column(Integer)  # the device's UTC offset
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the server got it
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16))
    # Optimistic concurrency: a change must name the version it replaces.
    version: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def clock_corrected(self) -> bool:
        """The device's clock was off and the server corrected it (offline replay)."""
        return self.device_at is not None and self.device_at != self.at

    @property
    def device_at_as_sent(self) -> str | None:
        """The device's time in the device's own UTC offset, as it sent it."""
        if self.device_at is None or self.device_offset_minutes is None:
            return None
        return self.device_at.astimezone(timezone(timedelta(minutes=self.device_offset_minutes))).isoformat()


class DocumentKind(enum.StrEnum):
    PHOTO = "PHOTO"
    POA = "POA"


class DocumentStatus(enum.StrEnum):
    RECEIVED = "RECEIVED"
    UPLOADING = "UPLOADING"
    UPLOADED = "UPLOADED"
    FAILED = "FAILED"


D = DocumentStatus
# The upload state machine. UPLOADING -> UPLOADING is the next attempt after a
# passing failure; RECEIVED -> FAILED an upload that gave up before it began (its
# blob gone, say); UPLOADED -> FAILED a document Amazon refused at fulfillment for
# what it holds (its malware check): it can never be sent, a replacement must be.
DOCUMENT = Transitions("Document", DocumentStatus, {
    D.RECEIVED: {D.UPLOADING, D.FAILED},
    D.UPLOADING: {D.UPLOADING, D.UPLOADED, D.FAILED},
    D.FAILED: set(),
    D.UPLOADED: {D.FAILED},
})
# What counts towards readiness: a document that failed for good does not.
COUNTED = (D.RECEIVED, D.UPLOADING, D.UPLOADED)
# A thumbnail's long side; in its blob key, so a new size is made afresh, never served stale.
THUMBNAIL_LONG_SIDE = 320


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_job", "service_job_id"),
        # The same bytes twice on one job are one document of each kind: the photo of
        # the signed paper may also be the POA.
        Index("uq_documents_job_kind_original", "service_job_id", "kind", "original_sha256", unique=True),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_job_id: Mapped[str] = mapped_column(ForeignKey("jobs.service_job_id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    poa_type: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # DocumentStatus, moved by evidence.documents.move_document
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    file_name: Mapped[str | None] = mapped_column(String(255))  # display only, never a path
    detected_type: Mapped[str] = mapped_column(String(8))  # what the bytes are: JPEG, HEIC, ...
    content_type: Mapped[str] = mapped_column(String(8))  # what we send: JPEG, PNG, GIF, TIFF, PDF
    original_size: Mapped[int] = mapped_column(Integer)
    original_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)  # normalised bytes
    sha256: Mapped[str] = mapped_column(String(64))  # of the normalised bytes (hex)
    md5_b64: Mapped[str] = mapped_column(String(24))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # from EXIF, as evidence
    gps_latitude: Mapped[float | None] = mapped_column(Float)
    gps_longitude: Mapped[float | None] = mapped_column(Float)
    upload_destination_id: Mapped[str | None] = mapped_column(String(500))
    content_sha256: Mapped[str | None] = mapped_column(String(64))  # base64 SHA-256 of the ciphertext
    upload_attempts: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def refused_by_amazon(self) -> bool:
        """FAILED after it was uploaded: Amazon refused it at fulfillment. (An
        upload that failed never got a destination: it is set with UPLOADED.)"""
        return self.status == DocumentStatus.FAILED and self.upload_destination_id is not None

    @property
    def original_key(self) -> str:
        return f"documents/{self.id}/original"

    @property
    def normalised_key(self) -> str:
        return f"documents/{self.id}/normalised"

    @property
    def thumbnail_key(self) -> str:
        """Made on first request from the normalised bytes, which never change for an id."""
        return f"documents/{self.id}/thumbnail-{THUMBNAIL_LONG_SIDE}"

    @property
    def content_url(self) -> str:
        """Where a client downloads what is sent to Amazon (same authentication)."""
        return f"/v1/jobs/{self.service_job_id}/documents/{self.id}/content"
