"""Alembic environment: synchronous drivers, batch mode on SQLite, the project's metadata."""

from __future__ import annotations

from typing import Any, Literal

import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel column types)
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from alembic import context
from api.db import sync_url
from api.models import metadata
from prompts.base import UTCDateTime

config = context.config
# api.migrate passes the URL; the bare `alembic -c pyproject.toml` command uses the settings.
url: str = config.attributes.get("database_url") or ""
if not url:
    from api.settings import get_settings

    url = sync_url(get_settings().database_url)


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render promptlane's column types as plain SQLAlchemy ones in new migrations."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    """Emit SQL without a database connection."""
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        compare_type=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate over a connection."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            compare_type=True,
            render_item=render_item,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
