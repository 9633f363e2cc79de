"""Benchmark the Python client's prompt cache against a plain dict lookup, in one run.

What an application pays per request for `client.get_prompt(name)` once the prompt is cached
(target: at most 2 µs on this machine), next to the floor: a dict lookup with a monotonic
expiry check, inline and wrapped in a function, measured in the same process. Also:

- a hit with a label keyword, and the async client's hit (awaited in a loop);
- a hit on an expired entry while its refresh is in flight (the server holds it open);
- the one call per expiry that starts the background refresh (single shots, median and p99;
  the server holds every refresh open, so a blocking call would show up as seconds).

Each figure is the median over --rounds interleaved rounds of --number calls. No server is
started: the client talks to an in-process httpx.MockTransport. Timings never make it fail;
a wrong answer does.

    .venv/bin/python bench/client_cache.py [--number 100000] [--rounds 15] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import platform
import statistics
import sys
import threading
import time
import timeit
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

import httpx

from promptlane_client import AsyncClient, Client, Prompt
from promptlane_client.cache import Entry

NAME: Final = "bench/support-triage"
TARGET_US: Final = 2.0
HOLD_S: Final = 2.0
BODY: Final[dict[str, Any]] = {
    "name": NAME,
    "version": 3,
    "kind": "chat",
    "template": None,
    "messages": [
        {"role": "system", "content": "You triage tickets for {{company}}."},
        {"role": "user", "content": "{{ticket}}"},
    ],
    "template_format": "mustache",
    "variables": ["company", "ticket"],
    "variables_schema": None,
    "config": {"model": "openai/gpt-4o-mini", "temperature": 0.2},
    "labels": ["production"],
    "message": "",
    "author": "bench",
    "content_hash": "0" * 64,
    "created_at": "2026-01-01T00:00:00Z",
}


class Server:
    """An in-process resolve endpoint: 200 with an ETag, 304 when it matches; can hold."""

    def __init__(self) -> None:
        self.raw = json.dumps(BODY).encode()
        self.etag = '"' + hashlib.sha256(self.raw).hexdigest()[:32] + '"'
        self.requests = 0
        self.release = threading.Event()
        self.release.set()

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        self.release.wait(timeout=30)
        if request.headers.get("if-none-match") == self.etag:
            return httpx.Response(304, headers={"ETag": self.etag})
        return httpx.Response(200, content=self.raw, headers={"ETag": self.etag})

    async def ahandle(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return httpx.Response(200, content=self.raw, headers={"ETag": self.etag})


def interleaved(
    stmts: dict[str, str], namespace: dict[str, Any], number: int, rounds: int
) -> dict[str, float]:
    """Return each statement's median cost in µs, timed in interleaved rounds.

    Every round times every statement once, so load from elsewhere on the machine falls on
    all of them alike.
    """
    timers = {name: timeit.Timer(stmt, globals=namespace) for name, stmt in stmts.items()}
    for timer in timers.values():
        timer.timeit(number // 10)  # warm up
    runs: dict[str, list[float]] = {name: [] for name in timers}
    for _ in range(rounds):
        for name, timer in timers.items():
            runs[name].append(timer.timeit(number) / number * 1e6)
    return {name: statistics.median(values) for name, values in runs.items()}


def hits(client: Client, number: int, rounds: int) -> dict[str, float]:
    """Time fresh hits against the floor: a dict lookup plus a monotonic expiry check."""
    monotonic = time.monotonic
    table = {NAME: ("prompt", monotonic() + 3600)}

    def lookup(name: str) -> Any:
        entry = table.get(name)
        if entry is not None and entry[1] > monotonic():
            return entry[0]
        return None

    namespace = {
        "table": table,
        "name": NAME,
        "monotonic": monotonic,
        "lookup": lookup,
        "get": client.get_prompt,
    }
    stmts = {
        "dict_inline": "e = table.get(name)\nif e is not None and e[1] > monotonic(): r = e[0]",
        "dict_function": "lookup(name)",
        "hit": "get(name)",
        "hit_label": "get(name, label='production')",
    }
    return interleaved(stmts, namespace, number, rounds)


def stale_in_flight(client: Client, server: Server, number: int, rounds: int) -> dict[str, float]:
    """Time hits on an expired entry whose refresh the server holds open.

    Also returns the cost of the client's very first refresh-starting call (it starts the
    worker threads).
    """
    prompt = client.get_prompt(NAME)
    server.release.clear()
    expire(client, prompt)
    before = server.requests
    start = time.perf_counter()
    assert client.get_prompt(NAME) is prompt  # starts the (held) refresh
    first = (time.perf_counter() - start) * 1e6
    namespace = {"get": client.get_prompt, "name": NAME}
    cost = interleaved({"stale": "get(name)"}, namespace, number, rounds)["stale"]
    assert server.requests - before <= 1, "more than one refresh for one key"
    server.release.set()
    wait_refreshes(client)
    return {"stale_refresh_in_flight": cost, "first_refresh_start": first}


def refresh_start(client: Client, server: Server, samples: int) -> dict[str, float]:
    """Time single calls that find an expired entry and start its refresh (server holding)."""
    prompt = client.get_prompt(NAME)
    costs = []
    for _ in range(samples):
        server.release.clear()
        expire(client, prompt)
        start = time.perf_counter()
        got = client.get_prompt(NAME)
        costs.append((time.perf_counter() - start) * 1e6)
        assert got is prompt
        server.release.set()
        wait_refreshes(client)
    costs.sort()
    return {
        "median": statistics.median(costs),
        "p99": costs[min(len(costs) - 1, math.ceil(len(costs) * 0.99) - 1)],
        "max": costs[-1],
    }


def expire(client: Client, prompt: Prompt) -> None:
    """Replace the cached entry by an expired one (as if its TTL had passed)."""
    store = client._prompts.store
    entry = store.lookup(NAME, "production")
    assert entry is not None
    store.put(NAME, "production", Entry(prompt, entry.etag, -math.inf, entry.ttl))


def wait_refreshes(client: Client) -> None:
    """Wait until the client's background refreshes are done."""
    assert client._prompts.workers.wait_idle(timeout=30), "a refresh never finished"


