"""Benchmark the gateway's added latency over calling the same OpenAI-compatible provider directly.

Starts a local OpenAI-compatible provider (a uvicorn app answering /v1/chat/completions with a
fixed completion) and `promptlane serve` with a prompt whose connection points at it (litellm
`openai/<model>` + `api_base`). Then, in interleaved rounds at the same concurrency, it sends
the same rendered chat request straight to the provider and the prompt reference to the
gateway, and reports per-request latency percentiles, the p50 added by the gateway and the
gateway/direct ratio. Timings never make it fail; a server that does not start or a wrong
answer does.

    .venv/bin/python bench/gateway.py [--requests 400] [--concurrency 1 8] [--rounds 3]
        [--stream] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse
from resolve import (
    BENCH_DIR,
    HOST,
    PROMPTLANE,
    BenchError,
    Server,
    expect,
    free_port,
    log,
    positive,
    promptlane_env,
    servers_stopped_on_exit,
    start_server,
)

PROMPT: Final = "bench/gateway"
TARGET_ADDED_P50_MS: Final = 1.5
VARIABLES: Final = {"company": "Acme", "ticket": "my card was charged twice, please refund"}
RENDERED: Final = [
    {"role": "system", "content": "You are a support triage assistant for Acme."},
    {"role": "user", "content": VARIABLES["ticket"]},
]
ANSWER: Final = "billing: duplicate charge, refund"
COMPLETION: Final = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 0,
    "model": "bench-model",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 24, "completion_tokens": 6, "total_tokens": 30},
}


def stream_events() -> list[bytes]:
    """Return the fixed completion as SSE events: a chunk per word, usage, then [DONE]."""
    words = ANSWER.split(" ")
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "model": "bench-model"}
    events = []
    for i, word in enumerate(words):
        delta = {"content": word if i == 0 else f" {word}"}
        finish = "stop" if i == len(words) - 1 else None
        events.append({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    events.append({**base, "choices": [], "usage": COMPLETION["usage"]})
    return [b"data: " + json.dumps(e).encode() + b"\n\n" for e in events] + [b"data: [DONE]\n\n"]


def provider_app() -> FastAPI:
    """Build the provider: POST /v1/chat/completions answers a fixed completion (or stream)."""
    app = FastAPI()
    body = json.dumps(COMPLETION).encode()
    events = stream_events()

    async def stream() -> AsyncIterator[bytes]:
        for event in events:
            yield event

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> Response:
        """Read the request (as a provider would) and answer the fixed completion."""
        if json.loads(await request.body()).get("stream"):
            return StreamingResponse(stream(), media_type="text/event-stream")
        return Response(content=body, media_type="application/json")

    @app.get("/v1/models")
    async def models() -> Response:
        """Answer the readiness probe."""
        return Response(content=b'{"object":"list","data":[]}', media_type="application/json")

    return app


def serve_provider(port: int) -> None:
    """Serve the provider with the same uvicorn arguments as `promptlane serve`."""
    import uvicorn

    uvicorn.run(
        provider_app(),
        host=HOST,
        port=port,
        workers=1,
        log_level="warning",
        access_log=False,
        server_header=False,
    )


def start_provider(tmp: Path) -> Server:
    """Start the provider in its own process."""
    port = free_port()
    command = [sys.executable, str(BENCH_DIR / "gateway.py"), "--serve-provider", str(port)]
    log("starting the OpenAI-compatible provider")
    env = dict(os.environ)
    return start_server("provider", command, env, port, "/v1/models", tmp / "provider.log")


def start_promptlane(tmp: Path, key: str) -> Server:
    """Start `promptlane serve` on a fresh SQLite database (online evaluation off)."""
    port = free_port()
    command = [str(PROMPTLANE), "serve", "--host", HOST, "--port", str(port)]
    env = promptlane_env(tmp, key, "gateway")
    env["PROMPTLANE_ONLINE_EVAL_ENABLED"] = "false"
    log("starting promptlane")
    return start_server("promptlane", command, env, port, "/readyz", tmp / "promptlane.log")


def seed(url: str, key: str, provider: Server) -> str:
    """Publish the bench prompt pointing at the provider; return a reader key."""
    version = {
        "messages": [
            {"role": "system", "content": "You are a support triage assistant for {{company}}."},
            {"role": "user", "content": "{{ticket}}"},
        ],
        "config": {"model": "openai/bench-model", "temperature": 0.2, "max_tokens": 64},
        "message": "bench",
    }
    connection = {
        "name": "openai",
        "provider": "openai",
        "api_base": provider.url + "/v1",
        "api_key": "sk-bench",
    }
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=auth, timeout=10) as client:
        expect(client.post("/v1/connections", json=connection), 201, "create the connection")
        expect(client.post(f"/v1/prompts/{PROMPT}/versions", json=version), 201, "publish")
        move = {"version": 1, "reason": "bench"}
        expect(client.put(f"/v1/prompts/{PROMPT}/labels/production", json=move), 200, "label")
        created = client.post("/v1/keys", json={"name": "bench-app", "role": "reader"})
        return str(expect(created, 201, "create reader key").json()["key"])


def cpu_seconds(pids: Sequence[int]) -> float | None:
    """Return the CPU time (user + system) the processes used so far; None off Linux."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class Target:
    """One way of asking the same question: a URL, a body, headers, the servers it uses."""

    def __init__(
        self, name: str, url: str, body: dict[str, Any], key: str, servers: Sequence[Server]
    ) -> None:
        self.name = name
        self.url = url
        self.content = json.dumps(body).encode()
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.pids = [server.process.pid for server in servers]
        self.cpu_seconds: float | None = 0.0  # the servers' CPU during the measured rounds

    async def call(self, client: httpx.AsyncClient) -> float:
        """Send one request; return its latency in ms (raise BenchError on a wrong answer)."""
        started = time.perf_counter()
        response = await client.post(self.url, content=self.content, headers=self.headers)
        elapsed = (time.perf_counter() - started) * 1000.0
        if response.status_code != 200:
            raise BenchError(f"{self.name}: HTTP {response.status_code}: {response.text[:300]}")
        if answer_of(response) != ANSWER:
            raise BenchError(f"{self.name}: unexpected answer {response.text[:300]}")
        return elapsed


