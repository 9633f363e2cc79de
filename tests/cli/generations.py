"""Generations stored straight into a test server's database, for the commands that read them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from api.db import sync_url
from tests.e2e.server import Server
from tracing.models import Generation


def store(server: Server, rows: list[Generation]) -> None:
    """Insert generations straight into the server's database."""
    engine = sa.create_engine(sync_url(server.env["PROMPTLANE_DATABASE_URL"]), poolclass=NullPool)
    table = sa.inspect(Generation).local_table
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(table), [g.model_dump(exclude={"id"}) for g in rows])
    finally:
        engine.dispose()
