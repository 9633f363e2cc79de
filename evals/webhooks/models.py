"""Tables of webhook delivery: endpoints, one delivery per (endpoint, event), its attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from prompts.base import JSONType, UTCDateTime, utc_now
from prompts.models import BigId


def _created() -> Any:
    return Field(default_factory=utc_now, sa_column=sa.Column(UTCDateTime, nullable=False))


def _nullable_time() -> Any:
    return Field(default=None, sa_column=sa.Column(UTCDateTime, nullable=True))


class WebhookEndpoint(SQLModel, table=True):
    """A receiver URL, the event types it wants, and its signing secret (sealed)."""

    __tablename__ = "webhook_endpoints"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    url: str = Field(sa_column=sa.Column(sa.String(2000), nullable=False))
    event_types: list[str] = Field(sa_column=sa.Column(JSONType, nullable=False))
    # standard (the event as JSON) or slack ({"text", "blocks"}); both signed alike.
    format: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    # Fernet tokens (evals/connections/crypto.py); never returned, logged or exported.
    secret_ciphertext: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    # The secret before the last rotation: deliveries are signed with both until it expires.
    previous_secret_ciphertext: str | None = Field(
        default=None, sa_column=sa.Column(sa.Text, nullable=True)
    )
    previous_secret_expires_at: datetime | None = _nullable_time()
    is_paused: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    paused_reason: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(300), nullable=True)
    )
    consecutive_failures: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    # When the current run of failures began (NULL after a success): long enough, it pauses.
    failing_since: datetime | None = _nullable_time()
    # The newest attempt to any of its deliveries (its "last answer"), kept as it is recorded.
    last_attempt_at: datetime | None = _nullable_time()
    last_status_code: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, nullable=True)
    )
    last_duration_ms: float | None = Field(
        default=None, sa_column=sa.Column(sa.Float, nullable=True)
    )
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.String(300), nullable=True))
    description: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    created_by: str = Field(default="", sa_column=sa.Column(sa.String(200), nullable=False))
    created_at: datetime = _created()
    updated_by: str = Field(default="", sa_column=sa.Column(sa.String(200), nullable=False))
    updated_at: datetime = _created()


class WebhookDelivery(SQLModel, table=True):
    """One event to one endpoint: pending until delivered or dead, leased while it is sent."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("endpoint_id", "event_id"),
        sa.Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True))
    endpoint_id: int = Field(
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    event_id: int = Field(
        sa_column=sa.Column(
            sa.BigInteger, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False
        )
    )
    # pending, delivered or dead
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    attempts: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False))
    next_attempt_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    # The next attempt was asked for by hand (a redelivery or a test).
    is_manual: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    lease_owner: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    lease_expires_at: datetime | None = _nullable_time()
    last_status_code: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, nullable=True)
    )
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.String(300), nullable=True))
    delivered_at: datetime | None = _nullable_time()
    created_at: datetime = _created()


class WebhookAttempt(SQLModel, table=True):
    """One HTTP request of a delivery and what the receiver answered (status, ≤300 chars)."""

    __tablename__ = "webhook_attempts"

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True))
    delivery_id: int = Field(
        sa_column=sa.Column(
            sa.BigInteger,
            sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    attempted_at: datetime = _created()
    status_code: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    duration_ms: float = Field(default=0.0, sa_column=sa.Column(sa.Float, nullable=False))
    error: str | None = Field(default=None, sa_column=sa.Column(sa.String(300), nullable=True))
    is_manual: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
