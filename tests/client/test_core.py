"""The sans-I/O core the sync and async clients share: calls, flows, and their two drivers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from promptlane_client import AsyncClient, Client, endpoints
from promptlane_client.cache import Flow, ResolveCall, arun, run
from promptlane_client.errors import ConnectionFailedError
from tests.client.fakes import URL, version_body


def test_a_call_is_built_without_io() -> None:
    call = endpoints.resolve("support/triage v2", "staging", '"abc"')
    assert (call.method, call.path) == ("GET", "/v1/prompts/support/triage%20v2")
    assert call.options() == {"params": {"label": "staging"}, "headers": {"If-None-Match": '"abc"'}}
    assert endpoints.resolve("a", 3, None).options() == {"params": {"version": 3}, "headers": {}}
    move = endpoints.move_label("a", "prod/eu", 2, "why", True)
    assert (move.method, move.path) == ("PUT", "/v1/prompts/a/labels/prod%2Feu")
    assert move.json == {"version": 2, "reason": "why", "force": True}


def test_an_upload_gets_at_least_two_minutes_whatever_the_clients_timeout() -> None:
    call = endpoints.push_dataset("d", b"{}", "json", "", None)
    assert call.options(10.0)["timeout"] == 120.0
    assert call.options(300.0)["timeout"] == 300.0
    assert "timeout" not in endpoints.list_datasets({}).options(10.0)
    curate = endpoints.add_from_generations("a/b c", {"prompt": "p", "ids": None})
    assert (curate.path, curate.json) == (
        "/v1/datasets/a/b%20c/versions/from-generations",
        {"prompt": "p"},
    )
    assert curate.options(10.0)["timeout"] == 120.0


def _flow(log: list[Any]) -> Flow[str]:
    """Ask twice; survive a failed first answer; return what the second said."""
    try:
        first = yield endpoints.resolve("a", "production", None)
        log.append(first.status_code)
    except ConnectionFailedError as exc:
        log.append(str(exc))
    second = yield endpoints.resolve("a", "production", '"e"')
    return f"{second.status_code}"


def _answers(fail_first: bool) -> Callable[[ResolveCall], httpx.Response]:
    sent: list[ResolveCall] = []

    def send(call: ResolveCall) -> httpx.Response:
        sent.append(call)
        if fail_first and len(sent) == 1:
            raise ConnectionFailedError("down")
        return httpx.Response(304 if call.options().get("headers") else 200)

    return send


@pytest.mark.parametrize("fail_first", [False, True])
def test_the_sync_and_async_drivers_run_a_flow_alike(fail_first: bool) -> None:
    sync_log: list[Any] = []
    async_log: list[Any] = []
    send = _answers(fail_first)

    async def asend(call: ResolveCall) -> httpx.Response:
        return await asyncio.sleep(0, send(call))

    sync_result = run(_flow(sync_log), _answers(fail_first))
    async_result = asyncio.run(arun(_flow(async_log), asend))
    assert sync_result == async_result == "304"
    assert sync_log == async_log == (["down"] if fail_first else [200])


def test_an_error_the_flow_does_not_handle_reaches_the_caller_of_either_driver() -> None:
    def send(call: ResolveCall) -> httpx.Response:
        raise ValueError("boom")

    async def asend(call: ResolveCall) -> httpx.Response:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        run(_flow([]), send)
    with pytest.raises(ValueError, match="boom"):
        asyncio.run(arun(_flow([]), asend))


Seen = list[tuple[str, str, dict[str, str], bytes]]


def _recorder(seen: Seen) -> Callable[[httpx.Request], httpx.Response]:
    def handle(request: httpx.Request) -> httpx.Response:
        headers = {k: v for k, v in request.headers.items() if k != "content-length"}
        seen.append((request.method, str(request.url), headers, request.content))
        return httpx.Response(200, json=version_body("a/b", 1), headers={"ETag": '"e"'})

    return handle


async def test_the_sync_and_async_clients_send_the_same_requests() -> None:
    sync_seen: Seen = []
    async_seen: Seen = []
    handle, ahandle = _recorder(sync_seen), _recorder(async_seen)

    async def async_handle(request: httpx.Request) -> httpx.Response:
        return ahandle(request)

    with Client(URL, "pl_key", transport=httpx.MockTransport(handle), cache_ttl=0) as client:
        client.resolve_prompt("a/b", version=1)
        client.resolve_prompt("a/b", label="staging")
        client.render_prompt("a/b", {"who": "x"}, label="production")
        client.get_prompt("a/b")
    transport = httpx.MockTransport(async_handle)
    async with AsyncClient(URL, "pl_key", transport=transport, cache_ttl=0) as async_client:
        await async_client.resolve_prompt("a/b", version=1)
        await async_client.resolve_prompt("a/b", label="staging")
        await async_client.render_prompt("a/b", {"who": "x"}, label="production")
        await async_client.get_prompt("a/b")
    assert len(sync_seen) == 4
    assert sync_seen == async_seen
    assert sync_seen[2][3] == b'{"variables":{"who":"x"},"label":"production"}'
