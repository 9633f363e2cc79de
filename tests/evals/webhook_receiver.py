"""A real webhook receiver on 127.0.0.1: verifies with `standardwebhooks`, deduplicates by id."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Inbox:
    """What the receiver saw: processed messages by webhook-id, duplicates, refusals."""

    secret: str
    delay: float = 0.0
    processed: dict[str, Any] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def receive(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """Verify and process one request; return the status and text to answer."""
        time.sleep(self.delay)
        try:
            payload = Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError as exc:
            with self.lock:
                self.refused.append(str(exc))
            return 400, f"refused: {exc}".encode()
        msg_id = headers["webhook-id"]
        with self.lock:
            if msg_id in self.processed:
                self.duplicates.append(msg_id)
            else:
                self.processed[msg_id] = payload
        return 204, b""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def receiver(inbox: Inbox, port: int = 0) -> Iterator[str]:
    """Serve `inbox` on 127.0.0.1 (on `port`, or any free one); yield its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status, text = inbox.receive(body, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(status)
            self.send_header("content-length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
