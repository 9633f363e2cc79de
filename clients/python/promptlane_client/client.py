"""The synchronous client: cached `get_prompt` for applications, and the whole REST API.

Requests are built by promptlane_client.endpoints and the cache's decisions are made by
promptlane_client.cache; this module only sends, on httpx.Client and worker threads.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx

from promptlane_client import endpoints
from promptlane_client.base import BaseClient
from promptlane_client.cache import (
    CacheCore,
    Clock,
    Entry,
    Miss,
    Selector,
    run,
)
from promptlane_client.errors import ConnectionFailedError
from promptlane_client.http import Call, check_response
from promptlane_client.methods.datasets import DatasetMethods
from promptlane_client.methods.webhooks import WebhookMethods
from promptlane_client.prompt import FallbackSource, Prompt
from promptlane_client.workers import RefreshWorkers

T = TypeVar("T")
Request = Callable[..., httpx.Response]


class PromptCache(CacheCore[httpx.Response]):
    """The sync client's prompt cache; thread-safe, refreshes on daemon threads."""

    def __init__(self, request: Request, *, ttl: float, clock: Clock = time.monotonic) -> None:
        super().__init__(request, ttl=ttl, clock=clock)
        self._loading: dict[tuple[str, Selector], threading.Lock] = {}
        self.workers = RefreshWorkers()

    def load(self, miss: Miss) -> Prompt:
        """Fetch a prompt that is not cached; callers of one key share one request."""
        with self.store.lock:
            key_lock = self._loading.setdefault(miss.key, threading.Lock())
        with key_lock:
            return run(self.fetch(miss), self._send)

    def _start(self, name: str, sel: Selector, entry: Entry) -> None:
        # The flow is made on the worker: the caller only hands over a closure.
        self.workers.submit(lambda: run(self.refresh(name, sel, entry), self._send))

    def close(self) -> None:
        """Stop refreshing (a refresh under way finishes, and is ignored)."""
        self.closed = True
        self.workers.shutdown()


