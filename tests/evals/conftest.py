"""Fixtures of the evaluation tests: the local OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.evals.fake_openai import FakeOpenAI


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """Return a running local OpenAI-compatible server, stopped after the test."""
    server = FakeOpenAI().start()
    try:
        yield server
    finally:
        server.stop()
