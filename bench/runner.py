"""Benchmark the eval runner against the ideal schedule and a bare litellm loop, in one run.

For each concurrency C it runs N dataset items through the offline scripted model at a fixed
latency, three ways, on this machine, in this process:

- ideal: ceil(N / C) x latency (no overhead at all);
- bare: an asyncio loop with a semaphore of C calling `litellm.acompletion` on the same
  offline model (the floor the model client itself allows on this CPU);
- runner: promptlane's runner (render, model call with its retry policy, deterministic
  scorers, batched persistence to SQLite, gate verdict).

Then a cached suite is run cold and rerun warm. Timings never make it fail.

    .venv/bin/python bench/runner.py [--items 1000] [--latency-ms 50] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import platform
import tempfile
import time
from typing import Any

from api.bootstrap import bootstrap, litellm_ready, load_litellm
from api.db import Database
from api.migrate import upgrade
from evals.datasets.service import publish_dataset_version
from evals.llm.client import ModelClient, RetryPolicy
from evals.runs import service as runs
from evals.runs.runner import Runner
from evals.schemas import DatasetVersionCreate, RunCreate
from evals.suites import parse_suite, publish_suite
from prompts import service as prompts
from prompts.schemas import VersionCreate

CATEGORIES = ("billing", "technical", "account")


def suite_text(name: str, concurrency: int, *, cache: bool) -> str:
    return f"""\
name: {name}
dataset: bench-tickets
scorers:
  - {{name: correct, type: exact_match}}
  - {{name: mentions, type: contains, params: {{value: "i"}}}}
  - {{name: short, type: length, params: {{max_chars: 40}}}}
gates:
  - {{metric: correct, aggregate: mean, op: ">=", value: 0.9}}
concurrency: {concurrency}
cache: {str(cache).lower()}
"""


async def seed(db: Database, items: int, latency_ms: int, concurrencies: list[int]) -> None:
    rows = [
        {
            "input": {"company": "Acme", "ticket": f"ticket number {i}"},
            "expected": CATEGORIES[i % 3],
            "metadata": {"answer": CATEGORIES[i % 3]},
        }
        for i in range(items)
    ]
    version = VersionCreate.model_validate(
        {
            "messages": [
                {"role": "system", "content": "Triage tickets for {{company}}."},
                {"role": "user", "content": "{{ticket}}"},
            ],
            "config": {"model": "offline/scripted", "offline": {"latency_ms": latency_ms}},
        }
    )
    async with db.transaction() as session:
        data = DatasetVersionCreate.model_validate({"items": rows})
        await publish_dataset_version(session, name="bench-tickets", data=data, author="bench")
        await prompts.publish_version(session, name="bench-triage", data=version, author="bench")
        for c in concurrencies:
            spec = parse_suite(suite_text(f"bench-c{c}", c, cache=False))
            await publish_suite(session, spec=spec, author="bench")
        spec = parse_suite(suite_text("bench-cached", 16, cache=True))
        await publish_suite(session, spec=spec, author="bench")


async def timed_run(db: Database, runner: Runner, suite: str) -> tuple[float, dict[str, Any]]:
    body = RunCreate(suite=suite, prompt="bench-triage", version=1)
    async with db.transaction() as session:
        run = await runs.start_run(session, data=body, actor="bench")
    start = time.perf_counter()
    await runner.execute(run.id)
    elapsed = time.perf_counter() - start
    async with db.reader() as session:
        done = await runs.get_run(session, run_id=run.id)
    if done.status != "completed" or done.completed != done.total:
        raise SystemExit(f"bench: run {run.id} ended {done.status} ({done.completed}/{done.total})")
    return elapsed, {"verdict": done.verdict, "cached": done.summary.get("cached")}


async def bare_loop(items: int, concurrency: int, latency_ms: int) -> float:
    litellm = load_litellm()  # as a server has it: imported once, then frozen
    semaphore = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with semaphore:
            await litellm.acompletion(
                model="offline/scripted",
                messages=[
                    {"role": "system", "content": "Triage tickets for Acme."},
                    {"role": "user", "content": f"ticket number {i}"},
                ],
                latency_ms=latency_ms,
                max_retries=0,
            )

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(items)))
    return time.perf_counter() - start


async def main(args: argparse.Namespace) -> dict[str, Any]:
    concurrencies = [4, 16, 64]
    latency = args.latency_ms / 1000
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        db = Database.from_url(url)
        await seed(db, args.items, args.latency_ms, concurrencies)
        model = ModelClient(retry=RetryPolicy(attempts=1), timeout=30)
        runner = Runner(db.writer, model=model, owner="bench", prepare_model=litellm_ready)
        await bare_loop(50, 16, 1)  # warm-up: imports, the offline provider, code paths
        rows = []
        for c in concurrencies:
            ideal = math.ceil(args.items / c) * latency
            bare = await bare_loop(args.items, c, args.latency_ms)
            wall, info = await timed_run(db, runner, f"bench-c{c}")
            rows.append(
                {
                    "concurrency": c,
                    "ideal_s": ideal,
                    "bare_s": bare,
                    "runner_s": wall,
                    "vs_ideal": wall / ideal,
                    "vs_bare": wall / bare,
                    **info,
                }
            )
        cold, _ = await timed_run(db, runner, "bench-cached")
        warm, info = await timed_run(db, runner, "bench-cached")
        await db.dispose()
    return {
        "items": args.items,
        "latency_ms": args.latency_ms,
        "python": platform.python_version(),
        "rows": rows,
        "cache": {"cold_s": cold, "warm_s": warm, "warm_vs_cold": warm / cold, **info},
    }


def report(result: dict[str, Any]) -> None:
    print(
        f"\nrunner: {result['items']} items, offline model at {result['latency_ms']} ms, "
        f"deterministic scorers, SQLite"
    )
    print(f"{'C':>4} {'ideal s':>8} {'bare s':>8} {'runner s':>9} {'vs ideal':>9} {'vs bare':>8}")
    for r in result["rows"]:
        print(
            f"{r['concurrency']:>4} {r['ideal_s']:>8.2f} {r['bare_s']:>8.2f} "
            f"{r['runner_s']:>9.2f} {r['vs_ideal']:>9.3f} {r['vs_bare']:>8.3f}"
        )
    cache = result["cache"]
    print(
        f"cache (C=16): cold {cache['cold_s']:.2f} s, warm {cache['warm_s']:.3f} s, "
        f"warm/cold {cache['warm_vs_cold']:.3f} ({cache['cached']} cached items)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    bootstrap()
    outcome = asyncio.run(main(arguments))
    if arguments.json:
        print(json.dumps(outcome, indent=2))
    else:
        report(outcome)
