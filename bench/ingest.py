"""Benchmark OTLP trace ingest against decode-only and one-commit-per-span baselines, in one run.

Requests are built with the OpenTelemetry SDK and its OTLP encoder: `--batch` GenAI chat spans
each (the SDK's default export batch is 512), in the current GenAI conventions with promptlane
prompt attributes and no `promptlane.cost_usd`, so every span is priced from litellm's map.
Each round times, on the same kind of requests, in this process, on a SQLite file:

- parse: `ExportTraceServiceRequest.FromString` alone (upb, C): the floor of any receiver;
- decode: the receiver's decode, protobuf → span records with attributes as Python values
  (what any Python receiver does before it can read an attribute), the ingest baseline;
- ingest: what `POST /v1/traces` does past HTTP and auth: decode and map in a thread, price,
  one INSERT … ON CONFLICT DO NOTHING and one commit per request, metrics;
- per-span: the same decode, mapping and pricing, but one transaction and commit per span;
- no-rollups: ingest with the rollup writes switched off (`tracing.rollups.write.apply`), the
  baseline of what rollups cost ingest end to end (`--prompts 20` spreads the spans over as
  many rollup groups as bench/analytics.py does; `--url` runs on a fresh PostgreSQL database).

Span durations are log-normal (median ~400 ms), as the latency histograms of real calls are.
Figures are medians over rounds, printed as ratios; timings never make it fail.

    .venv/bin/python bench/ingest.py [--batch 512] [--requests 10] [--rounds 5] [--json]
    .venv/bin/python bench/ingest.py --prompts 20 --url postgresql://postgres@127.0.0.1:5432/x
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final
from unittest import mock

from analytics import drop_database, fresh_database
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from api.bootstrap import bootstrap
from api.db import Database
from api.migrate import upgrade
from tracing import ingest, otlp
from tracing.metrics import Metrics

PROTOBUF: Final = "application/x-protobuf"
MAX_BYTES: Final = 1 << 30
DECODE_TARGET: Final = 0.15
PER_SPAN_TARGET: Final = 5.0
ROLLUPS_TARGET: Final = 0.8
MODELS: Final = (("gpt-4o-mini", "gpt-4o-mini-2024-07-18"), ("gpt-4o", "gpt-4o-2024-08-06"))
PROMPTS: Final = ("support/triage", "support/reply", "search/rewrite")


def log(message: str) -> None:
    """Report progress on stderr, so --json output stays clean."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def prompt_names(count: int) -> tuple[str, ...]:
    """Return `count` prompt names: the three of the figures so far, then more."""
    return PROMPTS[:count] + tuple(f"app/prompt-{i:02d}" for i in range(count - len(PROMPTS)))


