"""Tables of the evaluation domain: datasets, suites, runs, policies, online evaluations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from prompts.base import JSONType, UTCDateTime, utc_now


def _fk(target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> Any:
    return sa.Column(
        sa.Integer, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=True
    )


def _created() -> Any:
    return Field(default_factory=utc_now, sa_column=sa.Column(UTCDateTime, nullable=False))


class Dataset(SQLModel, table=True):
    """A named dataset; its items live in immutable versions."""

    __tablename__ = "datasets"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, unique=True))
    description: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = _created()
    # The version last pushed (re-pushing an older version's content makes it current again).
    current_version: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, nullable=True)
    )
    # Set while archived: absent from lists, not used by new runs, kept with its versions.
    archived_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )


class DatasetVersion(SQLModel, table=True):
    """One immutable version of a dataset's items."""

    __tablename__ = "dataset_versions"
    __table_args__ = (
        sa.UniqueConstraint("dataset_id", "version"),
        sa.UniqueConstraint("dataset_id", "content_hash"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(sa_column=_fk("datasets.id"))
    version: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    item_count: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    content_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    message: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    author: str = Field(default="", sa_column=sa.Column(sa.String(200), nullable=False))
    created_at: datetime = _created()


class DatasetItem(SQLModel, table=True):
    """One item of a dataset version: input variables, expected output, contexts, metadata."""

    __tablename__ = "dataset_items"
    __table_args__ = (sa.UniqueConstraint("dataset_version_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    dataset_version_id: int = Field(sa_column=_fk("dataset_versions.id"))
    position: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    input: dict[str, Any] = Field(sa_column=sa.Column(JSONType, nullable=False))
    expected: Any = Field(default=None, sa_column=sa.Column(JSONType, nullable=True))
    contexts: list[str] = Field(default_factory=list, sa_column=sa.Column(JSONType, nullable=False))
    item_metadata: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column("metadata", JSONType, nullable=False)
    )


class Suite(SQLModel, table=True):
    """A named evaluation suite; its specification lives in immutable versions."""

    __tablename__ = "suites"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, unique=True))
    description: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = _created()
    # The version last pushed (re-pushing an older version's content makes it current again).
    current_version: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, nullable=True)
    )
    # Set while archived: absent from lists, not used by new runs, kept with its versions.
    archived_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )


class SuiteVersion(SQLModel, table=True):
    """One immutable version of a suite: its spec, and the dataset and judges it pins.

    The dataset version and judge prompt versions are resolved when the suite is pushed and
    are part of its content hash, so a suite version always measures the same thing.
    """

    __tablename__ = "suite_versions"
    __table_args__ = (
        sa.UniqueConstraint("suite_id", "version"),
        sa.UniqueConstraint("suite_id", "content_hash"),
    )

    id: int | None = Field(default=None, primary_key=True)
    suite_id: int = Field(sa_column=_fk("suites.id"))
    version: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    spec: dict[str, Any] = Field(sa_column=sa.Column(JSONType, nullable=False))
    # NULL only for a version stored before suites pinned their dataset whose dataset did not
    # exist at the upgrade: it cannot run (push the suite again).
    dataset_version_id: int | None = Field(
        default=None, sa_column=_fk("dataset_versions.id", nullable=True, ondelete="RESTRICT")
    )
    # Judge prompt reference -> {name, version, content_hash}, resolved at push time.
    judges: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(JSONType, nullable=False)
    )
    content_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    author: str = Field(default="", sa_column=sa.Column(sa.String(200), nullable=False))
    created_at: datetime = _created()


class Run(SQLModel, table=True):
    """One suite version run on one prompt version: progress, summary, verdict, manifest."""

    __tablename__ = "runs"
    __table_args__ = (sa.Index("ix_runs_status_lease_expires_at", "status", "lease_expires_at"),)

    id: int | None = Field(default=None, primary_key=True)
    suite_version_id: int = Field(sa_column=_fk("suite_versions.id", ondelete="RESTRICT"))
    prompt_version_id: int = Field(sa_column=_fk("prompt_versions.id", ondelete="RESTRICT"))
    dataset_version_id: int = Field(sa_column=_fk("dataset_versions.id", ondelete="RESTRICT"))
    baseline_version_id: int | None = Field(
        default=None, sa_column=_fk("prompt_versions.id", nullable=True, ondelete="RESTRICT")
    )
    label: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    verdict: str | None = Field(default=None, sa_column=sa.Column(sa.String(16), nullable=True))
    total: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    completed: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False))
    errors: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False))
    summary: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(JSONType, nullable=False)
    )
    gate: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(JSONType, nullable=False)
    )
    manifest: dict[str, Any] = Field(sa_column=sa.Column(JSONType, nullable=False))
    manifest_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    is_cancel_requested: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False)
    )
    lease_owner: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    lease_expires_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )
    created_by: str = Field(default="", sa_column=sa.Column(sa.String(200), nullable=False))
    created_at: datetime = _created()
    started_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )
    finished_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )


class RunItem(SQLModel, table=True):
    """The result of one dataset item, one repeat, for the candidate or the baseline version."""

    __tablename__ = "run_items"
    __table_args__ = (sa.UniqueConstraint("run_id", "variant", "position", "repeat"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(sa_column=_fk("runs.id"))
    variant: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    position: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    repeat: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    output: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    latency_ms: float | None = Field(default=None, sa_column=sa.Column(sa.Float, nullable=True))
    input_tokens: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    output_tokens: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    cost_usd: float | None = Field(default=None, sa_column=sa.Column(sa.Float, nullable=True))
    is_cached: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False))
    scores: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(JSONType, nullable=False)
    )
    trace_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(32), nullable=True))
    created_at: datetime = _created()


class PromotionPolicy(SQLModel, table=True):
    """What a label demands before a version may take it, for all prompts or one.

    `pins` are the exact suite versions whose passing runs count (evals.promotion.reports.
    SuitePin); only admins change them, and every change is a PolicyEvent.
    """

    __tablename__ = "promotion_policies"
    __table_args__ = (sa.UniqueConstraint("label", "scope"),)

    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    # '*' for every prompt, otherwise one prompt's name (a string, so NULLs never dodge
    # the unique constraint).
    scope: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    pins: list[dict[str, Any]] = Field(sa_column=sa.Column(JSONType, nullable=False))
    max_age_seconds: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, nullable=True)
    )
    force_role: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    # A monitor that fires on this label moves it back to the last version that passed its
    # gate (a gated move, never forced; evals/monitors/rollback.py).
    auto_rollback: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    updated_by: str = Field(default="", sa_column=sa.Column(sa.String(200), nullable=False))
    updated_at: datetime = _created()


class PolicyEvent(SQLModel, table=True):
    """One change of a promotion policy (created, updated, deleted), a link of the audit chain."""

    __tablename__ = "policy_events"
    __table_args__ = (sa.Index("ix_policy_events_label_scope_seq", "label", "scope", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False, unique=True))
    action: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    label: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    scope: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    # The policy as it is after the change (None once deleted).
    policy: dict[str, Any] | None = Field(
        default=None, sa_column=sa.Column(JSONType, nullable=True)
    )
    actor: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    actor_role: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    reason: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = _created()
    prev_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))


class LlmCacheEntry(SQLModel, table=True):
    """A cached model response, keyed by a hash of (model, messages, parameters)."""

    __tablename__ = "llm_cache"

    key: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    model: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    response: dict[str, Any] = Field(sa_column=sa.Column(JSONType, nullable=False))
    created_at: datetime = _created()


class OnlineEvaluation(SQLModel, table=True):
    """Which production generations of a prompt (and label) are scored, and by what."""

    __tablename__ = "online_evaluations"
    __table_args__ = (
        sa.UniqueConstraint("prompt_id", "label"),
        sa.CheckConstraint("sample_rate >= 0 AND sample_rate <= 1", name="sample_rate"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # No index of its own: the unique constraint's index leads with it.
    prompt_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("prompts.id", ondelete="CASCADE"), nullable=False
        )
    )
    # '*' for any label, otherwise one label's name (a string, so NULLs never dodge the
    # unique constraint on either database).
    label: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    sample_rate: float = Field(sa_column=sa.Column(sa.Float, nullable=False))
    scorers: list[dict[str, Any]] = Field(sa_column=sa.Column(JSONType, nullable=False))
    is_enabled: bool = Field(default=True, sa_column=sa.Column(sa.Boolean, nullable=False))
    updated_by: str = Field(default="", sa_column=sa.Column(sa.String(200), nullable=False))
    created_at: datetime = _created()
    updated_at: datetime = _created()
