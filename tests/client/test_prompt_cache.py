"""The sync client's prompt cache: hits, expiry, stale-while-revalidate, errors, fallbacks."""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from promptlane_client import APIError, Client, Prompt, PromptUnavailableError, SnapshotError
from promptlane_client.cache import BACKOFF_MAX, backoff
from promptlane_client.client import PromptCache
from promptlane_client.prompt import DEFAULT_LABEL
from prompts import service
from tests.client.fakes import FakeClock, FakeServer, settle


@pytest.fixture
def server() -> FakeServer:
    fake = FakeServer()
    fake.publish("support/triage")
    return fake


@pytest.fixture
def client(server: FakeServer) -> Iterator[Client]:
    with server.client() as c:
        yield c
    if server.hold is not None:
        server.hold.set()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cache(client: Client, clock: FakeClock) -> PromptCache:
    """The client's cache, replaced by one with a hand-moved clock and a 10 s TTL."""
    client._prompts.close()
    client._prompts = PromptCache(client.request, ttl=10, clock=clock)
    return client._prompts


def test_a_hit_returns_the_cached_prompt_without_a_request(
    server: FakeServer, client: Client
) -> None:
    first = client.get_prompt("support/triage")
    assert isinstance(first, Prompt)
    assert (first.name, first.version, first.label) == ("support/triage", 1, "production")
    assert client.get_prompt("support/triage") is first
    assert client.get_prompt("support/triage", label="production") is first
    assert len(server.requests) == 1
    assert server.requests[0].url.params["label"] == "production"
    assert server.requests[0].headers["authorization"] == "Bearer pl_key"


def test_labels_and_versions_are_cached_apart(server: FakeServer, client: Client) -> None:
    server.publish("support/triage", text="Hi {{who}}", label="staging")
    staging = client.get_prompt("support/triage", label="staging")
    by_number = client.get_prompt("support/triage", version=1)
    production = client.get_prompt("support/triage")
    assert (staging.version, staging.label) == (2, "staging")
    assert (by_number.version, by_number.label) == (1, None)
    assert production.version == 1
    assert client.get_prompt("support/triage", version=2).version == 2
    assert len(server.requests) == 4
    with pytest.raises(ValueError, match="not both"):
        client.get_prompt("support/triage", label="staging", version=2)
    with pytest.raises(ValueError, match="cache_ttl"):
        client.get_prompt("other", cache_ttl=-1)
    with pytest.raises(ValueError, match="cache_ttl"):
        Client("http://promptlane.test", cache_ttl=math.nan)


def test_an_expired_entry_is_served_then_revalidated_with_a_304(
    server: FakeServer, client: Client, cache: PromptCache, clock: FakeClock
) -> None:
    first = client.get_prompt("support/triage")
    etag = server.answer(server.requests[0]).headers["etag"]
    clock.advance(10)
    assert client.get_prompt("support/triage") is first  # stale, served at once
    settle(cache)
    assert server.requests[-1].headers["if-none-match"] == etag
    assert len(server.requests) == 3  # counting the etag probe above
    entry = cache.store.lookup("support/triage", "production")
    assert entry is not None
    assert entry.expires == clock.now + 10  # the 304 made it fresh again
    assert client.get_prompt("support/triage") is first
    assert len(server.requests) == 3


def test_a_refresh_picks_up_a_moved_label(
    server: FakeServer, client: Client, cache: PromptCache, clock: FakeClock
) -> None:
    assert client.get_prompt("support/triage").version == 1
    server.publish("support/triage", text="Bye {{who}}")
    assert client.get_prompt("support/triage").version == 1  # still fresh
    clock.advance(11)
    assert client.get_prompt("support/triage").version == 1  # stale: served, refresh started
    settle(cache)
    updated = client.get_prompt("support/triage")
    assert updated.version == 2
    assert updated.render(who="x").messages == [{"role": "user", "content": "Bye x"}]


def test_stale_while_revalidate_never_waits_for_the_refresh(
    server: FakeServer, client: Client, cache: PromptCache, clock: FakeClock
) -> None:
    first = client.get_prompt("support/triage")
    server.publish("support/triage", text="New {{who}}")
    clock.advance(60)
    server.hold = threading.Event()
    assert client.get_prompt("support/triage") is first
    assert server.holding.wait(timeout=30)  # the refresh is now stuck inside the server
    for _ in range(100):
        assert client.get_prompt("support/triage") is first
    assert len(server.requests) == 1  # the held refresh has not even been counted yet
    server.hold.set()
    settle(cache)
    assert client.get_prompt("support/triage").version == 2
    assert len(server.requests) == 2


