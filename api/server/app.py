"""The ASGI application factory."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

import sqlalchemy as sa
from fastapi import FastAPI

from api.bootstrap import bootstrap, warm_model_layer
from api.db import Database
from api.identity import credentials, keys
from api.identity.secret_keys import load_secret_box
from api.server import openapi
from api.server.errors import install_error_handlers
from api.server.gateway import routes as gateway_routes
from api.server.middleware import BodyLimitMiddleware, UrlGuardMiddleware
from api.server.retention import RetentionJob
from api.server.rollup_fold import fold_job
from api.server.routes import analytics as analytics_routes
from api.server.routes import apidocs, health
from api.server.routes import audit as audit_routes
from api.server.routes import connections as connection_routes
from api.server.routes import console as console_routes
from api.server.routes import dashboard as dashboard_routes
from api.server.routes import datasets as dataset_routes
from api.server.routes import generations as generation_routes
from api.server.routes import keys as key_routes
from api.server.routes import metrics as metric_routes
from api.server.routes import monitors as monitor_routes
from api.server.routes import online_evaluations as online_routes
from api.server.routes import policies as policy_routes
from api.server.routes import prompts as prompt_routes
from api.server.routes import runs as run_routes
from api.server.routes import schemas as schema_routes
from api.server.routes import suites as suite_routes
from api.server.routes import traces as trace_routes
from api.server.routes import webhooks as webhook_routes
from api.server.services import build_services
from api.server.telemetry import add_fast_path, configure_tracing
from api.settings import Settings, get_settings
from evals.promotion.audit import ensure_chain
from evals.scorers.safety import pii_engine
from tracing.setup import TracingHandle

if TYPE_CHECKING:
    from api.server.otlp_grpc import OtlpGrpcServer
    from api.server.services import Services

log = logging.getLogger("promptlane")


def _version() -> str:
    try:
        return version("promptlane")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"


async def check_schema(db: Database, expected: str | None) -> None:
    """Refuse to start on a database that is not migrated to the code's revision."""
    async with db.reader() as session:
        try:
            result = await session.execute(sa.text("SELECT version_num FROM alembic_version"))
            current = result.scalar_one_or_none()
        except sa.exc.DBAPIError:
            current = None
    if current != expected:
        raise RuntimeError(schema_mismatch(current, expected))


def schema_mismatch(current: str | None, expected: str | None) -> str:
    """Describe a schema revision mismatch and what to run."""
    return (
        f"the database schema is at {current or 'base (empty)'} but promptlane needs "
        f"{expected}: run `promptlane db upgrade`"
    )


async def bootstrap_admin_key(db: Database, settings: Settings) -> None:
    """Create the first admin key on a server with no keys, and tell the operator once."""
    given = (
        settings.bootstrap_admin_key.get_secret_value() if settings.bootstrap_admin_key else None
    )
    if given is not None and not keys.is_well_formed(given):
        raise ValueError(
            "PROMPTLANE_BOOTSTRAP_ADMIN_KEY must look like pl_ followed by 20+ "
            "letters, digits, '-' or '_'"
        )
    async with db.transaction() as session:
        created = await keys.bootstrap_admin(session, key=given)
    if created is None or given is not None:
        return
    credentials.save(settings.credentials_file, settings.public_url, created.key)
    print(
        "\npromptlane: created the first admin API key. It is shown only this once:\n\n"
        f"    {created.key}\n\n"
        f"It is saved for the local CLI in {settings.credentials_file} (mode 0600).\n",
        file=sys.stdout,
        flush=True,
    )


async def link_audit_chain(db: Database) -> None:
    """Link audit events stored before the chain existed (once, after an upgrade)."""
    async with db.transaction() as session:
        sealed, recorded = await ensure_chain(session)
    if sealed or recorded:
        log.info("audit chain: linked %d label events and %d policies", sealed, recorded)


def otlp_grpc_server(services: Services) -> OtlpGrpcServer | None:
    """Return the OTLP/gRPC receiver when it is enabled (grpc, 0.2 s to import, only then)."""
    if not services.settings.otlp_grpc_enabled:
        return None
    from api.server.otlp_grpc import OtlpGrpcServer

    return OtlpGrpcServer(services)


