"""Fixtures shared by the API tests."""

from __future__ import annotations

import httpx
import pytest

from tests.api.gates import make_gated


@pytest.fixture
async def gated(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A prompt with a failing v1 and a passing v2, a suite, and a production policy."""
    return await make_gated(client)