def test_concurrent_expired_gets_send_one_refresh(
    server: FakeServer, client: Client, cache: PromptCache, clock: FakeClock
) -> None:
    first = client.get_prompt("support/triage")
    clock.advance(60)
    server.hold = threading.Event()
    threads = 16
    start = threading.Barrier(threads)
    results: list[Prompt] = []

    def get() -> None:
        start.wait()
        results.append(client.get_prompt("support/triage"))

    workers = [threading.Thread(target=get) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert results == [first] * threads  # none of them waited for the held refresh
    assert server.holding.wait(timeout=30)
    assert cache.workers.pending == 1
    server.hold.set()
    settle(cache)
    assert len(server.requests) == 2


def test_concurrent_cold_gets_send_one_request(server: FakeServer, client: Client) -> None:
    server.hold = threading.Event()
    results: list[Prompt] = []
    workers = [
        threading.Thread(target=lambda: results.append(client.get_prompt("support/triage")))
        for _ in range(8)
    ]
    for worker in workers:
        worker.start()
    assert server.holding.wait(timeout=30)
    server.hold.set()
    for worker in workers:
        worker.join(timeout=30)
    assert len(results) == 8
    assert all(r is results[0] for r in results)
    assert len(server.requests) == 1


def test_errors_keep_the_last_good_value_and_back_off(
    server: FakeServer,
    client: Client,
    cache: PromptCache,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = client.get_prompt("support/triage")
    server.status = 503
    clock.advance(10)
    with caplog.at_level(logging.WARNING, logger="promptlane.client"):
        assert client.get_prompt("support/triage") is first
        settle(cache)
    assert "refreshing prompt 'support/triage' (label 'production') failed 1 time" in caplog.text
    assert "503" in caplog.text
    assert client.get_prompt("support/triage") is first  # backing off: no new request
    assert len(server.requests) == 2
    server.status = 0  # now the connection is refused
    clock.advance(backoff(1))
    assert client.get_prompt("support/triage") is first
    settle(cache)
    assert len(server.requests) == 3
    entry = cache.store.lookup("support/triage", "production")
    assert entry is not None
    assert entry.failures == 2
    assert entry.expires == clock.now + backoff(2)
    server.status = 200
    server.publish("support/triage", text="Back {{who}}")
    clock.advance(backoff(2))
    client.get_prompt("support/triage")
    settle(cache)
    assert client.get_prompt("support/triage").version == 2


def test_backoff_doubles_up_to_a_ceiling() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert backoff(50) == BACKOFF_MAX


def test_a_cold_miss_with_the_server_down_uses_the_fallback(
    server: FakeServer,
    client: Client,
    cache: PromptCache,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.status = 0
    fallback = [{"role": "system", "content": "Be brief with {{who}}."}]
    with caplog.at_level(logging.WARNING, logger="promptlane.client"):
        prompt = client.get_prompt("support/triage", fallback=fallback)
    assert "using the fallback" in caplog.text
    assert prompt.is_fallback
    assert (prompt.name, prompt.version, prompt.label) == ("support/triage", 0, "production")
    expected = [{"role": "system", "content": "Be brief with <&>."}]
    assert prompt.render(who="<&>").messages == expected
    assert client.get_prompt("support/triage") is prompt  # no second blocking attempt
    assert len(server.requests) == 1
    server.status = 200
    clock.advance(backoff(1))
    assert client.get_prompt("support/triage") is prompt
    settle(cache)
    assert client.get_prompt("support/triage").version == 1


def test_a_prompt_the_server_does_not_have_logs_an_error_naming_it(
    server: FakeServer, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    # A typo is not an outage: error level, the name, and what to check (issue 17, item 11).
    with caplog.at_level(logging.WARNING, logger="promptlane.client"):
        prompt = client.get_prompt("support/triag", fallback="Hello")
    assert prompt.is_fallback
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert "'support/triag'" in record.getMessage()
    assert "refused by the server" in record.getMessage()
    caplog.clear()
    server.status = 0
    with caplog.at_level(logging.WARNING, logger="promptlane.client"):
        client.get_prompt("support/other", fallback="Hello")
    [outage] = caplog.records
    assert outage.levelno == logging.WARNING
    assert "could not serve" in outage.getMessage()


def test_fallbacks_can_be_text_a_version_body_or_a_prompt(
    server: FakeServer, client: Client
) -> None:
    server.status = 500
    text = client.get_prompt("a", fallback="Hi {{who}}")
    assert (text.kind, text.render(who="x").text) == ("text", "Hi x")
    body = {"template": "{{ who | upper }}", "template_format": "jinja2", "config": {"seed": 1}}
    jinja = client.get_prompt("b", fallback=body)
    assert jinja.render(who="x").text == "X"
    assert jinja.config == {"seed": 1}
    own = Prompt.local("c", "Mine")
    assert client.get_prompt("c", fallback=own) is own


def test_a_cold_miss_without_fallback_raises_a_clear_error(
    server: FakeServer, client: Client
) -> None:
    server.status = 0
    with pytest.raises(PromptUnavailableError, match="pass fallback=") as down:
        client.get_prompt("support/triage")
    assert "cannot reach promptlane" in str(down.value)
    server.status = 502
    with pytest.raises(PromptUnavailableError, match="502"):
        client.get_prompt("support/triage", version=1)
    server.status = 200
    with pytest.raises(APIError) as missing:
        client.get_prompt("nope")
    assert missing.value.status == 404
    assert client.get_prompt("nope", fallback="Hi").is_fallback  # a fallback covers a 404 too


def write_snapshot(server: FakeServer, path: Path) -> Path:
    record = {
        "name": "support/triage",
        "label": "production",
        "etag": server.etag("support/triage", 1),
        "version": server.versions["support/triage"][1],
    }
    path.write_text(json.dumps({"format": 1, "prompts": [record]}))
    return path


def test_a_snapshot_boots_the_client_with_no_server(server: FakeServer, tmp_path: Path) -> None:
    path = write_snapshot(server, tmp_path / "prompts.lock")
    server.status = 0
    with server.client(snapshot=path) as offline:
        prompt = offline.get_prompt("support/triage")
        assert (prompt.version, prompt.label, prompt.is_fallback) == (1, "production", False)
        assert offline.get_prompt("support/triage", version=1).version == 1
        settle(offline)  # the snapshot counts as stale: refreshes were tried, and failed
        assert offline.get_prompt("support/triage") is prompt
        with pytest.raises(PromptUnavailableError):
            offline.get_prompt("support/triage", label="staging")
    assert len(server.requests) == 3


def test_snapshot_entries_revalidate_once_the_server_answers(
    server: FakeServer, tmp_path: Path
) -> None:
    path = write_snapshot(server, tmp_path / "prompts.lock")
    with server.client(snapshot=path) as online:
        prompt = online.get_prompt("support/triage")
        settle(online)
        assert server.requests[0].headers["if-none-match"] == server.etag("support/triage", 1)
        assert online.get_prompt("support/triage") is prompt  # 304: same object, now fresh
        assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read prompt snapshot"),
        ("not json", "cannot read prompt snapshot"),
        ('{"format": 2, "prompts": []}', "is not a promptlane snapshot"),
        ('{"format": 1, "prompts": [{"name": "x"}]}', "malformed snapshot entry"),
    ],
)
def test_a_bad_snapshot_is_refused(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "prompts.lock"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SnapshotError, match=message):
        Client("http://promptlane.test", snapshot=path)


def test_a_closed_client_starts_no_refresh(
    server: FakeServer, client: Client, cache: PromptCache, clock: FakeClock
) -> None:
    first = client.get_prompt("support/triage")
    cache.closed = True
    clock.advance(60)
    assert client.get_prompt("support/triage") is first
    assert cache.workers.pending == 0
    assert len(server.requests) == 1


def test_a_forked_process_starts_its_own_refresh_threads(
    server: FakeServer, client: Client, cache: PromptCache, clock: FakeClock
) -> None:
    client.get_prompt("support/triage")
    clock.advance(10)
    client.get_prompt("support/triage")
    settle(cache)
    cache.workers._pid = -1  # as if this process were a fork of the one that started them
    clock.advance(10)
    client.get_prompt("support/triage")
    settle(cache)
    assert len(server.requests) == 3


def test_the_default_label_is_the_servers() -> None:
    assert DEFAULT_LABEL == service.DEFAULT_LABEL


def test_snapshot_command_fails_cleanly_without_a_server() -> None:
    result = CliRunner().invoke(app, ["prompts", "snapshot", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "cannot reach promptlane" in result.stderr
    assert result.stdout == ""
