"""`promptlane db`: schema migrations, secret rotation, the span purge and the rollups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from api.cli._common import console, fail
from api.cli._typer import Cli

app = Cli(help="Database schema migrations.", no_args_is_help=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="PROMPTLANE_DATABASE_URL",
        help="Database URL (default: sqlite:///./promptlane.db).",
        show_default=False,
    ),
]


def _url(database_url: str | None) -> str:
    from api.settings import Settings

    return database_url or Settings().database_url


def _migrate(
    step: Callable[[str, str], object], database_url: str | None, revision: str
) -> str | None:
    """Run a migration step; return the revision the database is at then (None: base)."""
    from api import migrate

    url = _url(database_url)
    try:
        step(url, revision)
    except Exception as exc:
        fail(f"migration failed: {exc}")
    return migrate.current_revision(url)


@app.command("upgrade")
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    database_url: DatabaseUrl = None,
) -> None:
    """Migrate the database up to REVISION (default: head)."""
    from api import migrate

    console.print(f"database at {_migrate(migrate.upgrade, database_url, revision)}")


@app.command("downgrade")
def downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. base or -1.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Migrate the database down to REVISION."""
    from api import migrate

    console.print(f"database at {_migrate(migrate.downgrade, database_url, revision) or 'base'}")


@app.command("current")
def current(database_url: DatabaseUrl = None) -> None:
    """Print the database's revision and the code's head."""
    from api import migrate

    url = _url(database_url)
    try:
        at = migrate.current_revision(url)
    except Exception as exc:
        fail(f"cannot read the database: {exc}")
    console.print(f"database: {at or 'base (empty)'}\ncode head: {migrate.head_revision()}")


@app.command("rotate-secrets")
def rotate_secrets(database_url: DatabaseUrl = None) -> None:
    """Re-encrypt every connection key and webhook secret under the first secret key."""
    import asyncio

    try:
        (keys, failed_keys), (hooks, failed_hooks) = asyncio.run(_rotate(_url(database_url)))
    except Exception as exc:
        fail(f"rotation failed: {exc}")
    console.print(
        f"re-encrypted {keys} connection key(s) and {hooks} webhook secret(s) "
        "under the first secret key"
    )
    if failed_keys:
        fail(
            f"no configured secret key decrypts the key of: {', '.join(failed_keys)}; "
            "set them again"
        )
    if failed_hooks:
        fail(
            f"no configured secret key decrypts the secret of webhook(s): "
            f"{', '.join(failed_hooks)}; rotate them (`promptlane webhooks rotate-secret`)"
        )


Rotated = tuple[int, list[str]]


async def _rotate(url: str) -> tuple[Rotated, Rotated]:
    from api.db import Database
    from api.identity.secret_keys import load_secret_box
    from api.settings import Settings
    from evals.connections import service
    from evals.webhooks import service as webhooks

    box = load_secret_box(Settings())
    db = Database.from_url(url)
    try:
        async with db.transaction() as session:
            keys = await service.rotate_secrets(session, box=box)
            hooks = await webhooks.rotate_secrets(session, box=box)
            return keys, hooks
    finally:
        await db.dispose()


@app.command("purge-spans")
def purge_spans(
    days: Annotated[
        int | None,
        typer.Option(
            "--days",
            min=1,
            help="Keep spans of the last DAYS days (default: PROMPTLANE_TRACE_RETENTION_DAYS).",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Delete ingested spans older than the retention window now (generations stay)."""
    import asyncio

    from api.settings import Settings

    keep = days if days is not None else Settings().trace_retention_days
    if keep == 0:
        fail("PROMPTLANE_TRACE_RETENTION_DAYS is 0 (keep forever): give --days to purge")
    try:
        deleted = asyncio.run(_purge(_url(database_url), keep))
    except Exception as exc:
        fail(f"purge failed: {exc}")
    console.print(f"deleted {deleted} span(s) older than {keep} day(s)")


async def _purge(url: str, days: int) -> int:
    from api.db import Database
    from api.server.retention import purge_expired

    db = Database.from_url(url)
    try:
        return await purge_expired(db, retention_days=days)
    finally:
        await db.dispose()


@app.command("rebuild-rollups")
def rebuild_rollups(database_url: DatabaseUrl = None) -> None:
    """Recompute the analytics rollups from the stored generations (after an upgrade)."""
    import asyncio

    try:
        count = asyncio.run(_rebuild(_url(database_url)))
    except Exception as exc:
        fail(f"rebuild failed: {exc}")
    console.print(f"rolled up {count:,} generation(s)")


async def _rebuild(url: str) -> int:
    from api.db import Database
    from api.server.rollup_fold import fold_due
    from tracing.rollups.rebuild import rebuild

    db = Database.from_url(url)
    try:
        async with db.transaction() as session:
            count = await rebuild(session)
        await fold_due(db)  # the minutes after the fold state, as a server would
        return count
    finally:
        await db.dispose()
