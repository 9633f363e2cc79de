"""`promptlane monitors`, `incidents` and `policies set --auto-rollback` against a real server."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.conftest import ADMIN_KEY
from tests.e2e.server import Server
from tests.factories import chat_body
from tests.otlp_requests import JSON, genai, otlp_json, span

pytestmark = pytest.mark.e2e
runner = CliRunner()
PROMPT = "cli/monitored"


def cli(server: Server, *args: str, key: str = ADMIN_KEY) -> Any:
    return runner.invoke(app, [*args, "--url", server.url, "--api-key", key])


def _key(server: Server, role: str) -> str:
    """Create an API key with `role` on the server; return it."""
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    body = {"name": f"cli-{role}-{time.monotonic_ns()}", "role": role}
    created = httpx.post(f"{server.url}/v1/keys", json=body, headers=headers)
    assert created.status_code == 201, created.text
    key: str = created.json()["key"]
    return key


def _failing_calls(server: Server, count: int) -> None:
    """Ingest `count` failed calls of the prompt's production version; wait until stored."""
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with httpx.Client(base_url=server.url, headers=headers) as client:
        assert client.post(f"/v1/prompts/{PROMPT}/versions", json=chat_body()).is_success
        moved = client.put(f"/v1/prompts/{PROMPT}/labels/production", json={"version": 1})
        assert moved.status_code == 200, moved.text
        attributes = genai(**{"promptlane.prompt.name": PROMPT, "promptlane.prompt.version": 1})
        spans = [span(attributes, status=2, status_message="boom") for _ in range(count)]
        sent = client.post("/v1/traces", content=otlp_json(*spans), headers=JSON)
        assert sent.is_success, sent.text
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = client.get("/v1/generations", params={"prompt": PROMPT}).json()
            if found["total"] >= count:
                return
            time.sleep(0.05)
    raise AssertionError("the ingested calls were not stored")


def test_a_signal_monitor_from_create_to_a_resolved_incident(server: Server) -> None:
    reader_key, writer_key = _key(server, "reader"), _key(server, "writer")
    _failing_calls(server, 5)
    created = cli(
        server, "monitors", "create", "errors", "--prompt", PROMPT, "--label", "production",
        "--metric", "error_rate", "--op", ">", "--threshold", "0.5", "--min-samples", "5",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "errors (signal, enabled)" in created.output
    assert "errors" in cli(server, "monitors", "list", key=reader_key).output
    assert "error_rate > 0.5" in cli(server, "monitors", "show", "errors").output
    refused = cli(server, "monitors", "trigger", "errors", key=reader_key)
    assert refused.exit_code == 1
    assert len(refused.output.strip().splitlines()) == 1
    fired = cli(server, "monitors", "trigger", "errors", "--json", key=writer_key)
    assert fired.exit_code == 0, fired.output
    [event] = json.loads(fired.output)
    assert (event["status"], event["evidence"]["samples"]) == ("fired", 5)
    incident = event["evidence"]["incident_id"]
    listed = cli(server, "monitors", "events", "errors")
    assert "fired" in listed.output
    shown = cli(server, "incidents", "show", str(incident)).output
    firing = next(line for line in shown.splitlines() if event["period_key"][:16] in line)
    assert "errors" in firing  # the firing, under the incident
    assert "fired" in firing
    assert str(incident) in cli(server, "incidents", "list", "--open").output
    resolved = cli(
        server, "incidents", "resolve", str(incident), "--reason", "provider fixed",
        key=writer_key,
    )  # fmt: skip
    assert resolved.exit_code == 0, resolved.output
    assert "resolved by" in resolved.output
    again = cli(server, "incidents", "resolve", str(incident), "--reason", "again")
    assert again.exit_code == 1
    assert "already resolved" in again.output.lower() or "was resolved" in again.output
    assert "open" not in cli(server, "incidents", "show", str(incident)).output.split("\n")[2]
    assert cli(server, "monitors", "delete", "errors").exit_code == 0
    assert cli(server, "monitors", "show", "errors").exit_code == 1


def test_bad_monitor_input_is_one_line_and_non_zero(server: Server) -> None:
    bad_cron = cli(server, "monitors", "create", "x", "--label", "production", "--cron", "nope")
    assert bad_cron.exit_code == 1
    assert "invalid cron expression" in bad_cron.output
    assert len(bad_cron.output.strip().splitlines()) == 1
    no_threshold = cli(server, "monitors", "create", "y", "--metric", "error_rate")
    assert no_threshold.exit_code == 2
    assert "--threshold" in no_threshold.output
    new_data = cli(server, "monitors", "create", "fresh", "--label", "production", "--new-data")
    assert new_data.exit_code == 0, new_data.output
    assert "each new version of a pinned suite's dataset" in new_data.output
    missing = cli(server, "incidents", "show", "424242")
    assert missing.exit_code == 1
    assert "no incident" in missing.output


def test_policies_set_turns_auto_rollback_on_and_off(server: Server) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    suite = {"name": "cli-suite", "dataset": "cli-data", "scorers": [{"type": "exact_match"}]}
    with httpx.Client(base_url=server.url, headers=headers) as client:
        data = client.post("/v1/datasets/cli-data/versions", json=[{"input": {"q": "a"}}])
        assert data.is_success, data.text
        assert client.post("/v1/suites", json=suite).is_success
    on = cli(server, "policies", "set", "canary", "--suite", "cli-suite", "--auto-rollback")
    assert on.exit_code == 0, on.output
    assert "auto-rollback" in on.output
    off = cli(
        server, "policies", "set", "canary", "--suite", "cli-suite", "--no-auto-rollback", "--json"
    )
    assert json.loads(off.output)["auto_rollback"] is False
