"""A local OpenAI-compatible HTTP server for tests: scripted replies, recorded requests.

It is a real server on 127.0.0.1 (a thread running `ThreadingHTTPServer`), so clients go
through their whole HTTP stack: connection pools, timeouts, SSE parsing, status mapping.

    server = FakeOpenAI().start()
    server.script(Step.status(429, retry_after=0), Step.ok("hello"))
    ...  # point a client at server.base_url
    assert len(server.requests) == 2
    server.stop()

Every POST takes the next scripted step (any endpoint, in order); once the script is empty,
chat completions echo the last user message and embeddings answer normally.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Step:
    """One scripted reply: a status, a body (or the default answer), headers, a delay."""

    status: int = 200
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    prompt_tokens: int = 7
    completion_tokens: int = 3
    tool_calls: tuple[dict[str, Any], ...] = ()
    break_stream: bool = False  # a stream sends its first chunk, then an error event
    message: str | None = None  # an error's message (default: "fake <status>")

    @classmethod
    def ok(cls, text: str, *, prompt_tokens: int = 7, completion_tokens: int = 3) -> Step:
        """Answer 200 with `text`."""
        return cls(text=text, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)

    @classmethod
    def tool_call(cls, name: str, arguments: dict[str, Any]) -> Step:
        """Answer 200 with one function call and no text."""
        call = {
            "id": "call_fake",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)},
        }
        return cls(text="", tool_calls=(call,))

    @classmethod
    def error(
        cls, status: int, *, retry_after: float | None = None, message: str | None = None
    ) -> Step:
        """Answer with an OpenAI-style error body (and `Retry-After` when given)."""
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        return cls(status=status, headers=headers, message=message)

    @classmethod
    def broken_stream(cls, text: str) -> Step:
        """Stream the first word of `text`, then an error event (no `[DONE]`)."""
        return cls(text=text, break_stream=True)

    @classmethod
    def hang(cls, seconds: float) -> Step:
        """Say nothing for `seconds` (or until the server stops), then answer 200."""
        return cls(delay=seconds)


@dataclass(frozen=True)
class Recorded:
    """A request the server received."""

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: dict[str, Any]


class FakeOpenAI:
    """The server: `script()` what it answers, read `requests` to see what it was asked."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._steps: deque[Step] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        # Handler threads may still be in a hang when the test ends; never wait for them.
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """Return the OpenAI-style base URL (`http://127.0.0.1:<port>/v1`)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> FakeOpenAI:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut hangs short and close the socket."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def script(self, *steps: Step) -> None:
        """Queue replies for the next POSTs, in order."""
        with self._lock:
            self._steps.extend(steps)

    def paths(self) -> list[str]:
        """Return the paths of the requests received so far, in order."""
        with self._lock:
            return [r.path for r in self.requests]

    def _take(self, request: Recorded) -> Step:
        with self._lock:
            self.requests.append(request)
            return self._steps.popleft() if self._steps else Step()

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return  # keep test output clean

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                body = {"object": "list", "data": [{"id": "fake", "object": "model"}]}
                _send_json(self, 200, body)
            else:
                _send_json(self, 404, _error_body(404))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            body = json.loads(raw or b"{}")
            headers = {name.lower(): value for name, value in self.headers.items()}
            request = Recorded("POST", self.path, headers, body)
            step = fake._take(request)
            if step.delay:
                fake._wait(step.delay)
            try:
                _reply(self, request, step)
            except (BrokenPipeError, ConnectionResetError):
                return  # the client gave up (a timeout test); nothing left to tell it

    return Handler


def _reply(handler: BaseHTTPRequestHandler, request: Recorded, step: Step) -> None:
    if step.status != 200:
        _send_json(handler, step.status, _error_body(step.status, step.message), step.headers)
    elif request.path.endswith("/embeddings"):
        _send_json(handler, 200, embeddings_body(request.body), step.headers)
    elif request.path.endswith("/chat/completions"):
        text = step.text if step.text is not None else _last_user_text(request.body)
        if request.body.get("stream"):
            _send_stream(handler, request.body, text, step)
        else:
            _send_json(handler, 200, _chat_body(request.body, text, step), step.headers)
    else:
        _send_json(handler, 404, _error_body(404))


def _send_json(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


def _send_stream(
    handler: BaseHTTPRequestHandler, body: dict[str, Any], text: str, step: Step
) -> None:
    # HTTP/1.0 without Content-Length: the body ends when the connection closes.
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Cache-Control", "no-cache")
    for name, value in step.headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    words = text.split(" ")
    pieces = [w if i == 0 else f" {w}" for i, w in enumerate(words)]
    for i, piece in enumerate(pieces):
        delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
        _send_event(handler, _chunk(body, delta, None))
        if step.break_stream:
            _send_event(handler, {"error": {"message": "overloaded", "type": "server_error"}})
            handler.wfile.flush()
            return
    final = _chunk(body, {}, "stop")
    if (body.get("stream_options") or {}).get("include_usage"):
        final["usage"] = _usage(step)
    _send_event(handler, final)
    handler.wfile.write(b"data: [DONE]\n\n")
    handler.wfile.flush()


def _send_event(handler: BaseHTTPRequestHandler, payload: dict[str, Any]) -> None:
    handler.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
    handler.wfile.flush()


def _chunk(body: dict[str, Any], delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _chat_body(body: dict[str, Any], text: str, step: Step) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": _message(text, step),
                "finish_reason": "tool_calls" if step.tool_calls else "stop",
            }
        ],
        "usage": _usage(step),
    }


def _message(text: str, step: Step) -> dict[str, Any]:
    if step.tool_calls:
        return {"role": "assistant", "content": None, "tool_calls": list(step.tool_calls)}
    return {"role": "assistant", "content": text}


def _usage(step: Step) -> dict[str, int]:
    return {
        "prompt_tokens": step.prompt_tokens,
        "completion_tokens": step.completion_tokens,
        "total_tokens": step.prompt_tokens + step.completion_tokens,
    }


def _error_body(status: int, message: str | None = None) -> dict[str, Any]:
    kinds = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error"}
    kind = kinds.get(status, "server_error")
    text = message or f"fake {status}"
    return {"error": {"message": text, "type": kind, "param": None, "code": None}}


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            return str(message["content"])
    return ""


def fake_embedding(text: str, dimensions: int = 8) -> list[float]:
    """Return the deterministic unit vector the server answers for `text`."""
    digest = hashlib.sha256(text.encode()).digest()
    values = [(digest[i] / 127.5) - 1.0 for i in range(dimensions)]
    norm = sum(v * v for v in values) ** 0.5 or 1.0
    return [v / norm for v in values]


def embeddings_body(body: dict[str, Any]) -> dict[str, Any]:
    """Return the embeddings response for a request body (one vector per input string)."""
    inputs = body.get("input")
    texts = [inputs] if isinstance(inputs, str) else [str(i) for i in inputs or []]
    tokens = sum(len(t.split()) for t in texts)
    as_base64 = body.get("encoding_format") == "base64"
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": _vector(t, as_base64=as_base64)}
            for i, t in enumerate(texts)
        ],
        "model": body.get("model", "fake"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _vector(text: str, *, as_base64: bool) -> list[float] | str:
    # The openai SDK asks for base64 (little-endian float32) unless told otherwise.
    values = fake_embedding(text)
    if not as_base64:
        return values
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()
