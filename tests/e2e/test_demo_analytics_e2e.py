"""`promptlane demo` on a real server leaves its model calls in the analytics API, in
`/metrics` and in `promptlane stats`."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
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
CORRECT = {1: 0.0, 2: 1.0}  # v1 echoes the ticket, v2 answers with its category


def promptlane(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    env = server_env() | {"COLUMNS": "250"}
    return subprocess.run(
        [PROMPTLANE, *args, "--url", server.url, "--api-key", ADMIN_KEY],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_server(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A fresh server on which `promptlane demo` ran once."""
    tmp = tmp_path_factory.mktemp("demo")
    server = start_server(
        tmp,
        database_url=databases.create(migrate=False),
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp / "credentials.json"),
    )
    try:
        demo = promptlane(server, "demo")
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert f"promptlane stats {PROMPT}" in demo.stdout
        yield server
    finally:
        server.stop()


def get(server: Server, path: str, **params: Any) -> Any:
    response = httpx.get(server.url + path, params=params, headers=AUTH, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def demo_runs(server: Server) -> dict[int, dict[str, Any]]:
    """Return the demo's run of each version."""
    runs = get(server, "/v1/runs", prompt=PROMPT)["items"]
    assert sorted(r["version"] for r in runs) == [1, 2]
    return {r["version"]: get(server, f"/v1/runs/{r['id']}") for r in runs}


def test_analytics_has_one_call_per_item_with_tokens_cost_and_scores(demo_server: Server) -> None:
    runs = demo_runs(demo_server)
    usage = get(
        demo_server,
        "/v1/analytics/usage",
        prompt=PROMPT,
        group_by=["version", "label", "model"],
        source="run",
    )
    rows = {r["version"]: r for r in usage["rows"]}
    assert sorted(rows) == [1, 2]
    for version, row in rows.items():
        summary = runs[version]["summary"]
        assert (row["label"], row["model"]) == (None, MODELS[version])
        assert (row["calls"], row["errors"]) == (len(TICKETS), 0)
        assert (row["input_tokens"], row["output_tokens"]) == (
            summary["input_tokens"],
            summary["output_tokens"],
        )
        assert row["input_tokens"] > 0
        assert row["cost_usd"] == pytest.approx(summary["cost_usd"])
        assert row["cost_usd"] > 0  # offline models bill their (documented) fictional prices
        assert row["latency_p50_ms"] > 0
        assert row["scores"]["correct"] == {"mean": CORRECT[version], "count": len(TICKETS)}
        assert row["scores"]["no_pii"] == {"mean": 1.0, "count": len(TICKETS)}
        assert row["safety_flags"] == {}
    drift = get(demo_server, "/v1/analytics/drift", prompt=PROMPT, version=2)
    assert {s["metric"] for s in drift["signals"]} == {"correct", "no_pii", "input_chars"}
    assert {s["recent_count"] for s in drift["signals"]} == {len(TICKETS)}


def test_metrics_have_token_usage_and_scores_per_prompt_version(demo_server: Server) -> None:
    text = httpx.get(demo_server.url + "/metrics", timeout=30).text
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]

    def value(name: str, **labels: str) -> float:
        found = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
        assert len(found) == 1, (name, labels)
        return float(found[0])

    for version, model in MODELS.items():
        prompt = {"prompt": PROMPT, "version": str(version), "gen_ai_request_model": model}
        for kind in ("input", "output"):
            count = value("gen_ai_client_token_usage_count", gen_ai_token_type=kind, **prompt)
            assert count == len(TICKETS)
        assert value("gen_ai_client_token_usage_sum", gen_ai_token_type="input", **prompt) > 0
        assert value("promptlane_eval_score_count", metric="correct", **prompt) == len(TICKETS)
        assert value("promptlane_eval_score_sum", metric="correct", **prompt) == (
            CORRECT[version] * len(TICKETS)
        )
        assert value("promptlane_eval_score_sum", metric="no_pii", **prompt) == len(TICKETS)
        assert value("promptlane_cost_usd_total", **prompt) > 0


def test_stats_prints_the_demo_prompt_per_version(demo_server: Server) -> None:
    runs = demo_runs(demo_server)
    result = promptlane(demo_server, "stats", PROMPT)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert f"{PROMPT} in the last 7 days: {2 * len(TICKETS)} calls" in lines
    for version, model in MODELS.items():
        summary = runs[version]["summary"]
        (row,) = [line for line in lines if line.startswith(f"│ v{version} │")]
        tokens = f"{summary['input_tokens']} / {summary['output_tokens']}"
        assert row.startswith(f"│ v{version} │ – │ {model} │ {len(TICKETS)} │ 0.0% │ {tokens} │")
        assert f"│ {summary['cost_usd']:.6f} │" in row
        assert row.endswith(f"│ {CORRECT[version]:.3f} │ 1.000 │ – │ too few calls │")
    as_json = json.loads(promptlane(demo_server, "stats", PROMPT, "--json").stdout)
    assert [r["calls"] for r in as_json["usage"]["rows"]] == [len(TICKETS)] * 2
    none = promptlane(demo_server, "stats", PROMPT, "--label", "production")
    assert none.returncode == 0, none.stderr
    assert none.stdout.strip() == f"no calls of {PROMPT} in the last 7 days (label production)"


def test_demo_generations_in_the_database_match_the_run_items(demo_server: Server) -> None:
    """Each run item that called the model has exactly one generation, linked to its run."""
    runs = demo_runs(demo_server)
    table = sa.inspect(Generation).local_table
    engine = sa.create_engine(
        sync_url(demo_server.env["PROMPTLANE_DATABASE_URL"]), poolclass=NullPool
    )
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(table.c.run_id, table.c.prompt_version, table.c.content_hash)
            ).all()
    finally:
        engine.dispose()
    for version, run in runs.items():
        mine = [r for r in rows if r.run_id == run["id"]]
        assert len(mine) == len(TICKETS)
        assert {(r.prompt_version, r.content_hash) for r in mine} == {
            (version, run["content_hash"])
        }
