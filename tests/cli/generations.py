"""Generations stored straight into a test server's database, for the commands that read them."""

from __future__ import annotations

import asyncio
import concurrent.futures

from api.db import Database
from tests.e2e.server import Server
from tests.factories import store_generations
from tracing.models import Generation


def store_at(url: str, rows: list[Generation]) -> None:
    """Store generations in the database at `url` as the service does (rollups included)."""

    async def run() -> None:
        db = Database.from_url(url)
        try:
            async with db.transaction() as session:
                await store_generations(session, *rows)
        finally:
            await db.dispose()

    # In a thread of its own: a caller may already run an event loop (Playwright's sync API).
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


def store(server: Server, rows: list[Generation]) -> None:
    """Store generations in the server's database."""
    store_at(server.env["PROMPTLANE_DATABASE_URL"], rows)
