"""Tables of monitors: the monitors, one event per (monitor, prompt, label, period), incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from prompts.base import JSONType, UTCDateTime, utc_now
from prompts.models import BigId


def _time(*, nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_column=sa.Column(UTCDateTime, nullable=True))
    return Field(default_factory=utc_now, sa_column=sa.Column(UTCDateTime, nullable=False))


class Monitor(SQLModel, table=True):
    """What to watch (a label of one prompt, or of every prompt) and when it fires."""

    __tablename__ = "monitors"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    # None: every prompt whose `label` is gated (or protected).
    prompt: str | None = Field(default=None, sa_column=sa.Column(sa.String(200), nullable=True))
    # None: every gated or protected label (of `prompt`, or of every prompt).
    label: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    trigger: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))  # schedule|signal
    cron: str | None = Field(default=None, sa_column=sa.Column(sa.String(200), nullable=True))
    # evals.monitors.schemas.SignalSpec, for a `signal` monitor.
    signal: dict[str, Any] | None = Field(
        default=None, sa_column=sa.Column(JSONType, nullable=True)
    )
    is_enabled: bool = Field(
        default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true())
    )
    # The next period to run; replicas advance it by compare-and-set (evals/monitors/scheduler).
    next_due_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    description: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    created_by: str = Field(default="", sa_column=sa.Column(sa.String(200), nullable=False))
    created_at: datetime = _time()
    updated_by: str = Field(default="", sa_column=sa.Column(sa.String(200), nullable=False))
    updated_at: datetime = _time()


class MonitorEvent(SQLModel, table=True):
    """One check of one label for one period: its status and evidence.

    The unique key is the once-per-period lock: a second replica's insert for the same period
    finds the row and does nothing.
    """

    __tablename__ = "monitor_events"
    __table_args__ = (
        sa.UniqueConstraint("monitor_id", "prompt", "label", "period_key"),
        sa.Index(
            "ix_monitor_events_running",
            "id",
            postgresql_where=sa.text("status = 'running'"),
            sqlite_where=sa.text("status = 'running'"),
        ),
    )

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True))
    monitor_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False
        )
    )
    prompt: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    label: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    version: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    period_key: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    # running|fired|ok|insufficient|superseded|error|timed_out
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    evidence: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(JSONType, nullable=False)
    )
    started_at: datetime = _time()
    finished_at: datetime | None = _time(nullable=True)


class LabelIncident(SQLModel, table=True):
    """A label a monitor found failing, open until someone resolves it; one open per label."""

    __tablename__ = "label_incidents"
    __table_args__ = (
        sa.Index(
            "uq_label_incidents_open",
            "prompt",
            "label",
            unique=True,
            postgresql_where=sa.text("resolved_at IS NULL"),
            sqlite_where=sa.text("resolved_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    prompt: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    label: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    opened_at: datetime = _time()
    resolved_at: datetime | None = _time(nullable=True)
    resolved_by: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(200), nullable=True)
    )
    reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    first_event_id: int | None = Field(default=None, sa_column=sa.Column(BigId, nullable=True))
    last_event_id: int | None = Field(default=None, sa_column=sa.Column(BigId, nullable=True))
    firings: int = Field(default=1, sa_column=sa.Column(sa.Integer, nullable=False))
