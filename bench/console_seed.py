"""What bench/console.py publishes before it times the console's pages (through the API).

Prompts (tagged, every tenth labelled), the triage prompt's two runs, 1,000 webhook deliveries
to a paused endpoint and a monitor checked once by hand.
"""

from __future__ import annotations

import asyncio
import time
from typing import Final

import httpx
from resolve import HOST, BenchError, expect, log

TAGS: Final = ("support", "billing", "search", "agents", "internal")
PROMPT: Final = "bench/console/triage"
SUITE, DATASET = "bench/console/quality", "bench/console/tickets"
ANSWERS: Final = ("billing", "technical", "account")
HOOK: Final = "bench-console"  # a webhook endpoint, paused: its deliveries wait, none is sent
MONITOR: Final = "bench-console"  # a schedule monitor on NAMED's staging, checked once by hand
NAMED: Final = "team-10/prompt-00010"  # labelled staging: i % 10 == 0
DELIVERIES: Final = 1_000


async def seed_prompts(client: httpx.AsyncClient, count: int) -> None:
    """Publish `count` prompts with tags and descriptions; every tenth has `production`."""
    started = time.monotonic()
    semaphore = asyncio.Semaphore(4)

    async def one(i: int) -> None:
        name = f"team-{i % 40:02d}/prompt-{i:05d}"
        async with semaphore:
            created = {
                "name": name,
                "description": f"prompt {i} of the bench",
                "tags": [TAGS[i % 5]],
            }
            expect(await client.post("/v1/prompts", json=created), 201, "create a prompt")
            body = {"messages": [{"role": "user", "content": f"Answer {i}: {{{{q}}}}"}]}
            expect(await client.post(f"/v1/prompts/{name}/versions", json=body), 201, "publish")
            if i % 10 == 0:
                label = await client.put(f"/v1/prompts/{name}/labels/staging", json={"version": 1})
                expect(label, 200, "move a label")
        if i and i % 1000 == 0:
            log(f"{i} prompts ({i / (time.monotonic() - started):.0f}/s)")

    await asyncio.gather(*(one(i) for i in range(count)))


async def seed_runs(client: httpx.AsyncClient, items: int) -> tuple[int, int]:
    """Publish the triage prompt, an `items`-item dataset and a suite; run v1 and v2 on it.

    Returns the two runs' ids, v1's first (the run page of v2's finds v1's as its previous).
    """
    config = {"model": "offline/scripted", "temperature": 0}
    body = {"messages": [{"role": "user", "content": "Triage: {{ticket}}"}], "config": config}
    expect(await client.post(f"/v1/prompts/{PROMPT}/versions", json=body), 201, "publish")
    second = {**body, "config": {"model": "offline/echo", "temperature": 0.5}}  # diff, compare
    expect(await client.post(f"/v1/prompts/{PROMPT}/versions", json=second), 201, "publish v2")
    rows = []
    for i in range(items):
        expected = ANSWERS[i % 3]
        answer = "wrong" if i % 10 == 7 else expected  # a tenth of the items fail
        rows.append(
            {"input": {"ticket": f"t{i}"}, "expected": expected, "metadata": {"answer": answer}}
        )
    expect(await client.post(f"/v1/datasets/{DATASET}/versions", json=rows), 201, "dataset")
    suite = {
        "name": SUITE,
        "dataset": DATASET,
        "scorers": [{"name": "correct", "type": "exact_match"}],
        "gates": [{"metric": "correct", "aggregate": "mean", "op": ">=", "value": 0.95}],
        "concurrency": 64,
    }
    expect(await client.post("/v1/suites", json=suite), 201, "suite")
    first = await run_to_end(client, version=1)
    second = await run_to_end(client, version=2)
    return first, second


async def run_to_end(client: httpx.AsyncClient, version: int) -> int:
    """Run the suite on a version of the triage prompt; return the run's id once it is done."""
    started = time.monotonic()
    run = {"suite": SUITE, "prompt": PROMPT, "version": version}
    run_id = int(expect(await client.post("/v1/runs", json=run), 202, "run").json()["id"])
    while True:
        state = expect(await client.get(f"/v1/runs/{run_id}"), 200, "read the run").json()
        if state["status"] in ("completed", "failed", "cancelled"):
            break
        await asyncio.sleep(1)
    if state["status"] != "completed":
        raise BenchError(f"the run ended {state['status']}: {state.get('error')}")
    log(f"ran {state['total']} items in {time.monotonic() - started:.0f} s")
    return run_id


async def seed_webhooks(client: httpx.AsyncClient) -> int:
    """Register a paused endpoint and queue `DELIVERIES` test events to it; return one's id."""
    body = {"name": HOOK, "url": f"http://{HOST}:9/hooks", "event_types": ["policy.changed"]}
    expect(await client.post("/v1/webhooks", json=body), 201, "create a webhook endpoint")
    paused = await client.patch(f"/v1/webhooks/{HOOK}", json={"is_paused": True})
    expect(paused, 200, "pause the endpoint")
    semaphore = asyncio.Semaphore(4)

    async def one() -> int:
        async with semaphore:
            queued = expect(await client.post(f"/v1/webhooks/{HOOK}/test"), 202, "test event")
            return int(queued.json()["id"])

    ids = await asyncio.gather(*(one() for _ in range(DELIVERIES)))
    return min(ids)


async def seed_monitor(client: httpx.AsyncClient) -> None:
    """Create a monitor on a labelled prompt and trigger it once (no policy: an `error` check)."""
    body = {"name": MONITOR, "prompt": NAMED, "label": "staging", "trigger": "schedule"}
    made = await client.post("/v1/monitors", json={**body, "cron": "0 3 * * *"})
    expect(made, 201, "create a monitor")
    expect(await client.post(f"/v1/monitors/{MONITOR}/trigger"), 200, "trigger the monitor")
