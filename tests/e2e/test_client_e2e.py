"""The Python client against a real server: cached prompts, 304s, then a snapshot boot offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from promptlane_client import Client, PromptUnavailableError
from promptlane_client.langchain.tracing import PromptlaneCallbackHandler
from tests.client.fakes import settle
from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.server import PROMPTLANE, Server, server_env, start_server

pytestmark = pytest.mark.e2e
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
VARIABLES = {"company": "A&B <Ltd>", "ticket": "it's <broken> & slow"}
JINJA = {
    "template": "{{ ticket | upper }} for {{ company }}",
    "template_format": "jinja2",
    "config": {"model": "openai/gpt-4o-mini", "temperature": 0.1},
}


def seed(server: Server) -> None:
    with httpx.Client(base_url=server.url, headers=AUTH) as http:
        chat = {
            "messages": [
                {"role": "system", "content": "You triage tickets for {{company}}."},
                {"role": "user", "content": "{{ticket}}"},
            ],
            "config": {"model": "openai/gpt-4o-mini", "max_tokens": 32},
        }
        for name, body, labels in (
            ("e2e/chat", chat, ("production",)),
            ("e2e/jinja", JINJA, ("production", "staging")),
        ):
            assert http.post(f"/v1/prompts/{name}/versions", json=body).status_code == 201
            for label in labels:
                moved = http.put(f"/v1/prompts/{name}/labels/{label}", json={"version": 1})
                assert moved.status_code == 200, moved.text


def snapshot(server: Server, *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [PROMPTLANE, "prompts", "snapshot", "--url", server.url, "--api-key", ADMIN_KEY, *args],
        capture_output=True,
        text=True,
        env=server_env(),
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def light_client_run(server: Server) -> list[str]:
    """Fetch and render a prompt in a fresh interpreter; return the heavy modules it loaded."""
    code = textwrap.dedent(
        f"""
        import sys
        from promptlane_client import Client
        with Client("{server.url}", "{ADMIN_KEY}") as client:
            prompt = client.get_prompt("e2e/chat")
            prompt.render(company="c", ticket="t")
            prompt.to_openai({{"company": "c", "ticket": "t"}})
        heavy = {{"fastapi", "starlette", "sqlalchemy", "sqlmodel", "litellm", "ragas",
                  "uvicorn", "openai", "langchain_core", "pydantic", "opentelemetry"}}
        print(",".join(sorted(heavy & {{m.split(".")[0] for m in sys.modules}})))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return [m for m in out.stdout.strip().split(",") if m]


def test_client_caches_revalidates_and_boots_from_a_snapshot(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    server = start_server(
        tmp_path,
        database_url=databases.create(migrate=False),
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp_path / "credentials.json"),
    )
    lock = tmp_path / "prompts.lock"
    try:
        seed(server)
        with Client(server.url, ADMIN_KEY, cache_ttl=0) as client:
            prompt = client.get_prompt("e2e/chat")
            server_render = client.render_prompt("e2e/chat", VARIABLES)
            assert prompt.render(VARIABLES).messages == server_render["messages"]
            assert client.get_prompt("e2e/chat") is prompt  # stale (TTL 0): revalidating
            settle(client)
            assert client.get_prompt("e2e/chat") is prompt  # the server said 304
            jinja = client.get_prompt("e2e/jinja", label="staging")
            assert (
                jinja.render(VARIABLES).text
                == client.render_prompt("e2e/jinja", VARIABLES, label="staging")["text"]
            )
            settle(client)
        assert light_client_run(server) == []
        everything = snapshot(server)
        lock.write_text(json.dumps(everything))
        staging = snapshot(server, "--label", "staging")
    finally:
        server.stop()
    assert sorted((r["name"], r["label"]) for r in everything["prompts"]) == [
        ("e2e/chat", "production"),
        ("e2e/jinja", "production"),
        ("e2e/jinja", "staging"),
    ]
    assert [(r["name"], r["label"]) for r in staging["prompts"]] == [("e2e/jinja", "staging")]
    # The server is gone: the snapshot alone serves, fallbacks cover the rest.
    with Client(server.url, ADMIN_KEY, snapshot=lock) as offline:
        prompt = offline.get_prompt("e2e/chat")
        assert prompt.render(VARIABLES).messages == server_render["messages"]
        assert offline.get_prompt("e2e/jinja", version=1).render(VARIABLES).text == (
            "IT'S <BROKEN> & SLOW for A&B <Ltd>"
        )
        assert offline.get_prompt("e2e/new", fallback="Hi {{ticket}}").is_fallback
        with pytest.raises(PromptUnavailableError, match="cannot reach promptlane"):
            offline.get_prompt("e2e/other")
        settle(offline)


@pytest.fixture
def _no_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's OTEL_* variables away from the SDK and exporter in this process."""
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)


@pytest.mark.usefixtures("_no_otel_env")
def test_langchain_calls_become_generations_of_the_prompt_version(server: Server) -> None:
    with httpx.Client(base_url=server.url, headers=AUTH) as http:
        body = {"template": "Greet {{who}}", "config": {"model": "openai/gpt-4o-mini"}}
        assert http.post("/v1/prompts/e2e/langchain/versions", json=body).status_code == 201
        assert (
            http.put("/v1/prompts/e2e/langchain/labels/production", json={"version": 1}).status_code
            == 200
        )
    exporter = OTLPSpanExporter(
        endpoint=server.url + "/v1/traces",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        timeout=120,  # the server's first export loads litellm's price map
    )
    provider = TracerProvider(resource=Resource({"service.name": "langchain-app"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    handler = PromptlaneCallbackHandler(provider)
    replies = [
        AIMessage(
            content=f"hi {n}",
            usage_metadata={"input_tokens": 10 * n, "output_tokens": n, "total_tokens": 11 * n},
            response_metadata={"model_name": "gpt-4o-mini", "finish_reason": "stop"},
        )
        for n in (1, 2)
    ]
    with Client(server.url, ADMIN_KEY) as client:
        prompt = client.get_prompt("e2e/langchain")
    chain = prompt.to_langchain() | GenericFakeChatModel(messages=iter(replies))
    for who in ("Ada", "Grace"):
        chain.invoke({"who": who}, config={"callbacks": [handler]})
    assert provider.force_flush(timeout_millis=120_000)
    provider.shutdown()
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as http:
        usage = http.get(
            "/v1/analytics/usage",
            params={"group_by": "version", "prompt": "e2e/langchain", "source": "ingest"},
        )
    assert usage.status_code == 200, usage.text
    (row,) = usage.json()["rows"]
    assert (row["version"], row["calls"]) == (1, 2)
    assert (row["input_tokens"], row["output_tokens"]) == (30, 3)
