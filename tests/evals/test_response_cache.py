"""The response cache on the test database (SQLite or PostgreSQL)."""

from __future__ import annotations

import dataclasses

from api.db import Database
from evals.llm.cache import ResponseCache
from evals.llm.client import Completion


def completion(text: str = "billing", **overrides: object) -> Completion:
    values: dict[str, object] = {
        "text": text,
        "model": "offline/scripted",
        "input_tokens": 12,
        "output_tokens": 2,
        "cost_usd": 1.6e-6,
        "latency_ms": 41.5,
        "finish_reason": "stop",
        "attempts": 2,
        "raw": {"id": "chatcmpl-1"},
    }
    values.update(overrides)
    return Completion(**values)  # type: ignore[arg-type]


async def test_round_trip_marks_answers_cached_and_keeps_the_original_figures(db: Database) -> None:
    cache = ResponseCache(db.writer)
    original = completion()
    await cache.put_many({"a" * 64: ("offline/scripted", original)})
    found = await cache.get_many(["a" * 64, "b" * 64])
    assert set(found) == {"a" * 64}
    cached = found["a" * 64]
    assert cached.is_cached is True
    assert dataclasses.replace(cached, is_cached=False) == original
    assert (cached.latency_ms, cached.cost_usd) == (41.5, 1.6e-6)


async def test_an_existing_key_keeps_its_first_answer(db: Database) -> None:
    cache = ResponseCache(db.writer)
    await cache.put_many({"k": ("offline/scripted", completion("first"))})
    await cache.put_many(
        {"k": ("offline/scripted", completion("second")), "k2": ("m", completion("x"))}
    )
    found = await cache.get_many(["k", "k2", "k"])
    assert (found["k"].text, found["k2"].text) == ("first", "x")


async def test_many_keys_are_read_and_written_in_chunks(db: Database) -> None:
    cache = ResponseCache(db.writer)
    entries = {f"key-{i:05d}": ("offline/echo", completion(f"answer {i}")) for i in range(1_203)}
    await cache.put_many(entries)
    found = await cache.get_many(list(entries))
    assert len(found) == 1_203
    assert found["key-01202"].text == "answer 1202"
    small = ResponseCache(db.writer, chunk_size=2)
    assert len(await small.get_many(["key-00000", "key-00001", "key-00002", "nope"])) == 3


async def test_answers_the_database_cannot_store_are_skipped(db: Database) -> None:
    cache = ResponseCache(db.writer)
    await cache.put_many({"nul": ("offline/echo", completion("a\x00b")), "ok": ("m", completion())})
    assert set(await cache.get_many(["nul", "ok"])) == {"ok"}


async def test_nothing_to_do_touches_nothing(db: Database) -> None:
    cache = ResponseCache(db.writer)
    await cache.put_many({})
    assert await cache.get_many([]) == {}
