"""`promptlane serve`: migrate, then run the API server."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from api.cli._common import fail


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Database URL (default sqlite:///./promptlane.db)."),
    ] = None,
    migrate: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Upgrade the schema before starting.")
    ] = True,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
) -> None:
    """Start the promptlane server (SQLite by default, no keys or network needed)."""
    import uvicorn
    from pydantic import ValidationError

    from api import migrate as migrations
    from api.settings import Settings, get_settings, settings_problem

    # Workers build the app from the environment, so overrides travel through it.
    for env, value in (("HOST", host), ("PORT", port), ("DATABASE_URL", database_url)):
        if value is not None:
            os.environ[f"PROMPTLANE_{env}"] = str(value)
    if workers > 1:  # every worker binds the OTLP/gRPC port; the kernel spreads connections
        os.environ.setdefault("PROMPTLANE_OTLP_GRPC_REUSE_PORT", "true")
    get_settings.cache_clear()
    try:
        settings = Settings()
    except ValidationError as exc:
        fail(f"invalid settings: {settings_problem(exc)}", code=2)
    try:
        if migrate and settings.migrate_on_start:
            migrations.upgrade(settings.database_url)
        current = migrations.current_revision(settings.database_url)
    except Exception as exc:
        fail(f"database {settings.database_url}: {exc}")
    if current != migrations.head_revision():
        from api.server.app import schema_mismatch

        fail(schema_mismatch(current, migrations.head_revision()))
    uvicorn.run(
        "api.server.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level=settings.log_level,
        access_log=access_log,
        server_header=False,
    )
