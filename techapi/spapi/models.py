"""The rate_buckets table: SP-API usage-plan buckets shared through PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from techapi.db import Base


class RateBucket(Base):
    __tablename__ = "rate_buckets"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)  # the database's clock, epoch seconds