def answer_of(response: httpx.Response) -> str:
    """Return the answer's text from a completion or from a stream's chunks."""
    if not response.headers["content-type"].startswith("text/event-stream"):
        return str(response.json()["choices"][0]["message"]["content"])
    lines = response.text.split("\n\n")
    if lines[-2:] != ["data: [DONE]", ""]:
        raise BenchError(f"a stream did not end with [DONE]: {response.text[-300:]}")
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-2]]
    return "".join(c["delta"].get("content") or "" for x in chunks for c in x["choices"])


async def load(target: Target, *, requests: int, concurrency: int) -> list[float]:
    """Send `requests` requests, `concurrency` at a time; return their latencies."""
    latencies: list[float] = []
    remaining = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            for _ in remaining:
                latencies.append(await target.call(client))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def percentile(values: Sequence[float], q: float) -> float:
    """Return the q-th percentile (0..100) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def figures(latencies: Sequence[float]) -> dict[str, float]:
    """Return p50/p90/p99 and the mean of latencies, in ms."""
    return {
        "p50_ms": round(percentile(latencies, 50), 3),
        "p90_ms": round(percentile(latencies, 90), 3),
        "p99_ms": round(percentile(latencies, 99), 3),
        "mean_ms": round(statistics.fmean(latencies), 3),
    }


async def measure(
    targets: list[Target], args: argparse.Namespace, concurrency: int
) -> dict[str, list[float]]:
    """Warm up, then load every target once per round, alternating the order."""
    for target in targets:
        await load(target, requests=max(50, concurrency * 5), concurrency=concurrency)
        target.cpu_seconds = 0.0
    out: dict[str, list[float]] = {t.name: [] for t in targets}
    for round_ in range(args.rounds):
        order = targets if round_ % 2 == 0 else list(reversed(targets))
        for target in order:
            log(f"concurrency {concurrency}, round {round_ + 1}/{args.rounds}: {target.name}")
            before = cpu_seconds(target.pids)
            out[target.name] += await load(target, requests=args.requests, concurrency=concurrency)
            after = cpu_seconds(target.pids)
            if before is None or after is None or target.cpu_seconds is None:
                target.cpu_seconds = None
            else:
                target.cpu_seconds += after - before
    return out


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Start the provider and promptlane, benchmark both paths, stop them again."""
    admin = "pl_" + secrets.token_urlsafe(24)
    with (
        tempfile.TemporaryDirectory(prefix="promptlane-bench-") as tmp_name,
        servers_stopped_on_exit() as started,
    ):
        tmp = Path(tmp_name)
        started.append(provider := start_provider(tmp))
        started.append(promptlane := start_promptlane(tmp, admin))
        reader = seed(promptlane.url, admin, provider)
        direct_body = {"model": "bench-model", "messages": RENDERED, "temperature": 0.2}
        gateway_body = {"model": f"promptlane/{PROMPT}", "promptlane": {"variables": VARIABLES}}
        if args.stream:
            for body in (direct_body, gateway_body):
                body.update(stream=True, stream_options={"include_usage": True})
        chat = "/v1/chat/completions"
        targets = [
            Target("direct", provider.url + chat, direct_body, "sk-bench", [provider]),
            Target("gateway", promptlane.url + chat, gateway_body, reader, [promptlane, provider]),
        ]
        results = []
        for concurrency in args.concurrency:
            latencies = asyncio.run(measure(targets, args, concurrency))
            results.append(summarize(latencies, targets, args, concurrency))
    return results


