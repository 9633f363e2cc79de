"""promptlane's own spans, exported over OTLP/HTTP by the OpenTelemetry SDK, arrive in another
real promptlane process: the demo's model calls and the gateway's calls become that server's
generations, with the same trace and span ids as the exporting server's own records (a gateway
caller's `traceparent` included)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.pool import NullPool

from api.cli.demo import PROMPT, TICKETS
from api.db import sync_url
from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.server import PROMPTLANE, Server, server_env, start_server
from tracing.models import Generation

pytestmark = pytest.mark.e2e
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
MODELS = {1: "offline/echo", 2: "offline/scripted"}
GATEWAY_PROMPT = "e2e/gateway-export"
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
GATEWAY_CALLS = 2


def _call_the_gateway(source: Server) -> None:
    """Publish a prompt on the source and call it through the gateway, in a caller's trace."""
    version = {
        "messages": [{"role": "user", "content": "{{ticket}}"}],
        "config": {"model": "offline/echo"},
    }
    with httpx.Client(base_url=source.url, headers=AUTH, timeout=30) as http:
        assert http.post(f"/v1/prompts/{GATEWAY_PROMPT}/versions", json=version).status_code == 201
    sdk = openai.OpenAI(
        base_url=source.url + "/v1",
        api_key=ADMIN_KEY,
        default_headers={"traceparent": f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"},
    )
    for ticket in ("refund please", "the app crashes")[:GATEWAY_CALLS]:
        sdk.chat.completions.create(
            model=f"promptlane/{GATEWAY_PROMPT}:1",
            messages=[],
            extra_body={"promptlane": {"variables": {"ticket": ticket}}},
        )


def _start(tmp: Path, database_url: str, **settings: str) -> Server:
    tmp.mkdir()
    return start_server(
        tmp,
        database_url=database_url,
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp / "credentials.json"),
        **settings,
    )


def _span_ids(
    database_url: str, source: str, prompt: str = PROMPT
) -> set[tuple[str, str, str | None]]:
    engine = sa.create_engine(sync_url(database_url), poolclass=NullPool)
    table = Generation.__table__
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(table.c.trace_id, table.c.span_id, table.c.parent_span_id).where(
                    table.c.prompt_name == prompt, table.c.source == source
                )
            ).all()
    finally:
        engine.dispose()
    return {(r.trace_id, r.span_id, r.parent_span_id) for r in rows}


@pytest.fixture(scope="module")
def exported(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Run the demo on a server that exports its spans to a second (collector) server."""
    tmp = tmp_path_factory.mktemp("export")
    collector_db, source_db = databases.create(migrate=False), databases.create(migrate=False)
    collector = _start(tmp / "collector", collector_db)
    try:
        source = _start(
            tmp / "source",
            source_db,
            tracing_exporter="otlp",
            tracing_endpoint=collector.url + "/v1/traces",
            tracing_headers=f"Authorization=Bearer%20{ADMIN_KEY}",
        )
        try:
            demo = subprocess.run(
                [PROMPTLANE, "demo", "--url", source.url, "--api-key", ADMIN_KEY],
                capture_output=True,
                text=True,
                env=server_env(),
                timeout=300,
                check=False,
            )
            assert demo.returncode == 0, demo.stdout + demo.stderr
            _call_the_gateway(source)
        finally:
            # SIGTERM: the server shuts down gracefully, flushing its queued spans (uvicorn
            # then re-raises the signal, so the exit status is -15 either way).
            source.stop()
        assert "Traceback" not in source.output(), source.output()
        yield {"collector": collector, "collector_db": collector_db, "source_db": source_db}
    finally:
        collector.stop()


def test_model_call_spans_arrive_as_generations_per_prompt_version(
    exported: dict[str, Any],
) -> None:
    collector: Server = exported["collector"]
    response = httpx.get(
        collector.url + "/v1/analytics/usage",
        params={"prompt": PROMPT, "group_by": ["version", "model"], "source": "ingest"},
        headers=AUTH,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    rows = {row["version"]: row for row in response.json()["rows"]}
    assert sorted(rows) == [1, 2]
    for version, model in MODELS.items():
        row = rows[version]
        assert row["model"] == model
        assert row["calls"] == len(TICKETS)
        assert row["errors"] == 0
        assert row["input_tokens"] > 0
        assert row["output_tokens"] > 0
        assert row["cost_usd"] > 0  # promptlane.cost_usd on the span, not a price lookup


def test_the_collector_holds_the_exporters_chat_spans_with_their_ids(
    exported: dict[str, Any],
) -> None:
    ran = _span_ids(exported["source_db"], "run")
    arrived = _span_ids(exported["collector_db"], "ingest")
    assert len(ran) == 2 * len(TICKETS)
    assert arrived == ran  # the same trace, span and parent (item) span ids
    assert all(parent is not None for _, _, parent in arrived)


def test_run_item_and_http_spans_are_counted_not_stored(exported: dict[str, Any]) -> None:
    text = httpx.get(exported["collector"].url + "/metrics", timeout=30).text
    counts = {
        sample.labels["kind"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "promptlane_ingested_spans_total"
    }
    assert counts["genai"] == 2 * len(TICKETS) + GATEWAY_CALLS
    assert counts["other"] >= 2 * len(TICKETS) + 2  # an item span per call, a run span per run
    assert counts["duplicate"] == 0


def test_gateway_calls_arrive_in_their_callers_trace(exported: dict[str, Any]) -> None:
    called = _span_ids(exported["source_db"], "gateway", GATEWAY_PROMPT)
    arrived = _span_ids(exported["collector_db"], "ingest", GATEWAY_PROMPT)
    assert len(called) == GATEWAY_CALLS
    assert arrived == called
    assert {trace_id for trace_id, _, _ in arrived} == {CALLER_TRACE}
    # The caller's span (fast path) or the HTTP server span under it (first use of a key).
    assert all(parent is not None for _, _, parent in arrived)