class Client(
    BaseClient[httpx.BaseTransport, httpx.Client, PromptCache], WebhookMethods, DatasetMethods
):
    """Synchronous client of the promptlane REST API (thread-safe: share one per process)."""

    _pool_class = httpx.Client
    _cache_class = PromptCache

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool (background refreshes stop)."""
        self._prompts.close()
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request; raise APIError on 4xx/5xx and ConnectionFailedError if unreachable."""
        with self._answered():
            return check_response(self._http.request(method, path, **kwargs))

    def _send(self, call: Call[T]) -> T:
        return call.read(self.request(call.method, call.path, **call.options(self.timeout)))

    def get_prompt(
        self,
        name: str,
        *,
        label: str | None = None,
        version: int | None = None,
        fallback: FallbackSource | None = None,
        cache_ttl: float | None = None,
    ) -> Prompt:
        """Return a prompt by label (default production) or version, from the cache if it can.

        Fresh entries return at once; stale ones too, while one background thread revalidates
        them. Only a cold miss waits for the server; if that fails, `fallback` (a Prompt, text
        template, messages or version body) is used, else PromptUnavailableError (or APIError
        for a 4xx such as an unknown prompt) is raised. `cache_ttl` (seconds) applies to the
        entry this call loads; the client's default is 60.
        """
        prompts = self._prompts
        prompt = prompts.hit(name, label, version)
        if prompt is None:
            prompt = prompts.load(prompts.miss(name, label, version, fallback, cache_ttl))
        return prompt

    # --- prompts ---------------------------------------------------------------------------

    def list_prompts(self, **params: Any) -> dict[str, Any]:
        """List prompts (q, tag, label, archived, limit, offset)."""
        return self._send(endpoints.list_prompts(params))

    def plan_version(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Say what publishing a version would do: create_prompt, create_version or unchanged."""
        return self._send(endpoints.plan_version(name, body))

    def publish_version(self, name: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Publish a version; return it and whether it was created (False: identical exists)."""
        return self._send(endpoints.publish_version(name, body))

    def list_versions(self, name: str, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """List a prompt's versions, newest first."""
        return self._send(endpoints.list_versions(name, limit, offset))

    def resolve_prompt(
        self, name: str, *, label: str | None = None, version: int | None = None
    ) -> dict[str, Any]:
        """Return the version a label (default production) or number selects (uncached)."""
        return self._send(endpoints.resolve_prompt(name, label, version))

    def render_prompt(
        self,
        name: str,
        variables: dict[str, Any],
        *,
        label: str | None = None,
        version: int | None = None,
    ) -> dict[str, Any]:
        """Render a version server-side into messages and config."""
        return self._send(endpoints.render_prompt(name, variables, label, version))

    def diff_versions(self, name: str, from_version: int, to_version: int) -> dict[str, Any]:
        """Compare two versions."""
        return self._send(endpoints.diff_versions(name, from_version, to_version))

    def move_label(
        self, name: str, label: str, version: int, reason: str = "", *, force: bool = False
    ) -> dict[str, Any]:
        """Point a label at a version; return the audit event (`force` overrides a gate)."""
        return self._send(endpoints.move_label(name, label, version, reason, force))

    def list_labels(self, name: str) -> list[dict[str, Any]]:
        """List a prompt's labels."""
        return self._send(endpoints.list_labels(name))

    def label_history(
        self, name: str, label: str, *, limit: int = 50, offset: int = 0
    ) -> dict[str, Any]:
        """Return a label's audit trail, newest first."""
        return self._send(endpoints.label_history(name, label, limit, offset))

    def check_promotion(self, name: str, label: str, version: int) -> dict[str, Any]:
        """Dry-run moving a label to a version: the gate report."""
        return self._send(endpoints.check_promotion(name, label, version))

    def unset_label(self, name: str, label: str, reason: str = "") -> dict[str, Any]:
        """Unset a label; return the audit event (protected labels need an admin key)."""
        return self._send(endpoints.unset_label(name, label, reason))

    def archive(self, kind: endpoints.Archivable, name: str, reason: str = "") -> dict[str, Any]:
        """Archive a prompt, dataset or suite; return the audit event."""
        return self._send(endpoints.set_archived(kind, name, "archive", reason))

    def restore(self, kind: endpoints.Archivable, name: str, reason: str = "") -> dict[str, Any]:
        """Restore an archived prompt, dataset or suite; return the audit event."""
        return self._send(endpoints.set_archived(kind, name, "restore", reason))

    # --- suites, runs, policies ------------------------------------------------------------

    def push_suite(self, text: str) -> tuple[dict[str, Any], bool]:
        """Store a suite from its YAML (or JSON) text; return it and whether it is new."""
        return self._send(endpoints.push_suite(text))

    def list_suites(self, **params: Any) -> dict[str, Any]:
        """List suites (q, archived, limit, offset)."""
        return self._send(endpoints.list_suites(params))

    def get_suite(self, name: str, version: int | None = None) -> dict[str, Any]:
        """Return a suite's newest version, or the given one."""
        return self._send(endpoints.get_suite(name, version))

    def start_run(self, body: dict[str, Any]) -> dict[str, Any]:
        """Queue a run: {suite, prompt, version | label}."""
        return self._send(endpoints.start_run(body))

    def get_run(self, run_id: int) -> dict[str, Any]:
        """Return a run with its progress, summary, verdict and manifest."""
        return self._send(endpoints.get_run(run_id))

    def list_runs(self, **params: Any) -> dict[str, Any]:
        """List runs (prompt, suite, status, limit, offset)."""
        return self._send(endpoints.list_runs(params))

    def run_items(self, run_id: int, **params: Any) -> dict[str, Any]:
        """Return a page of a run's item results (failed, variant, limit, offset)."""
        return self._send(endpoints.run_items(run_id, params))

    def cancel_run(self, run_id: int) -> dict[str, Any]:
        """Ask a run to stop."""
        return self._send(endpoints.cancel_run(run_id))

    def resume_run(self, run_id: int) -> dict[str, Any]:
        """Resume a run whose worker went away."""
        return self._send(endpoints.resume_run(run_id))

    def compare_runs(self, a: int, b: int) -> dict[str, Any]:
        """Compare two runs (b minus a)."""
        return self._send(endpoints.compare_runs(a, b))

    def run_events(self, run_id: int) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield (event, data) server-sent progress events until the run finishes."""
        try:
            with self._http.stream("GET", endpoints.run_events_path(run_id), timeout=None) as sse:
                if sse.status_code >= 400:
                    sse.read()
                    self.get_run(run_id)  # raises the problem as APIError
                event = ""
                for line in sse.iter_lines():
                    if line.startswith("event: "):
                        event = line[len("event: ") :]
                    elif line.startswith("data: "):
                        yield event, json.loads(line[len("data: ") :])
        except httpx.TransportError as exc:
            # The server went away mid-stream: a connection error (CLI exit 2), not a crash
            # that CI would read as a failed gate (exit 1).
            raise ConnectionFailedError(
                f"lost promptlane at {self.url} while following run {run_id}: "
                f"{exc or type(exc).__name__}"
            ) from None

    def put_policy(self, label: str, body: dict[str, Any]) -> dict[str, Any]:
        """Set a label's promotion policy (admin)."""
        return self._send(endpoints.put_policy(label, body))

    def list_policies(self) -> list[dict[str, Any]]:
        """List promotion policies."""
        return self._send(endpoints.list_policies())

    def delete_policy(self, label: str, prompt: str | None = None, reason: str = "") -> None:
        """Remove a label's promotion policy (admin); the change is audited with `reason`."""
        self._send(endpoints.delete_policy(label, prompt, reason))

    def policy_history(self, **params: Any) -> dict[str, Any]:
        """List policy changes, newest first."""
        return self._send(endpoints.policy_history(params))

    def verify_audit(self) -> dict[str, Any]:
        """Check the audit chain and every gated move's evidence."""
        return self._send(endpoints.verify_audit())

    # --- keys and connections --------------------------------------------------------------

    def create_key(self, name: str, role: str) -> dict[str, Any]:
        """Create an API key (admin); the response holds the key, shown once."""
        return self._send(endpoints.create_key(name, role))

    def list_keys(self) -> list[dict[str, Any]]:
        """List API keys (admin)."""
        return self._send(endpoints.list_keys())

    def revoke_key(self, key_id: int) -> dict[str, Any]:
        """Revoke an API key (admin)."""
        return self._send(endpoints.revoke_key(key_id))

    def create_connection(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a provider connection (admin); its key is never returned."""
        return self._send(endpoints.create_connection(body))

    def list_connections(self) -> list[dict[str, Any]]:
        """List connections (never their keys)."""
        return self._send(endpoints.list_connections())

    def get_connection(self, name: str) -> dict[str, Any]:
        """Return one connection (never its key)."""
        return self._send(endpoints.get_connection(name))

    def update_connection(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Change a connection (admin): the fields in `body` replace the stored ones."""
        return self._send(endpoints.update_connection(name, body))

    def delete_connection(self, name: str) -> None:
        """Delete a connection (admin)."""
        self._send(endpoints.delete_connection(name))
