"""One call, one generation: a gateway call's ingested client span is stored as its twin."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tests.otlp_requests import genai, record
from tracing import analytics, dedupe, ingest
from tracing.analytics import UsageFilter
from tracing.metrics import Metrics
from tracing.pricing import PriceBook
from tracing.rollups.rebuild import rebuild


class FlatPrices:
    """Prices every model at $1 per token, so each call costs something."""

    def cost_per_token(
        self, *, model: str, prompt_tokens: int, completion_tokens: int
    ) -> tuple[float, float]:
        return float(prompt_tokens), float(completion_tokens)


def row(response_id: Any) -> dict[str, Any]:
    return {"attributes": {"gen_ai.response.id": response_id}, "response_id": None}


def test_gateway_ids_are_recognised() -> None:
    minted = dedupe.gateway_response_id()
    assert minted != dedupe.gateway_response_id()
    assert dedupe.is_gateway_response(minted)
    for other in ("chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", "chatcmpl-promptlane", "", None):
        assert not dedupe.is_gateway_response(other)


def test_twins_are_marked_and_every_response_id_kept() -> None:
    gateway = dedupe.gateway_response_id()
    rows = [row(gateway), row("chatcmpl-abc"), row(42), row(""), {"attributes": {}}]
    assert dedupe.mark_gateway_twins(rows) == 1
    assert [(r.get("response_id"), r.get("is_duplicate", False)) for r in rows] == [
        (gateway, True),
        ("chatcmpl-abc", False),
        (None, False),
        (None, False),
        (None, False),
    ]
    long = row("x" * 500)
    dedupe.mark_gateway_twins([long])
    assert long["response_id"] == "x" * 200  # the column's length


async def test_a_twin_is_stored_but_not_counted(session: AsyncSession) -> None:
    twin_id = dedupe.gateway_response_id()
    twin = record(genai(**{"gen_ai.response.id": twin_id}))
    plain = record(genai(**{"gen_ai.response.id": "chatcmpl-direct"}))
    prices = PriceBook(loader=FlatPrices)
    result = await ingest.ingest_spans(session, [twin, plain], prices=prices)
    assert result.stored == 2
    by_id = {g.response_id: g for g in result.generations}
    assert by_id[twin_id].is_duplicate is True
    assert by_id["chatcmpl-direct"].is_duplicate is False
    assert by_id[twin_id].cost_usd == by_id["chatcmpl-direct"].cost_usd == 150.0  # priced

    metrics = Metrics()
    ingest.observe(metrics, result)
    text = metrics.exposition().decode()
    costs = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("promptlane_cost_usd_total{")
    ]
    assert costs == [150.0]  # the direct call only: the gateway counted its own

    await session.flush()
    started = datetime.fromtimestamp(twin.start_ns / 1e9, UTC)  # both spans' (fixed) start
    window = {"start": started - timedelta(minutes=1), "end": started + timedelta(hours=1)}
    usage = await analytics.usage(session, group_by=["model"], **window)
    assert [(r.calls, r.cost_usd) for r in usage.rows] == [(1, 150.0)]
    assert await rebuild(session) == 2
    usage = await analytics.usage(session, group_by=["model"], **window)
    assert [(r.calls, r.cost_usd) for r in usage.rows] == [(1, 150.0)]  # rebuilt: still once
    listed = await analytics.list_generations(session, filters=UsageFilter(), **window)
    assert [g.response_id for g in listed.items] == ["chatcmpl-direct"]
    trace = await analytics.list_generations(session, trace_id=twin.trace_id)
    assert [(g.response_id, g.is_duplicate) for g in trace.items] == [(twin_id, True)]


def test_openinference_spans_name_their_response_in_output_value() -> None:
    gateway = dedupe.gateway_response_id()
    streamed = {"choices": [{"message": {"content": f'say "id": "{gateway}"'}}], "id": gateway}
    cases = [
        ({"output.value": json.dumps({"id": gateway, "choices": []})}, gateway),
        ({"output.value": json.dumps(streamed)}, gateway),  # the id after a long answer
        ({"output.value": json.dumps({"id": "chatcmpl-direct"})}, None),  # not parsed
        ({"output.value": json.dumps({"choices": [{"id": gateway}]})}, None),  # not top-level
        ({"output.value": f'{{"id": "{gateway}"'}, None),  # not JSON
        ({"output.value": json.dumps([gateway])}, None),
        ({"output.value": gateway + "[" * 200_000}, None),  # deeper than any parser goes
        ({"output.value": "[" * 200_000 + json.dumps({"id": gateway}) + "]" * 200_000}, None),
        (
            {"gen_ai.response.id": "chatcmpl-abc", "output.value": json.dumps({"id": gateway})},
            "chatcmpl-abc",
        ),
    ]
    for attributes, expected in cases:
        assert dedupe.span_response_id(attributes) == expected, attributes


async def test_an_openinference_twin_is_not_counted(session: AsyncSession) -> None:
    twin_id = dedupe.gateway_response_id()
    output = json.dumps({"id": twin_id, "object": "chat.completion"})
    twin = record(genai(**{"output.value": output, "output.mime_type": "application/json"}))
    result = await ingest.ingest_spans(session, [twin], prices=PriceBook(loader=FlatPrices))
    [stored] = result.generations
    assert (stored.response_id, stored.is_duplicate) == (twin_id, True)
