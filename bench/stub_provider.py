"""A lean OpenAI-compatible chat completions stub on 127.0.0.1 that answers after a fixed delay.

Benchmarks run it as a separate process (`start`), so its CPU is not the measured client's:
a bare asyncio protocol (HTTP/1.1, keep-alive, Content-Length bodies) that answers every POST
with one chat completion `--latency-ms` after the request arrived. The answer is the ticket's
category (`ticket number <i>` → billing, technical, account by i mod 3), so a runner's
exact-match scorer passes.

    .venv/bin/python bench/stub_provider.py --port 8123 --latency-ms 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Final

CATEGORIES: Final = ("billing", "technical", "account")
MODEL: Final = "bench-model"
_TICKET: Final = re.compile(rb"ticket number (\d+)")
_LENGTH: Final = re.compile(rb"(?im)^content-length:\s*(\d+)\s*$")


def completion(answer: str) -> bytes:
    """Return an HTTP/1.1 200 response carrying a chat completion of `answer`."""
    body = json.dumps(
        {
            "id": "chatcmpl-stub",
            "object": "chat.completion",
            "created": 0,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": answer},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13},
        }
    ).encode()
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    return head + body


ANSWERS: Final = {category: completion(category) for category in CATEGORIES}


class Stub(asyncio.Protocol):
    """One connection: parse each request, answer it after the delay."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        loop = asyncio.get_running_loop()
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            found = _LENGTH.search(self.buffer, 0, end)
            total = end + 4 + (int(found.group(1)) if found else 0)
            if len(self.buffer) < total:
                return
            body, self.buffer = self.buffer[end + 4 : total], self.buffer[total:]
            ticket = _TICKET.search(body)
            answer = CATEGORIES[int(ticket.group(1)) % 3] if ticket else CATEGORIES[0]
            loop.call_later(self.delay, self.reply, ANSWERS[answer])

    def reply(self, response: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(response)


async def serve(port: int, latency_ms: float) -> None:
    """Serve on 127.0.0.1:`port` until killed."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: Stub(latency_ms / 1000), "127.0.0.1", port, backlog=1024
    )
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(latency_ms: float) -> tuple[subprocess.Popen[bytes], str]:
    """Start the stub in its own process; return it and its OpenAI base URL (`.../v1`)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__)), "--port", str(port), "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != b"ready":  # empty: it exited
        process.kill()
        raise SystemExit("bench: the stub provider did not start")
    return process, f"http://127.0.0.1:{port}/v1"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    arguments = parser.parse_args()
    asyncio.run(serve(arguments.port, arguments.latency_ms))