async def async_hit(number: int, rounds: int) -> float:
    """Return the median cost of an awaited hit on the async client."""
    server = Server()
    async with AsyncClient(
        "http://bench.test", "pl_bench", transport=httpx.MockTransport(server.ahandle)
    ) as client:
        await client.get_prompt(NAME)
        get = client.get_prompt
        runs = []
        for _ in range(rounds + 1):
            start = time.perf_counter()
            for _ in range(number):
                await get(NAME)
            runs.append((time.perf_counter() - start) / number * 1e6)
        assert server.requests == 1
    return statistics.median(runs[1:])


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure everything; return the figures and the setup."""
    server = Server()
    client = Client("http://bench.test", "pl_bench", transport=httpx.MockTransport(server.handle))
    try:
        assert client.get_prompt(NAME).version == 3
        figures = hits(client, args.number, args.rounds)
        assert server.requests == 1, "a hit reached the server"
        figures["hit_async"] = asyncio.run(async_hit(args.number, args.rounds))
        figures.update(stale_in_flight(client, server, args.number, args.rounds))
        starts = refresh_start(client, server, args.samples)
    finally:
        server.release.set()
        client.close()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "versions": {"python": platform.python_version(), "httpx": httpx.__version__},
        "parameters": {"number": args.number, "rounds": args.rounds, "samples": args.samples},
        "target_us": TARGET_US,
        "us": figures,
        "refresh_start_us": starts,
        "ratio_hit_to_dict_function": figures["hit"] / figures["dict_function"],
        "ratio_hit_to_dict_inline": figures["hit"] / figures["dict_inline"],
        "meets_target": figures["hit"] <= TARGET_US,
    }


def print_table(results: dict[str, Any]) -> None:
    """Print the figures and ratios."""
    us = results["us"]
    base = us["dict_function"]
    params = results["parameters"]
    print(
        f"\nprompt cache hit cost (median of {params['rounds']} interleaved rounds of"
        f" {params['number']} calls),"
        f" {results['machine']['cpus']} CPUs, Python {results['versions']['python']}"
    )
    print(f"{'what':<48} {'µs/call':>8} {'vs dict fn':>10}")
    rows = [
        ("dict lookup + expiry check, inline", "dict_inline"),
        ("dict lookup + expiry check, in a function", "dict_function"),
        ("client.get_prompt(name)  [fresh hit]", "hit"),
        ("client.get_prompt(name, label=...)", "hit_label"),
        ("await async_client.get_prompt(name)", "hit_async"),
        ("expired entry, refresh in flight (held)", "stale_refresh_in_flight"),
    ]
    for label, key in rows:
        print(f"{label:<48} {us[key]:>8.3f} {us[key] / base:>10.2f}")
    starts = results["refresh_start_us"]
    print(
        f"expired entry, the call that starts the refresh: median {starts['median']:.1f} µs,"
        f" p99 {starts['p99']:.1f} µs, max {starts['max']:.1f} µs"
        f" ({params['samples']} samples; the server held each refresh open)"
    )
    print(
        f"the client's first refresh (also starts its 2 worker threads):"
        f" {us['first_refresh_start']:.1f} µs"
    )
    verdict = "meets" if results["meets_target"] else "misses"
    print(f"fresh hit {us['hit']:.3f} µs: {verdict} the {TARGET_US:.0f} µs target")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--number", type=int, default=100_000, help="calls per timing")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (median)")
    parser.add_argument("--samples", type=int, default=200, help="refresh-starting calls")
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return 0 unless an answer was wrong (slow figures never fail it)."""
    args = parse_args(argv)
    try:
        results = run(args)
    except AssertionError as exc:
        print(f"bench: failed: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