def make_request(batch: int, seed: int, prompts: int = len(PROMPTS)) -> bytes:
    """Return one export request of `batch` GenAI chat spans, as the SDK's exporter sends it."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "support-bot"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("bench")
    names = prompt_names(prompts)
    rng = random.Random(seed)
    now = time.time_ns()
    for i in range(batch):
        n = seed * batch + i
        request_model, response_model = MODELS[n % len(MODELS)]
        attributes = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": request_model,
            "gen_ai.response.model": response_model,
            "gen_ai.response.id": f"chatcmpl-{n:012d}",
            "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.request.temperature": 0.2,
            "gen_ai.request.max_tokens": 512,
            "gen_ai.usage.input_tokens": 200 + n % 900,
            "gen_ai.usage.output_tokens": 20 + n % 300,
            "server.address": "api.openai.com",
            "promptlane.prompt.name": names[n % len(names)],
            "promptlane.prompt.version": 1 + n % 4,
            "promptlane.prompt.label": "production",
            "promptlane.prompt.content_hash": f"{n % 4:064x}",
        }
        duration_ns = int(rng.lognormvariate(6.0, 0.6) * 1e6)
        span = tracer.start_span(
            f"chat {request_model}", kind=SpanKind.CLIENT, start_time=now - duration_ns
        )
        span.set_attributes(attributes)
        span.end(end_time=now)
    provider.shutdown()
    return encode_spans(exporter.get_finished_spans()).SerializeToString()


def timed(work: Callable[[], None]) -> float:
    """Return the seconds `work` took."""
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


async def atimed(work: Callable[[], Awaitable[None]]) -> float:
    """Return the seconds the awaited `work` took."""
    start = time.perf_counter()
    await work()
    return time.perf_counter() - start


async def ingest_requests(db: Database, metrics: Metrics, bodies: Sequence[bytes]) -> None:
    """Ingest each request as the route does: decode off the loop, one transaction, metrics."""
    for body in bodies:
        _, batch = await asyncio.to_thread(
            ingest.decode_batch,
            body,
            content_type=PROTOBUF,
            content_encoding=None,
            max_bytes=MAX_BYTES,
        )
        async with db.transaction() as session:
            result = await ingest.store_batch(session, batch)
        ingest.observe(metrics, result)
        if result.stored != batch.received:
            raise SystemExit(f"bench: stored {result.stored} of {batch.received} spans")


async def no_rollup_writes(*args: Any, **kwargs: Any) -> None:
    """Stand in for `tracing.rollups.write.apply`: the no-rollups baseline writes none."""


async def ingest_without_rollups(db: Database, metrics: Metrics, bodies: Sequence[bytes]) -> None:
    """The rollups' baseline: the same ingest, with the rollup writes switched off."""
    with mock.patch("tracing.inserts.rollups.apply", no_rollup_writes):
        await ingest_requests(db, metrics, bodies)


async def ingest_per_span(db: Database, metrics: Metrics, bodies: Sequence[bytes]) -> None:
    """The baseline: the same work, but one transaction and commit per span."""
    for body in bodies:
        _, batch = await asyncio.to_thread(
            ingest.decode_batch,
            body,
            content_type=PROTOBUF,
            content_encoding=None,
            max_bytes=MAX_BYTES,
        )
        for key, row in batch.rows.items():
            single = ingest.Batch(received=1, non_genai=0, rows={key: row})
            async with db.transaction() as session:
                result = await ingest.store_batch(session, single)
            ingest.observe(metrics, result)


def decode_only(bodies: Sequence[bytes]) -> None:
    """The baseline: decode each request to span records, and nothing else."""
    for body in bodies:
        otlp.decode_request(body, content_type=PROTOBUF, content_encoding=None, max_bytes=MAX_BYTES)


def parse_only(bodies: Sequence[bytes]) -> None:
    """The floor: parse each request with protobuf's C parser, and nothing else."""
    for body in bodies:
        ExportTraceServiceRequest.FromString(body)


async def one_round(
    db: Database, metrics: Metrics, args: argparse.Namespace, round_: int
) -> dict[str, float]:
    """Time every target once on fresh requests; return spans per second for each."""
    first = round_ * (2 * args.requests + args.per_span_requests) + 1  # seed 0: the warm-up
    seeds = iter(range(first, first + 2 * args.requests + args.per_span_requests))
    bodies = [make_request(args.batch, next(seeds), args.prompts) for _ in range(args.requests)]
    plain = [make_request(args.batch, next(seeds), args.prompts) for _ in range(args.requests)]
    per_span_bodies = [
        make_request(args.batch, next(seeds), args.prompts) for _ in range(args.per_span_requests)
    ]
    spans = args.batch * args.requests
    return {
        "parse": spans / timed(lambda: parse_only(bodies)),
        "decode": spans / timed(lambda: decode_only(bodies)),
        "ingest": spans / await atimed(lambda: ingest_requests(db, metrics, bodies)),
        "no_rollups": spans / await atimed(lambda: ingest_without_rollups(db, metrics, plain)),
        "per_span": args.batch
        * args.per_span_requests
        / await atimed(lambda: ingest_per_span(db, metrics, per_span_bodies)),
    }


