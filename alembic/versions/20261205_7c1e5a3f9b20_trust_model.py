"""Trust model: suites pin their dataset and judges, policies pin suite versions, datasets
and suites have a current version, and label and policy events form one hash chain.

Existing rows are carried over: datasets and suites take their newest version as current;
each suite version pins the dataset version it named, else the dataset's newest, and the judge
versions its references resolve to now; each policy pins its suites' newest versions. Label
events get their chain links when the server first starts (it hashes them as the application
does), and policies found without an event are recorded then.

Revision ID: 7c1e5a3f9b20
Revises: d0592bdb57a3
Create Date: 2026-12-05 04:40:07.279292
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "7c1e5a3f9b20"
down_revision: str | Sequence[str] | None = "d0592bdb57a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
GENESIS = "0" * 64
JUDGED = ("llm_judge", "toxicity")  # scorer types whose params.prompt names a judge prompt


def _create_tables() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.execute(sa.text(f"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS}')"))
    op.create_table(
        "policy_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("policy", JSON, nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_events")),
        sa.UniqueConstraint("seq", name=op.f("uq_policy_events_seq")),
    )
    with op.batch_alter_table("policy_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_policy_events_label_scope_seq", ["label", "scope", "seq"], unique=False
        )


def _current_versions(bind: Any) -> None:
    for table, versions, fk in (
        ("datasets", "dataset_versions", "dataset_id"),
        ("suites", "suite_versions", "suite_id"),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("current_version", sa.Integer(), nullable=True))
        bind.execute(
            sa.text(
                f"UPDATE {table} SET current_version = "  # noqa: S608 - fixed names
                f"(SELECT MAX(v.version) FROM {versions} v WHERE v.{fk} = {table}.id)"
            )
        )


def _judge_version(bind: Any, ref: str) -> dict[str, Any] | None:
    """Resolve `name@label`, `name:version` or `name` (production) as the app does."""
    name, label, number = ref, "production", None
    head, sep, tail = ref.rpartition(":")
    if sep and re.fullmatch(r"[1-9][0-9]{0,8}", tail):
        name, label, number = head, None, int(tail)
    elif "@" in ref:
        name, _, label = ref.partition("@")
    prompt_id = bind.execute(
        sa.text("SELECT id FROM prompts WHERE name = :n"), {"n": name}
    ).scalar()
    if prompt_id is None:
        return None
    if number is None and label == "latest":
        number = bind.execute(
            sa.text("SELECT MAX(version) FROM prompt_versions WHERE prompt_id = :p"),
            {"p": prompt_id},
        ).scalar()
    if number is not None:
        query = "SELECT version, content_hash FROM prompt_versions WHERE prompt_id = :p AND version = :v"
        row = bind.execute(sa.text(query), {"p": prompt_id, "v": number}).first()
    else:
        query = (
            "SELECT v.version, v.content_hash FROM labels l JOIN prompt_versions v "
            "ON v.id = l.version_id WHERE l.prompt_id = :p AND l.name = :l"
        )
        row = bind.execute(sa.text(query), {"p": prompt_id, "l": label}).first()
    return None if row is None else {"name": name, "version": row[0], "content_hash": row[1]}


def _dataset_version_id(bind: Any, dataset: dict[str, Any]) -> int | None:
    query = (
        "SELECT v.id FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id "
        "WHERE d.name = :n AND (:v IS NULL OR v.version = :v) ORDER BY v.version DESC LIMIT 1"
    )
    version = dataset.get("version")
    return bind.execute(
        sa.text(query).bindparams(sa.bindparam("v", type_=sa.Integer())),
        {"n": dataset.get("name"), "v": version},
    ).scalar()


def _pin_suite_versions(bind: Any) -> None:
    with op.batch_alter_table("suite_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dataset_version_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("judges", JSON, nullable=True))
    table = sa.table(
        "suite_versions",
        sa.column("id", sa.Integer()),
        sa.column("spec", JSON),
        sa.column("dataset_version_id", sa.Integer()),
        sa.column("judges", JSON),
    )
    for row_id, spec in bind.execute(sa.select(table.c.id, table.c.spec)).all():
        refs = sorted(
            {
                s["params"]["prompt"]
                for s in spec.get("scorers", [])
                if s.get("type") in JUDGED and isinstance(s.get("params", {}).get("prompt"), str)
            }
        )
        judges = {ref: found for ref in refs if (found := _judge_version(bind, ref))}
        bind.execute(
            table.update()
            .where(table.c.id == row_id)
            .values(dataset_version_id=_dataset_version_id(bind, spec["dataset"]), judges=judges)
        )
    with op.batch_alter_table("suite_versions", schema=None) as batch_op:
        batch_op.alter_column("judges", existing_type=JSON, nullable=False)
        batch_op.create_index(
            batch_op.f("ix_suite_versions_dataset_version_id"), ["dataset_version_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_suite_versions_dataset_version_id_dataset_versions"),
            "dataset_versions",
            ["dataset_version_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def _suite_pin(bind: Any, name: str) -> dict[str, Any] | None:
    query = (
        "SELECT v.version, v.content_hash, v.spec, dv.version FROM suite_versions v "
        "JOIN suites s ON s.id = v.suite_id "
        "JOIN dataset_versions dv ON dv.id = v.dataset_version_id "
        "WHERE s.name = :n ORDER BY v.version DESC LIMIT 1"
    )
    row = bind.execute(sa.text(query), {"n": name}).first()
    if row is None:
        return None
    version, content_hash, spec, dataset_version = row
    spec = json.loads(spec) if isinstance(spec, str) else spec
    return {
        "suite": name,
        "version": version,
        "content_hash": content_hash,
        "dataset": spec["dataset"]["name"],
        "dataset_version": dataset_version,
    }


def _pin_policies(bind: Any) -> None:
    with op.batch_alter_table("promotion_policies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pins", JSON, nullable=True))
    table = sa.table(
        "promotion_policies",
        sa.column("id", sa.Integer()),
        sa.column("required_suites", JSON),
        sa.column("pins", JSON),
    )
    for row_id, names in bind.execute(sa.select(table.c.id, table.c.required_suites)).all():
        # A suite that did not exist (or cannot run) is dropped; a policy left with no pins
        # refuses every non-forced move, which is safe, until an admin pins a suite.
        pins = [pin for name in names if (pin := _suite_pin(bind, name))]
        bind.execute(table.update().where(table.c.id == row_id).values(pins=pins))
    with op.batch_alter_table("promotion_policies", schema=None) as batch_op:
        batch_op.alter_column("pins", existing_type=JSON, nullable=False)
        batch_op.drop_column("required_suites")


def upgrade() -> None:
    """Apply this revision."""
    bind = op.get_bind()
    _create_tables()
    with op.batch_alter_table("label_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_role", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_label_events_seq"), ["seq"])
    _current_versions(bind)
    _pin_suite_versions(bind)
    _pin_policies(bind)


def downgrade() -> None:
    """Revert this revision (policies keep their suites' names; chain links are dropped)."""
    bind = op.get_bind()
    with op.batch_alter_table("promotion_policies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("required_suites", JSON, nullable=True))
    table = sa.table(
        "promotion_policies",
        sa.column("id", sa.Integer()),
        sa.column("required_suites", JSON),
        sa.column("pins", JSON),
    )
    for row_id, pins in bind.execute(sa.select(table.c.id, table.c.pins)).all():
        names = [pin["suite"] for pin in pins]
        bind.execute(table.update().where(table.c.id == row_id).values(required_suites=names))
    with op.batch_alter_table("promotion_policies", schema=None) as batch_op:
        batch_op.alter_column("required_suites", existing_type=JSON, nullable=False)
        batch_op.drop_column("pins")
    with op.batch_alter_table("suite_versions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_suite_versions_dataset_version_id_dataset_versions"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_suite_versions_dataset_version_id"))
        batch_op.drop_column("judges")
        batch_op.drop_column("dataset_version_id")
    for name in ("suites", "datasets"):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column("current_version")
    with op.batch_alter_table("label_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_label_events_seq"), type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
        batch_op.drop_column("actor_role")
    with op.batch_alter_table("policy_events", schema=None) as batch_op:
        batch_op.drop_index("ix_policy_events_label_scope_seq")
    op.drop_table("policy_events")
    op.drop_table("audit_head")
