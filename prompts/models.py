"""Tables of the prompt domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from prompts.base import JSONType, UTCDateTime, utc_now


class Prompt(SQLModel, table=True):
    """A named prompt; its content lives in immutable versions."""

    __tablename__ = "prompts"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, unique=True))
    description: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utc_now, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    # Set while the prompt is archived: absent from lists, not resolved, kept with its history.
    archived_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )


class PromptTag(SQLModel, table=True):
    """A tag on a prompt (a table, so tag filters are portable and indexed)."""

    __tablename__ = "prompt_tags"

    prompt_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("prompts.id", ondelete="CASCADE"), primary_key=True
        )
    )
    tag: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True, index=True))


class PromptVersion(SQLModel, table=True):
    """One immutable version of a prompt's content and LLM config."""

    __tablename__ = "prompt_versions"
    __table_args__ = (
        sa.UniqueConstraint("prompt_id", "version"),
        sa.Index("ix_prompt_versions_prompt_id_content_hash", "prompt_id", "content_hash"),
    )

    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("prompts.id", ondelete="CASCADE"), nullable=False
        )
    )
    version: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    template: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    messages: list[dict[str, Any]] | None = Field(
        default=None, sa_column=sa.Column(JSONType, nullable=True)
    )
    template_format: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    variables: list[str] = Field(sa_column=sa.Column(JSONType, nullable=False))
    variables_schema: dict[str, Any] | None = Field(
        default=None, sa_column=sa.Column(JSONType, nullable=True)
    )
    config: dict[str, Any] = Field(sa_column=sa.Column(JSONType, nullable=False))
    message: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    author: str = Field(default="", sa_column=sa.Column(sa.String(200), nullable=False))
    content_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=sa.Column(UTCDateTime, nullable=False)
    )


class Label(SQLModel, table=True):
    """A movable pointer from (prompt, label name) to one version."""

    __tablename__ = "labels"
    __table_args__ = (sa.UniqueConstraint("prompt_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("prompts.id", ondelete="CASCADE"), nullable=False
        )
    )
    name: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    version_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("prompt_versions.id", ondelete="RESTRICT"), nullable=False
        )
    )
    updated_by: str = Field(default="", sa_column=sa.Column(sa.String(200), nullable=False))
    updated_at: datetime = Field(
        default_factory=utc_now, sa_column=sa.Column(UTCDateTime, nullable=False)
    )


class LabelEvent(SQLModel, table=True):
    """The audit trail: one row per label move or unset, never updated, a link of the chain."""

    __tablename__ = "label_events"
    __table_args__ = (sa.Index("ix_label_events_prompt_id_label_id", "prompt_id", "label", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("prompts.id", ondelete="CASCADE"), nullable=False
        )
    )
    label: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    from_version: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    # NULL when the event unset the label.
    to_version: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    actor: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    reason: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    is_forced: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    evidence: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=sa.Column(JSONType, nullable=False)
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    # The actor's role when it moved the label (NULL for moves recorded before roles were).
    actor_role: str | None = Field(default=None, sa_column=sa.Column(sa.String(16), nullable=True))
    # The audit chain (prompts.audit): position, the previous link's hash and this one's.
    # NULL only between an upgrade and the server's first start, which seals older rows.
    seq: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, nullable=True, unique=True)
    )
    prev_hash: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    hash: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))


class ArchiveEvent(SQLModel, table=True):
    """One archive or restore of a prompt, dataset or suite, a link of the audit chain."""

    __tablename__ = "archive_events"
    __table_args__ = (sa.Index("ix_archive_events_kind_name_seq", "kind", "name", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False, unique=True))
    # What was archived or restored: prompt, dataset or suite, and its name.
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    action: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    actor: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    actor_role: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    reason: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    prev_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))


class AuditHead(SQLModel, table=True):
    """The last link of the audit chain; its row lock serialises appends."""

    __tablename__ = "audit_head"

    id: int = Field(sa_column=sa.Column(sa.Integer, primary_key=True, autoincrement=False))
    seq: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))


# 64-bit ids where a table may outgrow 2^31 rows; SQLite's INTEGER PRIMARY KEY is 64-bit already
# (and only that exact type autoincrements there).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Event(SQLModel, table=True):
    """The outbox: one row per domain event, written in the transaction of the change itself.

    Webhook delivery (evals/webhooks) fans each one out once; `fanned_out_at` stays NULL until
    then. Pending rows are found by that, not by an id cursor: PostgreSQL's sequence ids can
    commit out of order.
    """

    __tablename__ = "events"
    __table_args__ = (
        sa.Index(
            "ix_events_pending",
            "id",
            postgresql_where=sa.text("fanned_out_at IS NULL"),
            sqlite_where=sa.text("fanned_out_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True))
    # The webhook id receivers deduplicate on: msg_<32 hex>, stable across retries.
    uid: str = Field(sa_column=sa.Column(sa.String(40), nullable=False, unique=True))
    type: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    occurred_at: datetime = Field(
        default_factory=utc_now, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    actor: str = Field(default="", sa_column=sa.Column(sa.String(200), nullable=False))
    data: dict[str, Any] = Field(sa_column=sa.Column(JSONType, nullable=False))
    fanned_out_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )
