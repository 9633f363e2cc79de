"""Walk the migrations base -> head -> base -> head on the backend under test."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.pool import NullPool

from alembic import command
from api import migrate
from api.db import sync_url
from api.models import metadata
from tests.conftest import DatabaseFactory


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


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
