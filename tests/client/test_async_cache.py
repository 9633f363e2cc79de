"""The async client's prompt cache: the same contract as the sync one, on an event loop."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from promptlane_client import AsyncClient, PromptUnavailableError
from promptlane_client.aio import AsyncPromptCache
from promptlane_client.cache import backoff
from tests.client.fakes import FakeClock, FakeServer


@pytest.fixture
def server() -> FakeServer:
    fake = FakeServer()
    fake.publish("support/triage")
    return fake


@pytest.fixture
async def client(server: FakeServer) -> AsyncIterator[AsyncClient]:
    async with server.async_client() as c:
        yield c


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def cache(client: AsyncClient, clock: FakeClock) -> AsyncPromptCache:
    """The client's cache, replaced by one with a hand-moved clock and a 10 s TTL."""
    await client._prompts.aclose()
    client._prompts = AsyncPromptCache(client.request, ttl=10, clock=clock)
    return client._prompts


async def settle(cache: AsyncPromptCache) -> None:
    """Wait for the cache's background refreshes."""
    await asyncio.gather(*cache._tasks)


def hold(server: FakeServer) -> asyncio.Event:
    server.async_hold = asyncio.Event()
    server.async_holding = asyncio.Event()
    return server.async_hold


async def test_hits_misses_labels_and_versions(server: FakeServer, client: AsyncClient) -> None:
    first = await client.get_prompt("support/triage")
    assert (first.version, first.label) == (1, "production")
    assert await client.get_prompt("support/triage", label="production") is first
    by_number = await client.get_prompt("support/triage", version=1)
    assert by_number.label is None
    assert len(server.requests) == 2
    with pytest.raises(ValueError, match="not both"):
        await client.get_prompt("support/triage", label="x", version=1)


async def test_stale_while_revalidate_on_the_event_loop(
    server: FakeServer, client: AsyncClient, cache: AsyncPromptCache, clock: FakeClock
) -> None:
    first = await client.get_prompt("support/triage")
    server.publish("support/triage", text="New {{who}}")
    clock.advance(10)
    release = hold(server)
    assert await client.get_prompt("support/triage") is first
    assert server.async_holding is not None
    await server.async_holding.wait()  # the refresh task is stuck inside the server
    results = await asyncio.gather(*(client.get_prompt("support/triage") for _ in range(50)))
    assert all(r is first for r in results)
    assert len(cache._tasks) == 1  # single flight
    release.set()
    await settle(cache)
    assert (await client.get_prompt("support/triage")).version == 2
    assert len(server.requests) == 2
    assert server.requests[1].headers["if-none-match"] == server.etag("support/triage", 1)


async def test_a_304_keeps_the_prompt_and_makes_it_fresh(
    server: FakeServer, client: AsyncClient, cache: AsyncPromptCache, clock: FakeClock
) -> None:
    first = await client.get_prompt("support/triage")
    clock.advance(10)
    assert await client.get_prompt("support/triage") is first
    await settle(cache)
    entry = cache.store.lookup("support/triage", "production")
    assert entry is not None
    assert entry.expires == clock.now + 10
    assert await client.get_prompt("support/triage") is first
    assert len(server.requests) == 2


async def test_concurrent_cold_gets_send_one_request(
    server: FakeServer, client: AsyncClient
) -> None:
    release = hold(server)
    gets = [asyncio.ensure_future(client.get_prompt("support/triage")) for _ in range(10)]
    assert server.async_holding is not None
    await server.async_holding.wait()
    release.set()
    results = await asyncio.gather(*gets)
    assert all(r is results[0] for r in results)
    assert len(server.requests) == 1


async def test_errors_keep_the_last_good_value(
    server: FakeServer,
    client: AsyncClient,
    cache: AsyncPromptCache,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = await client.get_prompt("support/triage")
    server.status = 0
    clock.advance(10)
    with caplog.at_level(logging.WARNING, logger="promptlane.client"):
        assert await client.get_prompt("support/triage") is first
        await settle(cache)
    assert "cannot reach promptlane" in caplog.text
    assert await client.get_prompt("support/triage") is first
    assert len(server.requests) == 2  # backing off
    server.status = 200
    clock.advance(backoff(1))
    await client.get_prompt("support/triage")
    await settle(cache)
    assert len(server.requests) == 3


async def test_fallback_and_clear_error_on_a_cold_start_with_the_server_down(
    server: FakeServer, client: AsyncClient
) -> None:
    server.status = 0
    with pytest.raises(PromptUnavailableError, match="pass fallback="):
        await client.get_prompt("support/triage")
    fallback = await client.get_prompt("support/triage", fallback="Hi {{who}}")
    assert fallback.is_fallback
    assert fallback.render({"who": "<b>"}).text == "Hi <b>"
    assert await client.get_prompt("support/triage") is fallback


async def test_a_snapshot_boots_the_async_client(server: FakeServer, tmp_path: Path) -> None:
    record = {
        "name": "support/triage",
        "label": "production",
        "etag": None,
        "version": server.versions["support/triage"][1],
    }
    path = tmp_path / "prompts.lock"
    path.write_text(json.dumps({"format": 1, "prompts": [record]}))
    server.status = 0
    async with server.async_client(snapshot=path) as offline:
        prompt = await offline.get_prompt("support/triage")
        assert prompt.version == 1
        await settle(offline._prompts)
        assert await offline.get_prompt("support/triage") is prompt


async def test_aclose_cancels_a_held_refresh(
    server: FakeServer, client: AsyncClient, clock: FakeClock
) -> None:
    cache = client._prompts = AsyncPromptCache(client.request, ttl=0, clock=clock)
    await client.get_prompt("support/triage")
    hold(server)
    await client.get_prompt("support/triage")
    assert server.async_holding is not None
    await server.async_holding.wait()
    (task,) = cache._tasks
    await cache.aclose()
    assert task.cancelled()
    assert cache._tasks == set()