def configure_pii(*, spacy_model: str | None) -> None:
    """Give the PII scorer its spaCy model, or stop the start saying why it cannot."""
    try:
        pii_engine.configure(spacy_model=spacy_model)
    except ValueError as exc:
        raise RuntimeError(f"PROMPTLANE_PII_SPACY_MODEL: {exc}") from None


async def start_workers(services: Services) -> None:
    """Start the background workers this process runs: runs, online scoring, webhooks, monitors."""
    if services.executor is not None:
        await services.executor.start()
    if services.online_evaluator is not None:
        await services.online_evaluator.start()
    if services.webhooks is not None:
        services.webhooks.start()
    if services.monitors is not None:
        services.monitors.start()


async def stop_workers(services: Services) -> None:
    """Stop the background workers (each hands its leases back or lets them expire)."""
    if services.monitors is not None:
        await services.monitors.stop()
    if services.online_evaluator is not None:
        await services.online_evaluator.stop()
    if services.executor is not None:
        await services.executor.stop()
    if services.webhooks is not None:
        await services.webhooks.stop()


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    tracing: TracingHandle | None = None,
) -> FastAPI:
    """Build the promptlane API; `database` and `tracing` let tests pass their own."""
    bootstrap()
    settings = settings or get_settings()
    tracing = tracing or configure_tracing(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        box = load_secret_box(settings)  # before anything opens: a bad key stops the start
        configure_pii(spacy_model=settings.pii_spacy_model)  # a missing model stops it too
        db = database or Database.from_url(
            settings.database_url,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            pool_size=settings.db_pool_size,
        )
        services = build_services(settings, db, tracing, box)
        app.state.services = services
        receiver = otlp_grpc_server(services)
        warming: asyncio.Task[None] | None = None
        retention = RetentionJob(
            db,
            retention_days=settings.trace_retention_days,
            interval=settings.trace_purge_interval,
            outbox_retention_days=settings.event_retention_days,
        )
        folding = fold_job(db, interval=settings.rollup_fold_interval)
        try:
            await check_schema(db, services.schema_head)
            await bootstrap_admin_key(db, settings)
            await link_audit_chain(db)
            await start_workers(services)
            if receiver is not None:
                await receiver.start()
            retention.start()
            folding.start()
            warming = (
                asyncio.create_task(warm_model_layer(log), name="warm-model-layer")
                if settings.warm_model_layer
                else None
            )
            yield
        finally:
            await retention.stop()
            await folding.stop()
            if warming is not None and not warming.done():
                warming.cancel()  # the import thread finishes on its own; nothing waits on it
            if receiver is not None:
                await receiver.stop()  # before what its exports use: the database, the evaluator
            await services.gateway.stop()  # write the generations still queued
            await stop_workers(services)
            if database is None:
                await db.dispose()
            # Flushing exports over the network: keep it off the event loop.
            await asyncio.to_thread(tracing.shutdown)

    app = FastAPI(
        title="promptlane",
        version=_version(),
        summary="Versioned prompts and LLM configs, evaluation gates, and tracing.",
        lifespan=lifespan,
        # /docs and /redoc come from api/server/routes/apidocs.py, with no CDN; nothing uses
        # OAuth2, so Swagger UI needs no redirect page.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    install_error_handlers(app)
    openapi.install(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(UrlGuardMiddleware)
    add_fast_path(app, tracing)
    # The hottest route goes first: routing tries each router in turn (~0.13 ms when last).
    app.include_router(gateway_routes.router)
    app.include_router(health.router)
    app.include_router(schema_routes.router)
    app.include_router(metric_routes.router)
    app.include_router(key_routes.router)
    app.include_router(connection_routes.router)
    app.include_router(webhook_routes.router)
    app.include_router(monitor_routes.router)
    app.include_router(policy_routes.router)  # before prompts: its /check route is more specific
    app.include_router(audit_routes.router)
    app.include_router(prompt_routes.router)
    app.include_router(dataset_routes.router)
    app.include_router(suite_routes.router)
    app.include_router(run_routes.router)
    app.include_router(analytics_routes.router)
    app.include_router(generation_routes.router)
    app.include_router(trace_routes.router)
    app.include_router(online_routes.router)
    app.include_router(dashboard_routes.router)
    app.include_router(apidocs.router)
    app.include_router(console_routes.router)
    return app
