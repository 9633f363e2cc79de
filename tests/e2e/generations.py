"""Read generations back from a running server, waiting (bounded) for background writes."""

from __future__ import annotations

import time
from typing import Any

import httpx

HANG_GUARD = 60.0  # seconds: only a hung server takes this long


def generations(http: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    """Return the generations `GET /v1/generations` lists for `params` (up to 200)."""
    listed = http.get("/v1/generations", params={"limit": 200, **params})
    assert listed.status_code == 200, listed.text
    return list(listed.json()["items"])


def wait_for(http: httpx.Client, count: int, **params: Any) -> list[dict[str, Any]]:
    """Poll (bounded) until `count` generations match; return them."""
    deadline = time.monotonic() + HANG_GUARD
    while True:
        found = generations(http, **params)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)
