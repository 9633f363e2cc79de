"""Fixtures of the evaluation tests: the local OpenAI-compatible server, model clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.evals.fake_openai import FakeOpenAI
from tests.evals.model_helpers import ModelClients


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """Return a running local OpenAI-compatible server, stopped after the test."""
    server = FakeOpenAI().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def model_clients() -> AsyncIterator[ModelClients]:
    """Return a ModelClient factory; every client it made is closed after the test."""
    clients = ModelClients()
    yield clients
    for model in clients.made:
        await model.aclose()
