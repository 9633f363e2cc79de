"""Walk the migrations base -> head -> base -> head on the backend under test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import postgresql
from sqlalchemy.pool import NullPool

from alembic import command
from api import migrate
from api.db import sync_url
from api.models import metadata
from tests.conftest import DatabaseFactory
from tracing.rollups import packed
from tracing.rollups.models import TOTAL


@contextmanager
def _engine(url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


def _inspected(url: str) -> dict[str, set[str]]:
    """Return each table of the database with its column names."""
    with _engine(url) as engine:
        inspector = sa.inspect(engine)
        return {
            t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()
        }


def _tables(url: str) -> set[str]:
    return set(_inspected(url))


def test_single_head() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


def test_revision_files_are_date_prefixed() -> None:
    names = [p.name for p in (migrate.ALEMBIC_DIR / "versions").glob("*.py")]
    assert names
    assert all(n[:8].isdigit() and n[8] == "_" for n in names)


def test_upgrade_downgrade_upgrade(databases: DatabaseFactory) -> None:
    url = databases.create(migrate=False)
    assert migrate.current_revision(url) is None
    migrate.upgrade(url)
    assert migrate.current_revision(url) == migrate.head_revision()
    assert set(metadata.tables) <= _tables(url)
    migrate.downgrade(url, "base")
    assert migrate.current_revision(url) is None
    assert _tables(url) <= {"alembic_version"}
    migrate.upgrade(url)
    assert migrate.current_revision(url) == migrate.head_revision()


def test_each_step_reverses(databases: DatabaseFactory) -> None:
    url = databases.create(migrate=False)
    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    for revision in revisions:
        migrate.upgrade(url, revision)
        migrate.downgrade(url, "-1")
        migrate.upgrade(url, revision)
    assert migrate.current_revision(url) == revisions[-1]


def test_models_match_migrations(database_url: str) -> None:
    # Fails if a model changed without a migration (alembic check).
    command.check(migrate.alembic_config(database_url))


def test_the_connections_migration_removes_stored_endpoints_and_keys(
    databases: DatabaseFactory,
) -> None:
    url = databases.create(migrate=False)
    migrate.upgrade(url, "d0592bdb57a3")
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    versions = sa.table(
        "prompt_versions",
        *(sa.column(c) for c in ("id", "prompt_id", "version", "kind", "template")),
        *(sa.column(c) for c in ("template_format", "message", "author", "content_hash")),
        sa.column("variables", json_type),
        sa.column("config", json_type),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    legacy = {
        "model": "openai/gpt-4o-mini",
        "api_base": "http://attacker.test/v1",
        "temperature": 0.2,
        "extra": {"api_key": "sk-planted", "aws_secret_access_key": "x", "presence_penalty": 1},
    }
    clean = {"model": "offline/echo", "extra": {"latency_ms": 5}}
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO prompts (id, name, description, created_at, updated_at) "
                    "VALUES (1, 'p', '', :now, :now)"
                ),
                {"now": now},
            )
            for number, config in enumerate((legacy, clean), start=1):
                conn.execute(
                    versions.insert().values(
                        id=number,
                        prompt_id=1,
                        version=number,
                        kind="text",
                        template="x",
                        template_format="mustache",
                        message="",
                        author="",
                        variables=[],
                        config=config,
                        content_hash=str(number) * 64,
                        created_at=now,
                    )
                )
        migrate.upgrade(url)
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(versions.c.config, versions.c.content_hash).order_by(versions.c.id)
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [
        (
            {"model": "openai/gpt-4o-mini", "temperature": 0.2, "extra": {"presence_penalty": 1}},
            "1" * 64,  # the hash stays: it covers the content as it was published
        ),
        (clean, "2" * 64),
    ]


def test_the_archive_migration_reverses_dropping_unsets_and_archives(
    databases: DatabaseFactory,
) -> None:
    url = databases.create()
    now = datetime.now(UTC)
    with _engine(url) as engine:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO prompts (id, name, description, created_at, updated_at, "
                    "archived_at) VALUES (1, 'p', '', :now, :now, :now)"
                ),
                {"now": now},
            )
            for seq, to_version in ((1, 1), (2, None)):  # a move, then an unset
                conn.execute(
                    sa.text(
                        "INSERT INTO label_events (prompt_id, label, from_version, to_version, "
                        "actor, reason, is_forced, evidence, created_at, seq) VALUES "
                        "(1, 'staging', NULL, :to, 'a', '', false, '[]', :now, :seq)"
                    ),
                    {"to": to_version, "now": now, "seq": seq},
                )
            conn.execute(
                sa.text(
                    "INSERT INTO archive_events (seq, kind, name, action, actor, actor_role, "
                    "reason, created_at, prev_hash, hash) VALUES "
                    "(3, 'prompt', 'p', 'archive', 'a', 'writer', '', :now, 'x', 'y')"
                ),
                {"now": now},
            )
        migrate.downgrade(url, "be70163fc3d8")
        with engine.connect() as conn:
            kept = conn.execute(sa.text("SELECT seq, to_version FROM label_events")).all()
        assert [tuple(row) for row in kept] == [(1, 1)]
        schema = _inspected(url)
        assert "archive_events" not in schema
        assert "archived_at" not in schema["prompts"]
        migrate.upgrade(url)
        with engine.connect() as conn:
            archived = conn.execute(sa.text("SELECT archived_at FROM prompts")).scalar_one()
        assert archived is None  # a downgrade brings archived prompts back


def test_the_packed_latency_migration_converts_rollups_both_ways(
    databases: DatabaseFactory,
) -> None:
    url = databases.create()
    migrate.downgrade(url, "c4d6e8f0a2b4")
    old_bins = [
        (1, "latency", 20_100, 2, 30.5),
        (1, "latency", 20_050, 1, 7.25),
        (1, "score:quality", 19_990, 2, 1.5),
        (1, "score:quality", 0, 1, 0.0),
        (1, "flag:pii", 0, 3, 0.0),
        (2, "latency", 20_000, 4, 4.0),
    ]
    with _engine(url) as engine:
        with engine.begin() as conn:
            for rollup_id in (1, 2):
                conn.execute(
                    sa.text(
                        "INSERT INTO generation_rollups (id, period_s, bucket_start, prompt_name, "
                        "prompt_version, prompt_label, model, source, calls, errors, "
                        "input_tokens, output_tokens, cost_usd) VALUES "
                        "(:id, 60, :at, 'p', :id, '', 'm', 'ingest', 4, 0, 0, 0, 0)"
                    ),
                    {"id": rollup_id, "at": datetime(2026, 3, 1, tzinfo=UTC)},
                )
            conn.execute(
                sa.text(
                    'INSERT INTO generation_rollup_bins (rollup_id, series, bin, count, "sum") '
                    "VALUES (:r, :s, :b, :n, :t)"
                ),
                [dict(zip("rsbnt", row, strict=True)) for row in old_bins],
            )
        migrate.upgrade(url)
        with engine.connect() as conn:
            latency = dict(
                conn.execute(sa.text("SELECT id, latency FROM generation_rollups")).all()
            )
            bins = conn.execute(
                sa.text('SELECT rollup_id, series, bin, count, "sum" FROM generation_rollup_bins')
            ).all()
        assert packed.unpack(latency[1]) == {20_050: [1, 7.25], 20_100: [2, 30.5]}
        assert packed.unpack(latency[2]) == {20_000: [4, 4.0]}
        assert sorted(tuple(row) for row in bins) == [
            (1, "flag:pii", TOTAL, 3, 0.0),
            (1, "score:quality", TOTAL, 3, 1.5),
            (1, "score:quality", 0, 1, 0.0),
            (1, "score:quality", 19_990, 2, 1.5),
        ]
        migrate.downgrade(url, "c4d6e8f0a2b4")
        with engine.connect() as conn:
            restored = conn.execute(
                sa.text('SELECT rollup_id, series, bin, count, "sum" FROM generation_rollup_bins')
            ).all()
        assert sorted(tuple(row) for row in restored) == sorted(old_bins)


def test_the_folding_migration_starts_after_every_minute_stored(
    databases: DatabaseFactory,
) -> None:
    url = databases.create()
    migrate.downgrade(url, "d7a1c3e5f9b2")
    later = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=2)
    with _engine(url) as engine:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO generation_rollups (id, period_s, bucket_start, prompt_name, "
                    "prompt_version, prompt_label, model, source, calls, errors, "
                    "input_tokens, output_tokens, cost_usd) VALUES "
                    "(1, 60, :at, 'p', 1, '', 'm', 'ingest', 1, 0, 0, 0, 0)"
                ),
                {"at": later},  # a clock ahead: counted in every size already
            )
        migrate.upgrade(url)
        with engine.connect() as conn:
            folded = conn.execute(sa.text("SELECT folded_until FROM rollup_state")).scalar_one()
    folded = folded if isinstance(folded, datetime) else datetime.fromisoformat(folded)
    folded = folded.astimezone(UTC) if folded.tzinfo else folded.replace(tzinfo=UTC)
    assert folded == later + timedelta(minutes=1)


def test_the_webhooks_migration_adds_and_drops_the_outbox_and_webhook_tables(
    databases: DatabaseFactory,
) -> None:
    url = databases.create()
    added = {"events", "webhook_endpoints", "webhook_deliveries", "webhook_attempts"}
    assert added <= _tables(url)
    migrate.downgrade(url, "f3a9c1e7b5d2")
    assert not added & _tables(url)
    migrate.upgrade(url)
    schema = _inspected(url)
    assert {"uid", "type", "data", "fanned_out_at"} <= schema["events"]
    assert {"lease_owner", "next_attempt_at", "last_error"} <= schema["webhook_deliveries"]


def test_the_last_attempt_migration_fills_each_endpoint_from_its_newest_attempt(
    databases: DatabaseFactory,
) -> None:
    url = databases.create()
    migrate.downgrade(url, "95b81c1db7e2")
    assert "last_status_code" not in _inspected(url)["webhook_endpoints"]
    at = datetime(2026, 12, 9, 10, tzinfo=UTC)
    rows = [
        "INSERT INTO events (id, uid, type, occurred_at, actor, data) VALUES "
        "(1, 'msg_1', 't', :at, 'a', '{}'), (2, 'msg_2', 't', :at, 'a', '{}')",
        "INSERT INTO webhook_endpoints (id, name, url, event_types, format, secret_ciphertext, "
        "description, created_by, created_at, updated_by, updated_at) VALUES "
        "(1, 'busy', 'https://a.test', '[]', 'standard', 'x', '', 'a', :at, 'a', :at), "
        "(2, 'quiet', 'https://b.test', '[]', 'standard', 'x', '', 'a', :at, 'a', :at)",
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, status, attempts, "
        "next_attempt_at, created_at) VALUES (1, 1, 1, 'dead', 2, :at, :at), "
        "(2, 1, 2, 'delivered', 1, :at, :at)",
        # The newest attempt is a redelivery of the older delivery.
        "INSERT INTO webhook_attempts (id, delivery_id, attempted_at, status_code, duration_ms, "
        "error) VALUES (1, 1, :at, 500, 3.0, 'boom'), (2, 2, :at, 204, 2.0, NULL), "
        "(3, 1, :later, NULL, 10000.0, 'timed out')",
    ]
    with _engine(url) as engine:
        with engine.begin() as conn:
            for sql in rows:
                conn.execute(sa.text(sql), {"at": at, "later": at + timedelta(hours=1)})
        migrate.upgrade(url)
        with engine.connect() as conn:
            found = conn.execute(
                sa.text(
                    "SELECT name, last_status_code, last_duration_ms, last_error, "
                    "last_attempt_at IS NOT NULL FROM webhook_endpoints ORDER BY id"
                )
            ).all()
    assert [tuple(r) for r in found] == [
        ("busy", None, 10000.0, "timed out", True),
        ("quiet", None, None, None, False),
    ]
    migrate.downgrade(url, "95b81c1db7e2")
    assert "last_status_code" not in _inspected(url)["webhook_endpoints"]


def test_the_monitors_migration_adds_tables_one_open_incident_per_label_and_reverses(
    databases: DatabaseFactory,
) -> None:
    url = databases.create()
    added = {"monitors", "monitor_events", "label_incidents"}
    assert added <= _tables(url)
    assert "auto_rollback" in _inspected(url)["promotion_policies"]
    now = datetime.now(UTC)
    incident = sa.text(
        "INSERT INTO label_incidents (prompt, label, opened_at, resolved_at, firings) "
        "VALUES ('p', 'production', :now, :resolved, 1)"
    )
    with _engine(url) as engine, engine.begin() as conn:
        conn.execute(incident, {"now": now, "resolved": now})  # resolved ones may repeat
        conn.execute(incident, {"now": now, "resolved": now})
        conn.execute(incident, {"now": now, "resolved": None})
    with _engine(url) as engine, pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(incident, {"now": now, "resolved": None})
    migrate.downgrade(url, "a4c8e2f6b1d3")
    assert not added & _tables(url)
    assert "auto_rollback" not in _inspected(url)["promotion_policies"]
    migrate.upgrade(url)
    schema = _inspected(url)
    assert {"period_key", "status", "evidence"} <= schema["monitor_events"]
