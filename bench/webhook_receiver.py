"""A fast webhook receiver and a black hole on 127.0.0.1, in one process, for bench/webhooks.py.

The receiver is a bare asyncio protocol (HTTP/1.1, keep-alive, Content-Length bodies) that
answers every POST `204` at once and counts the distinct `webhook-id`s per path; `GET /stats`
answers the counts and, per first path segment, the receiver's monotonic times of the first and
the last POST. The black hole accepts TCP connections, reads what arrives and never answers.

    .venv/bin/python bench/webhook_receiver.py --port 8123 --black-hole-port 8124
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

_LENGTH: Final = re.compile(rb"(?im)^content-length:\s*(\d+)\s*$")
_ID: Final = re.compile(rb"(?im)^webhook-id:\s*(\S+)\s*$")
_NO_CONTENT: Final = b"HTTP/1.1 204 No Content\r\n\r\n"


class Counts:
    """What the receiver saw: distinct ids per path, every POST, first and last POST times."""

    def __init__(self) -> None:
        self.seen: dict[bytes, set[bytes]] = {}
        self.posts = 0
        self.times: dict[str, list[float]] = {}  # first path segment: [first, last]

    def add(self, path: bytes, webhook_id: bytes) -> None:
        """Count one POST."""
        now = time.monotonic()
        segment = path.split(b"/")[1].decode() if path.count(b"/") > 1 else ""
        self.times.setdefault(segment, [now, now])[1] = now
        self.posts += 1
        self.seen.setdefault(path, set()).add(webhook_id)

    def stats(self) -> bytes:
        """Return the counts as an HTTP response."""
        body = json.dumps(
            {
                "posts": self.posts,
                "distinct": sum(len(ids) for ids in self.seen.values()),
                "paths": {k.decode(): len(v) for k, v in self.seen.items()},
                "times": self.times,
            }
        ).encode()
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
        return head + str(len(body)).encode() + b"\r\n\r\n" + body


class Receiver(asyncio.Protocol):
    """One connection: parse each request, answer it at once."""

    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            found = _LENGTH.search(self.buffer, 0, end)
            total = end + 4 + (int(found.group(1)) if found else 0)
            if len(self.buffer) < total:
                return
            head, self.buffer = self.buffer[:end], self.buffer[total:]
            method, path = head.split(b" ", 2)[:2]
            if method == b"GET":
                answer = self.counts.stats()
            else:
                webhook_id = _ID.search(head)
                self.counts.add(path, webhook_id.group(1) if webhook_id else b"")
                answer = _NO_CONTENT
            assert self.transport is not None
            self.transport.write(answer)


class BlackHole(asyncio.Protocol):
    """Accept, read and never answer (the connection stays open until the client gives up)."""

    def data_received(self, data: bytes) -> None:
        return None


async def serve(port: int, black_hole_port: int) -> None:
    """Serve both on 127.0.0.1 until killed."""
    loop = asyncio.get_running_loop()
    counts = Counts()
    receiver = await loop.create_server(lambda: Receiver(counts), "127.0.0.1", port, backlog=1024)
    hole = await loop.create_server(BlackHole, "127.0.0.1", black_hole_port, backlog=1024)
    print("ready", flush=True)
    async with receiver, hole:
        await asyncio.gather(receiver.serve_forever(), hole.serve_forever())


def start(port: int, black_hole_port: int) -> subprocess.Popen[bytes]:
    """Start both in their own process (so their CPU is not the server's nor the bench's)."""
    command = [sys.executable, str(Path(__file__)), "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--black-hole-port", str(black_hole_port)],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != b"ready":  # empty: it exited
        process.kill()
        raise SystemExit("bench: the webhook receiver did not start")
    return process


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--black-hole-port", type=int, required=True)
    arguments = parser.parse_args()
    asyncio.run(serve(arguments.port, arguments.black_hole_port))
