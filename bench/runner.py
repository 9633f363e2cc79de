"""Benchmark the eval runner against the ideal schedule, bare openai and bare litellm loops.

For each concurrency C it sends N dataset items to a model answering after a fixed latency,
on this machine, in this process, in one run:

- ideal: ceil(N / C) x latency (no overhead at all);
- bare openai: an asyncio loop with a semaphore of C calling the openai SDK (`AsyncOpenAI`,
  no retries) against a stub OpenAI-compatible provider on 127.0.0.1 (bench/stub_provider.py,
  its own process, so its CPU is not ours) that answers each request after the latency;
- bare litellm: the same loop calling `litellm.acompletion` (`openai/<model>` + `api_base`);
- runner: promptlane's runner on the same stub through a connection (the native path: render,
  model call with its retry policy, deterministic scorers, batched persistence to SQLite, gate
  verdict).

Then the offline scripted model (answered in-process at the same latency): a bare litellm loop
against the runner (native: no litellm per call). Then a cached suite is run cold and rerun
warm. Timings never make it fail; a run that does not complete does.

    .venv/bin/python bench/runner.py [--items 1000] [--latency-ms 50] [--concurrency 4 16 64]
        [--repeat 1] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

import stub_provider

from api.bootstrap import bootstrap, litellm_ready, load_litellm
from api.db import Database
from api.migrate import upgrade
from evals.connections.resolver import ResolvedConnection, StaticConnections
from evals.datasets.service import publish_dataset_version
from evals.llm.client import ModelClient, RetryPolicy
from evals.runs import service as runs
from evals.runs.runner import Runner
from evals.schemas import DatasetVersionCreate, RunCreate
from evals.suites import parse_suite, publish_suite
from prompts import service as prompts
from prompts.schemas import VersionCreate

CATEGORIES = stub_provider.CATEGORIES
CONCURRENCIES = (4, 16, 64)  # the suites seeded; --concurrency picks among them
STUB_PROMPT, OFFLINE_PROMPT = "bench-triage", "bench-offline"
MESSAGES = [
    {"role": "system", "content": "Triage tickets for {{company}}."},
    {"role": "user", "content": "{{ticket}}"},
]


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


async def seed(db: Database, items: int, latency_ms: int) -> None:
    rows = [
        {
            "input": {"company": "Acme", "ticket": f"ticket number {i}"},
            "expected": CATEGORIES[i % 3],
            "metadata": {"answer": CATEGORIES[i % 3]},
        }
        for i in range(items)
    ]
    configs = {
        STUB_PROMPT: {"model": f"openai/{stub_provider.MODEL}"},
        OFFLINE_PROMPT: {"model": "offline/scripted", "offline": {"latency_ms": latency_ms}},
    }
    async with db.transaction() as session:
        data = DatasetVersionCreate.model_validate({"items": rows})
        await publish_dataset_version(session, name="bench-tickets", data=data, author="bench")
        for name, config in configs.items():
            version = VersionCreate.model_validate({"messages": MESSAGES, "config": config})
            await prompts.publish_version(session, name=name, data=version, author="bench")
        for c in CONCURRENCIES:
            spec = parse_suite(suite_text(f"bench-c{c}", c, cache=False))
            await publish_suite(session, spec=spec, author="bench")
        spec = parse_suite(suite_text("bench-cached", 16, cache=True))
        await publish_suite(session, spec=spec, author="bench")


async def timed_run(
    db: Database, runner: Runner, suite: str, prompt: str
) -> tuple[float, dict[str, Any]]:
    body = RunCreate(suite=suite, prompt=prompt, version=1)
    async with db.transaction() as session:
        run = await runs.start_run(session, data=body, actor="bench")
    start = time.perf_counter()
    await runner.execute(run.id)
    elapsed = time.perf_counter() - start
    async with db.reader() as session:
        done = await runs.get_run(session, run_id=run.id)
    if done.status != "completed" or done.completed != done.total:
        raise SystemExit(f"bench: run {run.id} ended {done.status} ({done.completed}/{done.total})")
    return elapsed, {
        "verdict": done.verdict,
        "cached": done.summary.cached if done.summary else None,
    }


def messages_of(i: int) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": "Triage tickets for Acme."},
        {"role": "user", "content": f"ticket number {i}"},
    ]


async def bare_loop(items: int, concurrency: int, call: Callable[[int], Awaitable[Any]]) -> float:
    """Return the seconds `items` calls take, at most `concurrency` at a time."""
    semaphore = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with semaphore:
            await call(i)

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(items)))
    return time.perf_counter() - start


def bare_calls(base_url: str, latency_ms: int) -> dict[str, Callable[[int], Awaitable[Any]]]:
    """Return the bare loops' calls: the openai SDK and litellm on the stub, litellm offline."""
    import openai

    litellm = load_litellm()  # as a server has it: imported once, then frozen
    sdk = openai.AsyncOpenAI(base_url=base_url, api_key="sk-bench", max_retries=0)

    async def with_openai(i: int) -> Any:
        return await sdk.chat.completions.create(model=stub_provider.MODEL, messages=messages_of(i))  # type: ignore[arg-type]

    async def with_litellm(i: int) -> Any:
        return await litellm.acompletion(
            model=f"openai/{stub_provider.MODEL}",
            messages=messages_of(i),
            api_base=base_url,
            api_key="sk-bench",
            max_retries=0,
        )

    async def offline_litellm(i: int) -> Any:
        return await litellm.acompletion(
            model="offline/scripted",
            messages=messages_of(i),
            latency_ms=latency_ms,
            max_retries=0,
        )

    return {"openai": with_openai, "litellm": with_litellm, "offline_litellm": offline_litellm}


