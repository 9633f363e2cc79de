"""Benchmark promptlane's resolve endpoint against a bare FastAPI app that returns the same bytes.

Starts `promptlane serve` and bench/bare_app.py on 127.0.0.1 (same uvicorn arguments, one
worker each), seeds one prompt, then drives both with wrk in interleaved rounds and prints the
median throughput and latency of each target and the resolve/bare ratios. A second promptlane
with tracing on (OTLP/HTTP export to the bare app's sink) gives the traced/untraced ratio.
Timings never make it fail; a server that does not start, a wrong response or a missing wrk
does.

    .venv/bin/python bench/resolve.py [--duration 8] [--connections 32] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any, Final, NoReturn

import httpx

HOST: Final = "127.0.0.1"
BENCH_DIR: Final = Path(__file__).resolve().parent
REPO: Final = BENCH_DIR.parent
PROMPTLANE: Final = Path(sys.executable).parent / "promptlane"
PROMPT: Final = "bench/support-triage"
RESOLVE_PATH: Final = f"/v1/prompts/{PROMPT}"
TARGET_RATIO: Final = 0.70
TRACED_TARGET_RATIO: Final = 0.90
WRK_THREADS: Final = 1
STARTUP_TIMEOUT: Final = 60.0
VERSION: Final[dict[str, Any]] = {
    "messages": [
        {
            "role": "system",
            "content": "You are a support triage assistant for {{company}}. Classify the ticket.",
        },
        {"role": "user", "content": "{{ticket}}"},
    ],
    "config": {"model": "openai/gpt-4o-mini", "temperature": 0.2, "max_tokens": 256},
    "message": "bench",
}
_LATENCY_UNITS_MS: Final = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


class BenchError(Exception):
    """Something broke (not a slow figure): a server, a response or the load generator."""


@dataclass
class Server:
    """A server process started by the benchmark."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 20) -> str:
        """Return the last lines the server printed."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Terminate the process, then kill it if it does not exit within 10 s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass(frozen=True)
class Target:
    """One URL to load, with the headers wrk sends and the status every response must have."""

    name: str
    label: str
    url: str
    headers: tuple[str, ...]
    status: int


@dataclass(frozen=True)
class WrkResult:
    """The figures parsed from one wrk run."""

    requests_per_sec: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad_responses: int
    socket_errors: int


def positive(upper: int) -> Callable[[str], int]:
    """Return an argparse type accepting integers in 1..`upper` (keeps the run bounded)."""

    def parse(text: str) -> int:
        value = int(text)
        if not 1 <= value <= upper:
            raise argparse.ArgumentTypeError(f"must be between 1 and {upper}")
        return value

    return parse


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=positive(120), default=8, help="seconds per wrk run")
    parser.add_argument("--connections", type=positive(1024), default=32, help="wrk -c")
    parser.add_argument("--rounds", type=positive(20), default=3, help="interleaved rounds")
    parser.add_argument("--warmup", type=positive(30), default=2, help="seconds per target, once")
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    return parser.parse_args(argv)


def free_port() -> int:
    """Return a port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_server(
    name: str, command: list[str], env: dict[str, str], port: int, probe: str, log_file: Path
) -> Server:
    """Start a server process and wait until `probe` answers 200; stop it if that fails."""
    with log_file.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, f"http://{HOST}:{port}", process, log_file)
    try:
        wait_ready(server, probe)
    except BaseException:
        server.stop()
        raise
    return server


def wait_ready(server: Server, probe: str) -> None:
    """Poll `probe` until it answers 200; raise BenchError if the server exits or times out."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            code = server.process.returncode
            raise BenchError(f"{server.name} exited with {code}:\n{server.tail()}")
        try:
            if httpx.get(server.url + probe, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise BenchError(
        f"{server.name} did not answer {probe} within {STARTUP_TIMEOUT:.0f} s:\n{server.tail()}"
    )


def promptlane_env(tmp: Path, admin_key: str, name: str = "bench") -> dict[str, str]:
    """Return the environment for `promptlane serve`: the caller's minus PROMPTLANE_*/OTEL_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMPTLANE_", "OTEL_"))}
    env.update(
        PROMPTLANE_DATABASE_URL=f"sqlite:///{tmp / f'{name}.db'}",
        PROMPTLANE_BOOTSTRAP_ADMIN_KEY=admin_key,
        PROMPTLANE_CREDENTIALS_FILE=str(tmp / "credentials.json"),
        PROMPTLANE_SECRET_KEY_FILE=str(tmp / "secret.key"),
        PROMPTLANE_LOG_LEVEL="warning",
    )
    return env


def expect(response: httpx.Response, status: int, what: str) -> httpx.Response:
    """Return `response` if it has `status`, else raise BenchError."""
    if response.status_code != status:
        raise BenchError(f"{what}: HTTP {response.status_code}, expected {status}")
    return response