async def run_rounds(url: str, args: argparse.Namespace) -> tuple[int, list[dict[str, float]]]:
    """Run the rounds on the fresh database at `url`; return a request's size and the figures."""
    upgrade(url)
    db = Database.from_url(url)
    try:
        metrics = Metrics()
        sample = make_request(args.batch, 0, args.prompts)
        log("warming up (loads litellm's bundled price map)")
        await ingest_requests(db, metrics, [sample])
        rounds = []
        for round_ in range(args.rounds):
            rounds.append(await one_round(db, metrics, args, round_))
            log(f"round {round_ + 1}/{args.rounds}: " + json.dumps(rounds[-1]))
        return len(sample), rounds
    finally:
        await db.dispose()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    """Run the rounds on a fresh SQLite file (or PostgreSQL database) and return the figures."""
    if args.url:
        fresh_database(args.url)
        try:
            size, rounds = await run_rounds(args.url, args)
        finally:
            drop_database(args.url)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            size, rounds = await run_rounds(f"sqlite:///{tmp}/bench.db", args)
    median = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    return {
        "database": "postgresql" if args.url else "sqlite",
        "prompts": args.prompts,
        "batch": args.batch,
        "requests_per_round": args.requests,
        "request_bytes": size,
        "rounds": rounds,
        "spans_per_s": median,
        "ingest_vs_decode": median["ingest"] / median["decode"],
        "ingest_vs_parse": median["ingest"] / median["parse"],
        "ingest_vs_per_span": median["ingest"] / median["per_span"],
        "rollups_ratio": median["ingest"] / median["no_rollups"],
        "python": platform.python_version(),
    }


def report(result: dict[str, Any]) -> None:
    """Print the figures as a table and the ratios against their targets."""
    rate = result["spans_per_s"]
    print(
        f"\ningest: {result['batch']} GenAI spans per request "
        f"({result['request_bytes'] / result['batch']:.0f} bytes each), "
        f"{result['requests_per_round']} requests per round, {result['prompts']} prompts, "
        f"{result['database']}, medians of "
        f"{len(result['rounds'])} rounds"
    )
    print(f"{'target':<34} {'spans/s':>10}")
    for key, label in (
        ("parse", "parse only (protobuf C parser)"),
        ("decode", "decode only (to span records)"),
        ("ingest", "ingest (batch, one commit)"),
        ("no_rollups", "ingest without rollup writes"),
        ("per_span", "one commit per span"),
    ):
        print(f"{label:<34} {rate[key]:>10,.0f}")
    for key, target, name in (
        ("ingest_vs_decode", DECODE_TARGET, "ingest / decode only"),
        ("ingest_vs_per_span", PER_SPAN_TARGET, "ingest / one commit per span"),
        ("rollups_ratio", ROLLUPS_TARGET, "ingest / ingest without rollups"),
    ):
        verdict = "meets" if result[key] >= target else "below"
        print(f"{name}: {result[key]:.3f} ({verdict} the target {target:g})")
    print(f"ingest / parse only: {result['ingest_vs_parse']:.3f} (no target: C parse, no walk)")


def positive(text: str) -> int:
    """Parse a positive integer argument."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=positive, default=512, help="spans per request")
    parser.add_argument("--requests", type=positive, default=10, help="requests per round")
    parser.add_argument(
        "--per-span-requests", type=positive, default=1, help="requests per round, baseline"
    )
    parser.add_argument("--rounds", type=positive, default=5)
    parser.add_argument("--prompts", type=positive, default=len(PROMPTS), help="prompt names")
    parser.add_argument("--url", help="a PostgreSQL database to create, use and drop")
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    arguments = parser.parse_args()
    bootstrap()
    outcome = asyncio.run(main(arguments))
    if arguments.json:
        print(json.dumps(outcome, indent=2))
    else:
        report(outcome)