async def best_of(repeat: int, measure: Callable[[], Awaitable[float]]) -> float:
    """Return the fastest of `repeat` timings (the least disturbed by the rest of the machine)."""
    return min([await measure() for _ in range(repeat)])


async def concurrency_rows(
    args: argparse.Namespace, c: int, db: Database, runner: Runner, calls: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the stub row and the offline row of one concurrency."""
    ideal = math.ceil(args.items / c) * args.latency_ms / 1000

    def loop(call: str) -> Callable[[], Awaitable[float]]:
        return lambda: bare_loop(args.items, c, calls[call])

    def run(prompt: str) -> Callable[[], Awaitable[float]]:
        async def timed() -> float:
            return (await timed_run(db, runner, f"bench-c{c}", prompt))[0]

        return timed

    stub = {
        "bare_openai_s": await best_of(args.repeat, loop("openai")),
        "bare_litellm_s": await best_of(args.repeat, loop("litellm")),
        "runner_s": await best_of(args.repeat, run(STUB_PROMPT)),
    }
    offline = {
        "bare_litellm_s": await best_of(args.repeat, loop("offline_litellm")),
        "runner_s": await best_of(args.repeat, run(OFFLINE_PROMPT)),
    }
    for row in (stub, offline):
        row.update(concurrency=c, ideal_s=ideal, vs_ideal=row["runner_s"] / ideal)
        row["vs_litellm"] = row["runner_s"] / row["bare_litellm_s"]
    stub["vs_openai"] = stub["runner_s"] / stub["bare_openai_s"]
    return stub, offline


async def measure(args: argparse.Namespace, base_url: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        db = Database.from_url(url)
        await seed(db, args.items, args.latency_ms)
        stub = ResolvedConnection("openai", "openai", base_url, None)
        model = ModelClient(
            retry=RetryPolicy(attempts=1), timeout=30, connections=StaticConnections([stub])
        )
        runner = Runner(db.writer, model=model, owner="bench", prepare_model=litellm_ready)
        calls = bare_calls(base_url, args.latency_ms)
        for call in calls.values():  # warm-up: imports, connections, code paths
            await bare_loop(50, 16, call)
        load = os.getloadavg()[0]
        rows, offline_rows = [], []
        for c in args.concurrency:
            stub_row, offline_row = await concurrency_rows(args, c, db, runner, calls)
            rows.append(stub_row)
            offline_rows.append(offline_row)
        cold, _ = await timed_run(db, runner, "bench-cached", OFFLINE_PROMPT)
        warm, info = await timed_run(db, runner, "bench-cached", OFFLINE_PROMPT)
        await model.aclose()
        await db.dispose()
    return {
        "items": args.items,
        "latency_ms": args.latency_ms,
        "repeat": args.repeat,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_before": load,
        "load_after": os.getloadavg()[0],
        "rows": rows,
        "offline": offline_rows,
        "cache": {"cold_s": cold, "warm_s": warm, "warm_vs_cold": warm / cold, **info},
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    process, base_url = stub_provider.start(args.latency_ms)
    try:
        return await measure(args, base_url)
    finally:
        process.terminate()
        process.wait(timeout=10)


def report(result: dict[str, Any]) -> None:
    print(
        f"\nrunner: {result['items']} items, {result['latency_ms']} ms a call, stub "
        "OpenAI-compatible provider (own process, 127.0.0.1), deterministic scorers, SQLite"
    )
    print(
        f"best of {result['repeat']} per row; {result['cpus']} CPUs, load average "
        f"{result['load_before']:.1f} before, {result['load_after']:.1f} after"
    )
    print(
        f"{'C':>4} {'ideal s':>8} {'openai s':>9} {'litellm s':>10} {'runner s':>9} "
        f"{'r/ideal':>8} {'r/openai':>9} {'r/litellm':>10}"
    )
    for r in result["rows"]:
        print(
            f"{r['concurrency']:>4} {r['ideal_s']:>8.2f} {r['bare_openai_s']:>9.2f} "
            f"{r['bare_litellm_s']:>10.2f} {r['runner_s']:>9.2f} {r['vs_ideal']:>8.3f} "
            f"{r['vs_openai']:>9.3f} {r['vs_litellm']:>10.3f}"
        )
    print("\noffline scripted model (in-process, same latency)")
    header = f"{'C':>4} {'ideal s':>8} {'litellm s':>10} {'runner s':>9} {'r/ideal':>8}"
    print(f"{header} {'r/litellm':>10}")
    for r in result["offline"]:
        print(
            f"{r['concurrency']:>4} {r['ideal_s']:>8.2f} {r['bare_litellm_s']:>10.2f} "
            f"{r['runner_s']:>9.2f} {r['vs_ideal']:>8.3f} {r['vs_litellm']:>10.3f}"
        )
    cache = result["cache"]
    print(
        f"\ncache (offline, C=16): cold {cache['cold_s']:.2f} s, warm {cache['warm_s']:.3f} s, "
        f"warm/cold {cache['warm_vs_cold']:.3f} ({cache['cached']} cached items)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument(
        "--concurrency", type=int, nargs="+", choices=CONCURRENCIES, default=list(CONCURRENCIES)
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="time each row this often, keep the best"
    )
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    bootstrap()
    outcome = asyncio.run(main(arguments))
    if arguments.json:
        print(json.dumps(outcome, indent=2))
    else:
        report(outcome)