def seed(url: str, admin_key: str) -> tuple[bytes, str]:
    """Publish the bench prompt, label it production, and return the resolve body and ETag."""
    auth = {"Authorization": f"Bearer {admin_key}"}
    with httpx.Client(base_url=url, headers=auth, timeout=10) as client:
        expect(client.post(f"{RESOLVE_PATH}/versions", json=VERSION), 201, "publish version")
        move = {"version": 1, "reason": "bench"}
        expect(client.put(f"{RESOLVE_PATH}/labels/production", json=move), 200, "move label")
        resolved = expect(client.get(RESOLVE_PATH), 200, "resolve")
    etag = resolved.headers.get("etag")
    if not etag:
        raise BenchError("resolve: the response has no ETag")
    return resolved.content, etag


def check_target(target: Target, body: bytes) -> None:
    """Send one request as wrk will and check the status (and the body, on a 200)."""
    headers = dict(h.split(": ", 1) for h in target.headers)
    response = expect(
        httpx.get(target.url, headers=headers, timeout=10), target.status, target.name
    )
    if target.status == 200 and response.content != body:
        raise BenchError(f"{target.name}: the body differs from the resolve body")


def latency_ms(text: str) -> float:
    """Convert a wrk latency such as `1.23ms` or `850.00us` to milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise BenchError(f"wrk: unreadable latency {text!r}")
    return float(match[1]) * _LATENCY_UNITS_MS[match[2]]


def parse_wrk(output: str) -> WrkResult:
    """Parse the output of `wrk --latency`."""
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    if rate is None or p50 is None or p99 is None or total is None:
        raise BenchError(f"wrk: unexpected output:\n{output}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests_per_sec=float(rate[1]),
        p50_ms=latency_ms(p50[1]),
        p99_ms=latency_ms(p99[1]),
        requests=int(total[1]),
        bad_responses=int(bad[1]) if bad else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def run_wrk(wrk: str, target: Target, *, duration: int, connections: int) -> WrkResult:
    """Load `target` with wrk for `duration` seconds and return the parsed figures."""
    command = [wrk, f"-t{WRK_THREADS}", f"-c{connections}", f"-d{duration}s", "--latency"]
    command += ["--timeout", "5s"]
    for header in target.headers:
        command += ["-H", header]
    done = subprocess.run(
        [*command, target.url], capture_output=True, text=True, timeout=duration + 30, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"wrk exited with {done.returncode}: {done.stderr.strip()}")
    result = parse_wrk(done.stdout)
    if result.bad_responses:
        raise BenchError(f"{target.name}: {result.bad_responses} responses had a wrong status")
    return result


def measure(
    wrk: str, targets: list[Target], args: argparse.Namespace
) -> dict[str, list[WrkResult]]:
    """Warm every target up once, then run interleaved rounds; return each target's runs."""
    for target in targets:
        log(f"warm-up {target.name} ({args.warmup} s)")
        run_wrk(wrk, target, duration=args.warmup, connections=args.connections)
    runs: dict[str, list[WrkResult]] = {t.name: [] for t in targets}
    for number in range(1, args.rounds + 1):
        for target in targets:
            result = run_wrk(wrk, target, duration=args.duration, connections=args.connections)
            runs[target.name].append(result)
            log(f"round {number}/{args.rounds} {target.name}: {result.requests_per_sec:.0f} req/s")
    return runs


def summarize(
    targets: list[Target], runs: dict[str, list[WrkResult]], args: argparse.Namespace, size: int
) -> dict[str, Any]:
    """Return medians per target, the ratios against the bare baseline, and the setup."""
    rows: dict[str, dict[str, Any]] = {}
    for target in targets:
        results = runs[target.name]
        rows[target.name] = {
            "label": target.label,
            "requests_per_sec": statistics.median(r.requests_per_sec for r in results),
            "p50_ms": statistics.median(r.p50_ms for r in results),
            "p99_ms": statistics.median(r.p99_ms for r in results),
            "socket_errors": sum(r.socket_errors for r in results),
            "rounds": [asdict(r) for r in results],
        }
    bare = rows["bare"]["requests_per_sec"]
    for row in rows.values():
        row["ratio"] = row["requests_per_sec"] / bare
        row["meets_target"] = row["ratio"] >= TARGET_RATIO
    traced = rows["resolve_traced"]
    traced["ratio_untraced"] = traced["requests_per_sec"] / rows["resolve"]["requests_per_sec"]
    traced["meets_traced_target"] = traced["ratio_untraced"] >= TRACED_TARGET_RATIO
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "versions": {
            "python": platform.python_version(),
            **{name: version(name) for name in ("fastapi", "starlette", "uvicorn")},
        },
        "parameters": {
            "wrk": f"-t{WRK_THREADS} -c{args.connections} -d{args.duration}s --latency",
            "warmup_s": args.warmup,
            "rounds": args.rounds,
            "body_bytes": size,
        },
        "target_ratio": TARGET_RATIO,
        "traced_target_ratio": TRACED_TARGET_RATIO,
        "targets": rows,
    }


