"""What a running server is made of: one frozen `Services`, built once by the lifespan.

Routes reach it through one dependency (`AppServices`, api/server/deps.py); the raw ASGI fast
paths (api/server/fastpath.py) read the same object. Nothing else is kept on `app.state`.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass

from api.bootstrap import litellm_ready
from api.db import Database
from api.identity.auth import Authenticator
from api.migrate import head_revision
from api.server.cache import PromptResolver, ResolveCache
from api.server.gateway.service import Gateway
from api.server.monitors import MonitorJob, make_scheduler
from api.server.webhooks import WebhookJob, make_webhook_job
from api.settings import Settings
from evals.connections.crypto import SecretBox
from evals.connections.resolver import ConnectionResolver, ConnectionSource
from evals.connections.service import Keyring
from evals.llm.client import ModelClient, RetryPolicy
from evals.online.evaluator import OnlineEvaluator
from evals.online.sampling import ContentGate
from evals.promotion.gate import GatePolicy
from evals.runs.executor import Executor, InProcessExecutor
from evals.runs.runner import Runner
from promptlane_client.render import RenderBudget
from prompts.policy import ProtectedLabels
from tracing.metrics import Metrics
from tracing.setup import TracingHandle
from tracing.telemetry import Telemetry


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    """The server's long-lived objects, shared by every request of one app."""

    settings: Settings
    db: Database
    auth: Authenticator
    telemetry: Telemetry
    metrics: Metrics
    resolver: PromptResolver
    render_budget: RenderBudget
    label_policy: GatePolicy
    keyring: Keyring
    connections: ConnectionResolver
    gateway: Gateway
    executor: Executor | None  # None: runs are executed by separate workers
    online_evaluator: OnlineEvaluator | None  # None: online evaluation is off
    content: ContentGate  # which generations keep their message content
    webhooks: WebhookJob | None  # None: another process delivers webhooks
    monitors: MonitorJob | None  # None: another process runs the monitor scheduler
    schema_head: str | None  # the migration revision the code expects


def build_services(
    settings: Settings, db: Database, tracing: TracingHandle, box: SecretBox
) -> Services:
    """Build (without starting anything) every service a server needs."""
    telemetry = tracing.telemetry
    budget = render_budget(settings)
    connections = make_connections(db, settings, box)
    executor: Executor | None = None
    if settings.run_executor == "inprocess":
        model = model_client(settings, telemetry, connections, attempts=settings.model_attempts)
        executor = make_executor(db, settings, model, telemetry)
    evaluator = None
    if settings.online_eval_enabled:
        judge = model_client(settings, telemetry, connections, attempts=settings.model_attempts)
        evaluator = make_online_evaluator(db, settings, judge, telemetry, connections)
    content = ContentGate(
        evaluator.configs if evaluator else None, record_content=telemetry.record_content
    )
    resolver = PromptResolver(
        db=db,
        cache=ResolveCache(ttl=settings.resolve_cache_ttl, maxsize=settings.resolve_cache_size),
        telemetry=telemetry,
        metrics=tracing.metrics,
        cache_control=resolve_cache_control(settings),
    )
    webhooks = make_webhook_job(db, settings, box, tracing.metrics)
    monitors = make_monitor_job(db, settings, executor, resolver, webhooks)
    if isinstance(executor, InProcessExecutor):
        if webhooks is not None:
            executor.on_task_done.append(webhooks.wake)  # deliver `run.finished` at once
        if monitors is not None:
            executor.on_task_done.append(monitors.wake)  # settle a monitor's check at once
    return Services(
        settings=settings,
        db=db,
        auth=Authenticator(db, ttl=settings.auth_cache_ttl),
        telemetry=telemetry,
        metrics=tracing.metrics,
        resolver=resolver,
        render_budget=budget,
        label_policy=GatePolicy(ProtectedLabels(frozenset(settings.protected_labels))),
        keyring=Keyring(box, frozenset(settings.connection_env_allowlist)),
        connections=connections,
        gateway=make_gateway(
            db,
            settings,
            resolver=resolver,
            telemetry=telemetry,
            connections=connections,
            evaluator=evaluator,
            content=content,
            budget=budget,
        ),
        executor=executor,
        online_evaluator=evaluator,
        content=content,
        webhooks=webhooks,
        monitors=monitors,
        schema_head=head_revision(),
    )


