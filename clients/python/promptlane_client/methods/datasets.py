"""Dataset methods: uploads, versions, diffs, and curation from recorded calls."""

from __future__ import annotations

from typing import Any

from promptlane_client import endpoints
from promptlane_client.methods import AsyncSends, Sends


class DatasetMethods(Sends):
    """Client's dataset methods."""

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
        return self._send(endpoints.push_dataset(name, content, fmt, message, description))

    def publish_dataset(self, name: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Publish `{items, message, description}` as a version; return it and whether it is new."""
        return self._send(endpoints.publish_dataset(name, body))

    def list_datasets(self, **params: Any) -> dict[str, Any]:
        """List datasets (q, archived, limit, offset)."""
        return self._send(endpoints.list_datasets(params))

    def list_dataset_versions(
        self, name: str, *, limit: int = 50, offset: int = 0
    ) -> dict[str, Any]:
        """List a dataset's versions, newest first."""
        return self._send(endpoints.list_dataset_versions(name, limit, offset))

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
        return self._send(endpoints.get_dataset(name, version, items, limit, offset))

    def diff_datasets(
        self, name: str, from_version: int, to_version: int, *, limit: int = 100
    ) -> dict[str, Any]:
        """Compare two versions of a dataset: items added, removed and changed."""
        return self._send(endpoints.diff_datasets(name, from_version, to_version, limit))

    def add_from_generations(self, name: str, **selection: Any) -> dict[str, Any]:
        """Add recorded calls as items of a new dataset version; return what was added.

        Select calls by `ids` or by `prompt` (with `version`, `label`, `errors`, `start`, `end`,
        `score={"name": ..., "below": ...}`, `safety_flag`, `limit`); `dry_run=True` stores
        nothing. Calls that cannot become items are listed in `skipped` with the reason.
        """
        return self._send(endpoints.add_from_generations(name, selection))


class AsyncDatasetMethods(AsyncSends):
    """AsyncClient's dataset methods: the same calls as `DatasetMethods`, awaited."""

    async def add_from_generations(self, name: str, **selection: Any) -> dict[str, Any]:
        """Add recorded calls as items of a new dataset version; return what was added.

        The selection is `Client.add_from_generations`'s.
        """
        return await self._send(endpoints.add_from_generations(name, selection))
