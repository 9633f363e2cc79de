"""HTTP client for the promptlane API (importable without the server's dependencies).

Applications call `Client.get_prompt` / `AsyncClient.get_prompt` on every request: cached,
stale-while-revalidate, with fallbacks and snapshots (see api/sdk/cache.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from api.sdk.aio import AsyncClient
from api.sdk.cache import DEFAULT_CACHE_TTL, PromptCache
from api.sdk.errors import (
    APIError,
    ConnectionFailedError,
    PromptlaneError,
    PromptUnavailableError,
    SnapshotError,
)
from api.sdk.http import (
    DEFAULT_URL,
    check_response,
    connection_failed,
    default_headers,
    prompt_path,
)
from api.sdk.prompt import FallbackSource, Prompt
from api.sdk.snapshot import read_snapshot
from prompts.errors import MissingVariablesError, RenderError
from prompts.render import Rendered

__all__ = [
    "DEFAULT_URL",
    "APIError",
    "AsyncClient",
    "Client",
    "ConnectionFailedError",
    "MissingVariablesError",
    "Prompt",
    "PromptUnavailableError",
    "PromptlaneError",
    "RenderError",
    "Rendered",
    "SnapshotError",
    "prompt_path",
]


class Client:
    """Synchronous client of the promptlane REST API."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        api_key: str | None = None,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        cache_ttl: float = DEFAULT_CACHE_TTL,
        snapshot: str | Path | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url,
            headers=default_headers(api_key),
            timeout=timeout,
            transport=transport,
        )
        self._prompts = PromptCache(self.request, ttl=cache_ttl)
        if snapshot is not None:
            self._prompts.store.seed(read_snapshot(snapshot))

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool (background refreshes stop)."""
        self._prompts.close()
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request; raise APIError on 4xx/5xx and ConnectionFailedError if unreachable."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise connection_failed(self.url, exc) from None
        return check_response(response)

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
        return self._prompts.get(name, label, version, fallback=fallback, cache_ttl=cache_ttl)

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()

    # --- prompts ---------------------------------------------------------------------------

    def list_prompts(self, **params: Any) -> dict[str, Any]:
        """List prompts (q, tag, label, limit, offset)."""
        clean = {k: v for k, v in params.items() if v is not None}
        result: dict[str, Any] = self._json("GET", "/v1/prompts", params=clean)
        return result

    def publish_version(self, name: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Publish a version; return it and whether it was created (False: identical exists)."""
        response = self.request("POST", prompt_path(name) + "/versions", json=body)
        return response.json(), response.status_code == 201

    def list_versions(self, name: str, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """List a prompt's versions, newest first."""
        params = {"limit": limit, "offset": offset}
        result: dict[str, Any] = self._json("GET", prompt_path(name) + "/versions", params=params)
        return result

    def resolve_prompt(
        self, name: str, *, label: str | None = None, version: int | None = None
    ) -> dict[str, Any]:
        """Return the version a label (default production) or number selects."""
        params: dict[str, Any] = {}
        if label is not None:
            params["label"] = label
        if version is not None:
            params["version"] = version
        result: dict[str, Any] = self._json("GET", prompt_path(name), params=params)
        return result

    def render_prompt(
        self,
        name: str,
        variables: dict[str, Any],
        *,
        label: str | None = None,
        version: int | None = None,
    ) -> dict[str, Any]:
        """Render a version server-side into messages and config."""
        body: dict[str, Any] = {"variables": variables}
        if label is not None:
            body["label"] = label
        if version is not None:
            body["version"] = version
        result: dict[str, Any] = self._json("POST", prompt_path(name) + "/render", json=body)
        return result

    def diff_versions(self, name: str, from_version: int, to_version: int) -> dict[str, Any]:
        """Compare two versions."""
        params = {"from": from_version, "to": to_version}
        result: dict[str, Any] = self._json("GET", prompt_path(name) + "/diff", params=params)
        return result

    def move_label(
        self, name: str, label: str, version: int, reason: str = "", *, force: bool = False
    ) -> dict[str, Any]:
        """Point a label at a version; return the audit event (`force` overrides a gate)."""
        body = {"version": version, "reason": reason, "force": force}
        path = f"{prompt_path(name)}/labels/{quote(label, safe='')}"
        result: dict[str, Any] = self._json("PUT", path, json=body)
        return result

    def list_labels(self, name: str) -> list[dict[str, Any]]:
        """List a prompt's labels."""
        result: list[dict[str, Any]] = self._json("GET", prompt_path(name) + "/labels")
        return result

    def label_history(
        self, name: str, label: str, *, limit: int = 50, offset: int = 0
    ) -> dict[str, Any]:
        """Return a label's audit trail, newest first."""
        path = f"{prompt_path(name)}/labels/{quote(label, safe='')}/history"
        result: dict[str, Any] = self._json("GET", path, params={"limit": limit, "offset": offset})
        return result

    def check_promotion(self, name: str, label: str, version: int) -> dict[str, Any]:
        """Dry-run moving a label to a version: the gate report."""
        path = f"{prompt_path(name)}/labels/{quote(label, safe='')}/check"
        result: dict[str, Any] = self._json("GET", path, params={"version": version})
        return result

    # --- suites, runs, policies ------------------------------------------------------------

    def push_suite(self, text: str) -> tuple[dict[str, Any], bool]:
        """Store a suite from its YAML (or JSON) text; return it and whether it is new."""
        response = self.request(
            "POST",
            "/v1/suites",
            content=text.encode(),
            headers={"Content-Type": "application/yaml"},
        )
        return response.json(), response.status_code == 201

    def list_suites(self, **params: Any) -> dict[str, Any]:
        """List suites (q, limit, offset)."""
        clean = {k: v for k, v in params.items() if v is not None}
        result: dict[str, Any] = self._json("GET", "/v1/suites", params=clean)
        return result

    def get_suite(self, name: str, version: int | None = None) -> dict[str, Any]:
        """Return a suite's newest version, or the given one."""
        path = f"/v1/suites/{quote(name, safe='/')}"
        if version is not None:
            path += f"/versions/{version}"
        result: dict[str, Any] = self._json("GET", path)
        return result

    def start_run(self, body: dict[str, Any]) -> dict[str, Any]:
        """Queue a run: {suite, prompt, version | label}."""
        result: dict[str, Any] = self._json("POST", "/v1/runs", json=body)
        return result

    def get_run(self, run_id: int) -> dict[str, Any]:
        """Return a run with its progress, summary, verdict and manifest."""
        result: dict[str, Any] = self._json("GET", f"/v1/runs/{run_id}")
        return result

    def list_runs(self, **params: Any) -> dict[str, Any]:
        """List runs (prompt, suite, status, limit, offset)."""
        clean = {k: v for k, v in params.items() if v is not None}
        result: dict[str, Any] = self._json("GET", "/v1/runs", params=clean)
        return result

    def run_items(self, run_id: int, **params: Any) -> dict[str, Any]:
        """Return a page of a run's item results (failed, variant, limit, offset)."""
        result: dict[str, Any] = self._json("GET", f"/v1/runs/{run_id}/items", params=params)
        return result

    def cancel_run(self, run_id: int) -> dict[str, Any]:
        """Ask a run to stop."""
        result: dict[str, Any] = self._json("POST", f"/v1/runs/{run_id}/cancel")
        return result

    def resume_run(self, run_id: int) -> dict[str, Any]:
        """Resume a run whose worker went away."""
        result: dict[str, Any] = self._json("POST", f"/v1/runs/{run_id}/resume")
        return result

    def compare_runs(self, a: int, b: int) -> dict[str, Any]:
        """Compare two runs (b minus a)."""
        result: dict[str, Any] = self._json("GET", "/v1/runs/compare", params={"a": a, "b": b})
        return result

    def run_events(self, run_id: int) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield (event, data) server-sent progress events until the run finishes."""
        path = f"/v1/runs/{run_id}/events"
        try:
            with self._http.stream("GET", path, timeout=None) as response:
                if response.status_code >= 400:
                    response.read()
                    self.request("GET", f"/v1/runs/{run_id}")  # raises the problem as APIError
                event = ""
                for line in response.iter_lines():
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
        path = f"/v1/policies/{quote(label, safe='')}"
        result: dict[str, Any] = self._json("PUT", path, json=body)
        return result

    def list_policies(self) -> list[dict[str, Any]]:
        """List promotion policies."""
        result: list[dict[str, Any]] = self._json("GET", "/v1/policies")
        return result

    def delete_policy(self, label: str, prompt: str | None = None, reason: str = "") -> None:
        """Remove a label's promotion policy (admin); the change is audited with `reason`."""
        params = {"prompt": prompt, "reason": reason} if prompt else {"reason": reason}
        self.request("DELETE", f"/v1/policies/{quote(label, safe='')}", params=params)

    def policy_history(self, **params: Any) -> dict[str, Any]:
        """List policy changes, newest first."""
        result: dict[str, Any] = self._json("GET", "/v1/policies/history", params=params)
        return result

    def verify_audit(self) -> dict[str, Any]:
        """Check the audit chain and every gated move's evidence."""
        result: dict[str, Any] = self._json("GET", "/v1/audit/verify")
        return result

    # --- keys ------------------------------------------------------------------------------

    def create_key(self, name: str, role: str) -> dict[str, Any]:
        """Create an API key (admin); the response holds the key, shown once."""
        result: dict[str, Any] = self._json("POST", "/v1/keys", json={"name": name, "role": role})
        return result

    def list_keys(self) -> list[dict[str, Any]]:
        """List API keys (admin)."""
        result: list[dict[str, Any]] = self._json("GET", "/v1/keys")
        return result

    def revoke_key(self, key_id: int) -> dict[str, Any]:
        """Revoke an API key (admin)."""
        result: dict[str, Any] = self._json("POST", f"/v1/keys/{key_id}/revoke")
        return result

    # --- connections -----------------------------------------------------------------------

    def create_connection(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a provider connection (admin); its key is never returned."""
        result: dict[str, Any] = self._json("POST", "/v1/connections", json=body)
        return result

    def list_connections(self) -> list[dict[str, Any]]:
        """List connections (never their keys)."""
        result: list[dict[str, Any]] = self._json("GET", "/v1/connections")
        return result

    def get_connection(self, name: str) -> dict[str, Any]:
        """Return one connection (never its key)."""
        result: dict[str, Any] = self._json("GET", f"/v1/connections/{quote(name, safe='')}")
        return result

    def update_connection(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Change a connection (admin): the fields in `body` replace the stored ones."""
        path = f"/v1/connections/{quote(name, safe='')}"
        result: dict[str, Any] = self._json("PATCH", path, json=body)
        return result

    def delete_connection(self, name: str) -> None:
        """Delete a connection (admin)."""
        self.request("DELETE", f"/v1/connections/{quote(name, safe='')}")

    # --- datasets --------------------------------------------------------------------------

    @staticmethod
    def _dataset_path(name: str) -> str:
        return "/v1/datasets/" + quote(name, safe="/")

    def push_dataset(
        self,
        name: str,
        content: bytes,
        *,
        fmt: str,
        message: str = "",
        description: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Upload a JSON, JSONL or CSV document as a version; return it and whether it is new."""
        media = {"json": "application/json", "jsonl": "application/x-ndjson", "csv": "text/csv"}
        params = {"message": message, "description": description}
        response = self.request(
            "POST",
            self._dataset_path(name) + "/versions",
            content=content,
            headers={"Content-Type": media[fmt]},
            params={k: v for k, v in params.items() if v is not None},
            timeout=max(self._http.timeout.read or 0.0, 120.0),
        )
        return response.json(), response.status_code == 201

    def publish_dataset(self, name: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Publish `{items, message, description}` as a version; return it and whether it is new."""
        response = self.request("POST", self._dataset_path(name) + "/versions", json=body)
        return response.json(), response.status_code == 201

    def list_datasets(self, **params: Any) -> dict[str, Any]:
        """List datasets (q, limit, offset)."""
        clean = {k: v for k, v in params.items() if v is not None}
        result: dict[str, Any] = self._json("GET", "/v1/datasets", params=clean)
        return result

    def list_dataset_versions(
        self, name: str, *, limit: int = 50, offset: int = 0
    ) -> dict[str, Any]:
        """List a dataset's versions, newest first."""
        path = self._dataset_path(name) + "/versions"
        result: dict[str, Any] = self._json("GET", path, params={"limit": limit, "offset": offset})
        return result

    def get_dataset(
        self,
        name: str,
        version: int | None = None,
        *,
        items: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> dict[str, Any]:
        """Return a dataset version (default: the latest), with its items if asked."""
        path = self._dataset_path(name)
        if version is not None:
            path += f"/versions/{version}"
        params: dict[str, Any] = {"items": items, "offset": offset}
        if limit is not None:
            params["limit"] = limit
        result: dict[str, Any] = self._json("GET", path, params=params)
        return result

    def diff_datasets(
        self, name: str, from_version: int, to_version: int, *, limit: int = 100
    ) -> dict[str, Any]:
        """Compare two versions of a dataset: items added, removed and changed."""
        params = {"from": from_version, "to": to_version, "limit": limit}
        result: dict[str, Any] = self._json(
            "GET", self._dataset_path(name) + "/diff", params=params
        )
        return result