def make_monitor_job(
    db: Database,
    settings: Settings,
    executor: Executor | None,
    resolver: PromptResolver,
    webhooks: WebhookJob | None,
) -> MonitorJob | None:
    """Build the monitor scheduler's job where runs execute in process, else None."""
    if executor is None:
        return None

    def after(changed: bool, emitted: bool) -> None:
        if changed:
            resolver.invalidate()
        if emitted and webhooks is not None:
            webhooks.wake()

    return MonitorJob(
        make_scheduler(db, settings),
        interval=settings.monitor_interval,
        submit=executor.submit,
        after=after,
    )


def resolve_cache_control(settings: Settings) -> str:
    """Return the Cache-Control header of resolve responses."""
    if settings.resolve_max_age:
        return f"private, max-age={settings.resolve_max_age}"
    return "private, no-cache"


def make_connections(db: Database, settings: Settings, box: SecretBox) -> ConnectionResolver:
    """Build the connection resolver: keys opened with `box` or from allow-listed variables."""
    return ConnectionResolver(
        db.reader, box=box, env=settings.connection_env(), ttl=settings.connections_cache_ttl
    )


def render_budget(settings: Settings) -> RenderBudget:
    """Return the budget every render on this server runs within."""
    return RenderBudget(
        max_chars=settings.render_max_chars, max_seconds=settings.render_max_seconds
    )


def model_client(
    settings: Settings,
    telemetry: Telemetry,
    connections: ConnectionSource,
    *,
    attempts: int,
) -> ModelClient:
    """Build a model client (native path where a call is plain) with `attempts` tries a call."""
    return ModelClient(
        retry=RetryPolicy(attempts=attempts),
        timeout=settings.model_timeout,
        telemetry=telemetry,
        connections=connections,
    )


def make_executor(
    db: Database, settings: Settings, model: ModelClient, telemetry: Telemetry
) -> InProcessExecutor:
    """Build the in-process run executor (litellm, for the calls that need it, imported lazily)."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    runner = Runner(
        db.writer,
        model=model,
        owner=owner,
        lease_seconds=settings.run_lease_seconds,
        telemetry=telemetry,
        render_budget=render_budget(settings),
        # litellm takes seconds to import: off the event loop, so a server's first run
        # does not stall every request it is serving.
        prepare_model=litellm_ready,
    )
    return InProcessExecutor(runner, recover_every=settings.run_recover_every)


def make_online_evaluator(
    db: Database,
    settings: Settings,
    model: ModelClient,
    telemetry: Telemetry,
    connections: ConnectionSource,
) -> OnlineEvaluator:
    """Build the online evaluator (judge calls with the app's retry policy)."""
    return OnlineEvaluator(
        db.writer,
        reader=db.reader,
        model=model,
        telemetry=telemetry,
        queue_size=settings.online_eval_queue_size,
        concurrency=settings.online_eval_concurrency,
        config_ttl=settings.online_eval_config_ttl,
        judge_model=settings.online_eval_judge_model,
        connections=connections,
        render_budget=render_budget(settings),
        prepare_model=litellm_ready,
        record_content=telemetry.record_content,
        keep_content=settings.online_eval_keep_content,
    )


def make_gateway(
    db: Database,
    settings: Settings,
    *,
    resolver: PromptResolver,
    telemetry: Telemetry,
    connections: ConnectionSource,
    evaluator: OnlineEvaluator | None,
    content: ContentGate | None = None,
    budget: RenderBudget,
) -> Gateway:
    """Build the OpenAI-compatible gateway."""
    # Its own retry count: callers' SDKs retry too.
    model = model_client(settings, telemetry, connections, attempts=settings.gateway_attempts)
    return Gateway(
        db=db,
        model=model,
        resolver=resolver,
        evaluator=evaluator,
        content=content,
        flush_interval=settings.gateway_flush_interval,
        telemetry=telemetry,
        connections=connections,
        offline_models=settings.gateway_offline_models,
        render_budget=budget,
    )