def summarize(
    latencies: dict[str, list[float]],
    targets: Sequence[Target],
    args: argparse.Namespace,
    concurrency: int,
) -> dict[str, Any]:
    """Return the figures: both paths, the added p50 and the ratio, with the run's context."""
    direct, gateway = figures(latencies["direct"]), figures(latencies["gateway"])
    for target, out in zip(targets, (direct, gateway), strict=True):
        cpu = target.cpu_seconds
        count = len(latencies[target.name])
        out["server_cpu_ms_per_request"] = None if cpu is None else round(cpu / count * 1000, 3)
    added = round(gateway["p50_ms"] - direct["p50_ms"], 3)
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "concurrency": concurrency,
        "stream": args.stream,
        "requests_per_target": args.requests * args.rounds,
        "direct": direct,
        "gateway": gateway,
        "added_p50_ms": added,
        "added_p99_ms": round(gateway["p99_ms"] - direct["p99_ms"], 3),
        "ratio_p50": round(gateway["p50_ms"] / direct["p50_ms"], 2),
        "target_added_p50_ms": TARGET_ADDED_P50_MS,
        "meets_target": added <= TARGET_ADDED_P50_MS,
    }


def print_table(results: dict[str, Any]) -> None:
    """Print the figures for people."""
    kind = "streamed" if results["stream"] else "non-streamed"
    print(
        f"concurrency {results['concurrency']}, {results['requests_per_target']} {kind} "
        "requests each"
    )
    print(f"{'':10} {'p50 ms':>9} {'p90 ms':>9} {'p99 ms':>9} {'mean ms':>9} {'cpu ms':>9}")
    for name in ("direct", "gateway"):
        f = results[name]
        cells = " ".join(f"{f[k]:9.3f}" for k in ("p50_ms", "p90_ms", "p99_ms", "mean_ms"))
        cpu = f["server_cpu_ms_per_request"]
        print(f"{name:10} {cells} {'?' if cpu is None else f'{cpu:9.3f}'}")
    print("(cpu ms: server CPU per request, the provider's included; gateway minus direct is")
    print(" what promptlane spends on a call)")
    verdict = "meets" if results["meets_target"] else "misses"
    print(
        f"added p50 {results['added_p50_ms']:.3f} ms (target <= {TARGET_ADDED_P50_MS} ms: "
        f"{verdict}), ratio {results['ratio_p50']:.2f}x"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=positive(100_000), default=400, help="per round")
    parser.add_argument(
        "--concurrency",
        type=positive(256),
        nargs="+",
        default=[1, 8],
        help="one run per value (default: 1 8)",
    )
    parser.add_argument("--rounds", type=positive(20), default=3)
    parser.add_argument("--stream", action="store_true", help="streamed calls (SSE)")
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    parser.add_argument("--serve-provider", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return 0 unless something broke (slow figures never fail it)."""
    args = parse_args(argv)
    if args.serve_provider:
        serve_provider(args.serve_provider)
        return 0
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        results = run(args)
    except (BenchError, OSError, httpx.HTTPError) as exc:
        log(f"failed: {exc}")
        return 1
    except KeyboardInterrupt:
        log("interrupted; servers stopped")
        return 130
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for result in results:
            print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