def print_table(results: dict[str, Any]) -> None:
    """Print the medians and ratios as a small table."""
    params = results["parameters"]
    print(
        f"\nresolve vs bare FastAPI: {params['rounds']} interleaved rounds of wrk {params['wrk']}"
        f" (medians), {params['body_bytes']}-byte body, {results['machine']['cpus']} CPUs"
    )
    print(f"{'target':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs bare':>8}")
    for name, row in results["targets"].items():
        verdict = "" if name == "bare" else ("  meets" if row["meets_target"] else "  below")
        if verdict:
            verdict += f" {TARGET_RATIO:.2f}"
        print(
            f"{row['label']:<34} {row['requests_per_sec']:>9.0f} {row['p50_ms']:>8.2f}"
            f" {row['p99_ms']:>8.2f} {row['ratio']:>8.2f}{verdict}"
        )
        if row["socket_errors"]:
            print(f"  ({row['socket_errors']} socket errors reported by wrk)")
    traced = results["targets"]["resolve_traced"]
    verdict = "meets" if traced["meets_traced_target"] else "below"
    print(f"tracing on / off: {traced['ratio_untraced']:.2f} ({verdict} {TRACED_TARGET_RATIO:.2f})")


def log(message: str) -> None:
    """Report progress on stderr, so --json output stays clean."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


@contextmanager
def servers_stopped_on_exit() -> Iterator[list[Server]]:
    """Yield a list to register servers in; stop them all on exit, however it happens."""
    started: list[Server] = []
    try:
        yield started
    finally:
        for server in reversed(started):
            server.stop()


def targets_for(
    promptlane: Server, traced: Server, bare: Server, key: str, etag: str
) -> list[Target]:
    """Return the four targets; every request carries the same Authorization header."""
    auth = f"Authorization: Bearer {key}"
    return [
        Target("bare", "bare FastAPI (200)", bare.url + RESOLVE_PATH, (auth,), 200),
        Target("resolve", "promptlane resolve (200)", promptlane.url + RESOLVE_PATH, (auth,), 200),
        Target(
            "resolve_304",
            "promptlane resolve (304)",
            promptlane.url + RESOLVE_PATH,
            (auth, f"If-None-Match: {etag}"),
            304,
        ),
        Target(
            "resolve_traced",
            "promptlane resolve, traced (200)",
            traced.url + RESOLVE_PATH,
            (auth,),
            200,
        ),
    ]


def start_promptlane(tmp: Path, key: str, *, traces_to: str | None = None) -> Server:
    """Start `promptlane serve` on a fresh SQLite database in `tmp`.

    With `traces_to` (an OTLP/HTTP traces URL), tracing is on and exports there.
    """
    port = free_port()
    command = [str(PROMPTLANE), "serve", "--host", HOST, "--port", str(port)]
    name = "promptlane-traced" if traces_to else "promptlane"
    log(f"starting {name}")
    env = promptlane_env(tmp, key, name)
    if traces_to:
        env.update(PROMPTLANE_TRACING_EXPORTER="otlp", PROMPTLANE_TRACING_ENDPOINT=traces_to)
    return start_server(name, command, env, port, "/readyz", tmp / f"{name}.log")


def start_bare(tmp: Path, body: bytes) -> Server:
    """Start bench/bare_app.py serving `body` on the resolve path."""
    port = free_port()
    (tmp / "body.json").write_bytes(body)
    env = {**os.environ, "BENCH_BODY_FILE": str(tmp / "body.json"), "BENCH_PATH": RESOLVE_PATH}
    command = [sys.executable, str(BENCH_DIR / "bare_app.py"), "--port", str(port)]
    log("starting the bare FastAPI app")
    return start_server("bare app", command, env, port, RESOLVE_PATH, tmp / "bare.log")


def run(args: argparse.Namespace, wrk: str) -> dict[str, Any]:
    """Start both servers in a temp dir, benchmark them, and stop them again."""
    key = "pl_" + secrets.token_urlsafe(24)
    with (
        tempfile.TemporaryDirectory(prefix="promptlane-bench-") as tmp_name,
        servers_stopped_on_exit() as started,
    ):
        tmp = Path(tmp_name)
        started.append(promptlane := start_promptlane(tmp, key))
        body, etag = seed(promptlane.url, key)
        started.append(bare := start_bare(tmp, body))
        started.append(traced := start_promptlane(tmp, key, traces_to=bare.url + "/v1/traces"))
        traced_body, _ = seed(traced.url, key)  # its own timestamps: compare with its own body
        targets = targets_for(promptlane, traced, bare, key, etag)
        for target in targets:
            check_target(target, traced_body if target.name == "resolve_traced" else body)
        runs = measure(wrk, targets, args)
    return summarize(targets, runs, args, len(body))


def _terminate(signum: int, frame: object) -> NoReturn:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return 0 unless something broke (slow figures never fail it)."""
    args = parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        log("wrk is not installed: run `apt-get install -y wrk` (as root) and try again")
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    per_run = (args.duration * args.rounds + args.warmup) * 4
    log(f"about {per_run} s of load, plus server start-up")
    try:
        results = run(args, wrk)
    except (BenchError, OSError, subprocess.TimeoutExpired, httpx.HTTPError) as exc:
        log(f"failed: {exc}")
        return 1
    except KeyboardInterrupt:
        log("interrupted; servers stopped")
        return 130
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
