"""Storing ingested spans: one batch insert, duplicates ignored, costs priced, metrics recorded."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from tests import factories
from tests.otlp_requests import genai, protobuf, record, span
from tests.tracing.test_metrics import sample
from tracing import ingest, inserts, pricing
from tracing.base import utc_now
from tracing.errors import InvalidPayloadError
from tracing.metrics import Metrics
from tracing.models import Generation
from tracing.pricing import PriceBook
from tracing.rows import generation_row

PRICES = {"gpt-4o-mini": (1e-6, 4e-6), "anthropic/claude-x": (3e-6, 1.5e-5)}


class FakeLitellm:
    """Prices a few models; raises for the rest, as litellm does for unmapped ones."""

    def __init__(self) -> None:
        self.priced: list[str] = []

    def cost_per_token(
        self, *, model: str, prompt_tokens: int, completion_tokens: int
    ) -> tuple[float, float]:
        self.priced.append(model)
        if model not in PRICES:
            raise ValueError(f"model {model} is not mapped")
        per_input, per_output = PRICES[model]
        return per_input * prompt_tokens, per_output * completion_tokens


@pytest.fixture
def fake() -> FakeLitellm:
    return FakeLitellm()


@pytest.fixture
def book(fake: FakeLitellm) -> PriceBook:
    return PriceBook(loader=lambda: fake)


@pytest.fixture
def statements(session: AsyncSession) -> Iterator[list[str]]:
    """Record the SQL statements sent to the database during the test."""
    seen: list[str] = []
    engine = session.get_bind()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    yield seen
    event.remove(engine, "before_cursor_execute", before)


async def stored(session: AsyncSession) -> list[Generation]:
    return list(await session.scalars(select(Generation).order_by(sa.text("id"))))


async def test_genai_spans_are_stored_in_one_insert_and_others_counted(
    session: AsyncSession, book: PriceBook, statements: list[str]
) -> None:
    spans = [record(genai()), record({"http.route": "/"}), record(genai(x=1))]
    result = await ingest.ingest_spans(session, spans, prices=book)
    assert (result.received, result.stored, result.duplicates, result.non_genai) == (3, 2, 0, 1)
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO GENERATIONS")]
    assert len(inserts) == 1, "one batch insert per request, not one per span"
    rows = await stored(session)
    assert [(g.id, g.span_id) for g in rows] == [(g.id, g.span_id) for g in result.generations]
    assert {g.source for g in rows} == {"ingest"}
    assert rows[1].attributes == {"gen_ai.request.temperature": 0.2, "x": 1}


async def test_duplicates_are_ignored_within_and_across_requests(
    session: AsyncSession, book: PriceBook
) -> None:
    first, second = record(genai()), record(genai())
    result = await ingest.ingest_spans(session, [first, second, first], prices=book)
    assert (result.stored, result.duplicates) == (2, 1)
    again = await ingest.ingest_spans(session, [second, record(genai())], prices=book)
    assert (again.stored, again.duplicates) == (1, 1)
    assert len(await stored(session)) == 3


async def test_an_empty_request_stores_nothing(session: AsyncSession, book: PriceBook) -> None:
    result = await ingest.ingest_spans(session, [], prices=book)
    assert (result.received, result.stored, result.generations) == (0, 0, [])


async def test_costs_come_from_the_span_else_the_price_map(
    session: AsyncSession, book: PriceBook, fake: FakeLitellm
) -> None:
    spans = [
        record(genai(**{"promptlane.cost_usd": 0.5})),
        record(genai()),  # response model unknown, request model priced
        record(genai(**{"gen_ai.request.model": "mystery", "gen_ai.response.model": None})),
        record(
            genai(
                **{
                    "gen_ai.provider.name": "anthropic",
                    "gen_ai.request.model": "claude-x",
                    "gen_ai.response.model": None,
                }
            )
        ),
        record(genai(**{"gen_ai.usage.input_tokens": None, "gen_ai.usage.output_tokens": None})),
    ]
    result = await ingest.ingest_spans(session, spans, prices=book)
    costs = [g.cost_usd for g in result.generations]
    assert costs == [
        0.5,
        pytest.approx(120 * 1e-6 + 30 * 4e-6),
        None,
        pytest.approx(120 * 3e-6 + 30 * 1.5e-5),
        None,
    ]
    assert [g.cost_usd for g in await stored(session)] == costs
    priced = list(fake.priced)
    await ingest.ingest_spans(session, [record(genai()), record(genai())], prices=book)
    assert fake.priced == priced, "prices are cached per model"


async def test_decode_batch_then_store(session: AsyncSession, book: PriceBook) -> None:
    body = protobuf(span(genai()), span({"db.system": "sqlite"}), resource={"service.name": "a"})
    encoding, batch = ingest.decode_batch(
        body, content_type="application/x-protobuf", content_encoding=None, max_bytes=10**6
    )
    assert (encoding, batch.received, batch.non_genai, len(batch.rows)) == ("protobuf", 2, 1, 1)
    result = await ingest.store_batch(session, batch, prices=book)
    assert result.generations[0].service_name == "a"


def test_grpc_messages_map_like_http_bodies() -> None:
    body = protobuf(span(genai()), span({"db.system": "sqlite"}), resource={"service.name": "a"})
    _, http = ingest.decode_batch(
        body, content_type="application/x-protobuf", content_encoding=None, max_bytes=10**6
    )
    grpc = ingest.decode_message(body)
    assert (grpc.received, grpc.non_genai) == (http.received, http.non_genai) == (2, 1)
    assert [{**row, "created_at": None} for row in grpc.rows.values()] == [
        {**row, "created_at": None} for row in http.rows.values()
    ]
    with pytest.raises(InvalidPayloadError, match="not an OTLP protobuf request"):
        ingest.decode_message(b"\xff\xff")


async def test_litellm_prices_are_read_offline() -> None:
    book = PriceBook()
    await book.prepare([("openai", "gpt-4o-mini"), (None, "surely-not-a-model")])
    litellm = pricing.load_litellm()
    assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    per_input, per_output = litellm.cost_per_token(
        model="gpt-4o-mini", prompt_tokens=1, completion_tokens=1
    )
    assert per_input > 0
    assert book.cost("openai", "gpt-4o-mini", 1000, 100) == pytest.approx(
        1000 * per_input + 100 * per_output
    )
    assert book.cost(None, "surely-not-a-model", 1000, 100) is None


def test_bundled_prices_match_litellm_without_importing_it() -> None:
    script = (
        "import sys; from tracing.pricing import bundled_costs, litellm_price;"
        "print(litellm_price('openai', 'gpt-4o-mini', loader=bundled_costs));"
        "print('litellm' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    price, imported = done.stdout.split("\n")[:2]
    assert imported == "False"
    litellm = pricing.load_litellm()
    for provider, model in [
        ("openai", "gpt-4o-mini"),
        (None, "openai/gpt-4o"),
        ("anthropic", "claude-haiku-4-5"),
        ("gcp.gemini", "gemini-2.5-flash"),
    ]:
        expected = pricing.litellm_price(provider, model, loader=lambda: litellm)
        assert expected is not None, model
        assert pricing.litellm_price(provider, model, loader=pricing.bundled_costs) == expected
    assert price == str(pricing.litellm_price("openai", "gpt-4o-mini", loader=lambda: litellm))
    assert pricing.litellm_price(None, "surely-not-a-model", loader=pricing.bundled_costs) is None


def test_evals_reuse_the_one_litellm_loader() -> None:
    from evals.llm.client import ensure_litellm

    assert ensure_litellm() is pricing.load_litellm()


def test_provider_names_map_to_litellm_prefixes() -> None:
    fake = FakeLitellm()
    assert (
        pricing.litellm_price("anthropic", "claude-x", loader=lambda: fake)
        == PRICES["anthropic/claude-x"]
    )
    assert fake.priced == ["claude-x", "anthropic/claude-x"]
    assert pricing.litellm_price("openai", "openai/nope", loader=lambda: fake) is None


def test_observe_records_calls_scores_flags_and_span_kinds() -> None:
    metrics = Metrics()
    attributes = genai(
        **{
            "promptlane.score.helpfulness": 0.5,
            "promptlane.score.latency_ms": 250,
            "promptlane.safety.flags": ["pii"],
            "promptlane.cost_usd": 0.25,
        }
    )
    row = generation_row(record(attributes), created_at=utc_now())
    assert row is not None
    (good,) = ingest.loaded([(row, 1)])
    result = ingest.IngestResult(received=5, generations=[good], duplicates=3, non_genai=1)
    ingest.observe(metrics, result)
    text = metrics.exposition().decode()
    labels = {"prompt": "support/triage", "version": "2", "label": "production"}
    model = {"gen_ai_request_model": "gpt-4o-mini"}
    assert sample(text, "promptlane_ingested_spans_total", kind="genai") == 1
    assert sample(text, "promptlane_ingested_spans_total", kind="duplicate") == 3
    assert sample(text, "promptlane_ingested_spans_total", kind="other") == 1
    tokens = "gen_ai_client_token_usage_sum"
    assert sample(text, tokens, gen_ai_token_type="input", **model, **labels) == 120
    assert sample(text, "gen_ai_client_operation_duration_seconds_sum", **labels) == 0.25
    assert sample(text, "promptlane_cost_usd_total", **model, **labels) == 0.25
    assert sample(text, "promptlane_eval_score_sum", metric="helpfulness", **labels) == 0.5
    assert "latency_ms" not in text, "only [0, 1] scores go to the score histogram"
    assert sample(text, "promptlane_safety_flags_total", flag="pii", **labels) == 1


async def test_hostile_values_are_stored_on_every_database(
    session: AsyncSession, book: PriceBook
) -> None:
    attributes = genai(
        **{
            "promptlane.prompt.name": "p\x00" + "x" * 500,
            "promptlane.prompt.label": "l" * 100,
            "promptlane.prompt.version": 2**40,
            "gen_ai.request.model": "m\x00" * 300,
            "gen_ai.usage.input_tokens": 2**35,
            "error.type": "E" * 500,
            "promptlane.safety.flags": ["\x00bad", "f" * 100],
            "promptlane.score.s\x00": 0.5,
            "nan": float("nan"),
            "inf": [float("inf")],
            "big": 2**62,
            "nul": "a\x00b",
            "gen_ai.input.messages": '[{"role": "user\\u0000", "parts": '
            '[{"type": "text", "content": "hi\\u0000"}]}]',
        }
    )
    result = await ingest.ingest_spans(session, [record(attributes, resource={})], prices=book)
    (row,) = await stored(session)
    assert row.id == result.generations[0].id
    assert row.prompt_name == "p" + "x" * 199
    assert row.input_messages == [{"role": "user", "content": "hi"}]
    assert row.attributes["nan"] == "nan"
    assert row.attributes["big"] == 2**62


async def test_a_batch_larger_than_one_insert_page_is_stored_whole(
    session: AsyncSession, book: PriceBook
) -> None:
    spans = [record(genai(**{"promptlane.cost_usd": 0.001})) for _ in range(2500)]
    result = await ingest.ingest_spans(session, spans, prices=book)
    assert result.stored == 2500
    assert len({g.id for g in result.generations}) == 2500
    assert {(g.trace_id, g.span_id) for g in result.generations} == {
        (s.trace_id, s.span_id) for s in spans
    }
    assert len(await stored(session)) == 2500


async def test_an_otlp_span_with_nul_and_over_long_values_is_stored_normalised(
    session: AsyncSession, book: PriceBook
) -> None:
    attributes = genai(
        **{
            "gen_ai.provider.name": "p\x00" * 100,
            "gen_ai.request.model": "m\x00" * 3000,
            "gen_ai.response.model": "r" * 5000,
            "gen_ai.response.finish_reasons": ["stop\x00" * 50],
            "error.type": "E\x00" * 600,
            "app.note\x00": "n\x00" * 5000,
            "app.list": ["i\x00" * 600, "j"],
            "gen_ai.output.messages": '[{"role": "assistant", "parts": '
            '[{"type": "text", "content": "ok\\u0000"}]}]',
        }
    )
    body = protobuf(span(attributes), resource={"service.name": "svc\x00" + "s" * 500})
    _, batch = ingest.decode_batch(
        body, content_type="application/x-protobuf", content_encoding=None, max_bytes=10**6
    )
    result = await ingest.store_batch(session, batch, prices=book)
    (row,) = await stored(session)
    assert row.id == result.generations[0].id
    assert row.service_name == "svc" + "s" * 197
    assert row.provider == "p" * 64
    assert (row.request_model, row.response_model) == ("m" * 200, "r" * 200)
    assert row.error_type == "E" * 200
    assert row.finish_reasons == ["stop" * 16]
    assert row.output_text == "ok"
    assert row.attributes["app.note"] == "n" * 1024
    assert row.attributes["app.list"] == ["i" * 256, "j"]


async def test_rows_are_normalised_at_the_insert_whoever_built_them(
    session: AsyncSession, book: PriceBook
) -> None:
    hostile = factories.generation_row(
        source="ingest",
        request_model="gpt\x00" + "x" * 5000,
        prompt_version=2**40,
        attributes={"k\x00": "v\x00"},
        scores={"s": float("nan")},
    )
    normal = factories.generation_row(source="ingest")
    batch = ingest.Batch(received=2, non_genai=0)
    batch.rows = {(r["trace_id"], r["span_id"]): r for r in (hostile, normal)}
    result = await ingest.store_batch(session, batch, prices=book)
    assert (result.stored, result.duplicates, result.dropped) == (2, 0, [])
    first, second = await stored(session)
    for row in (first, result.generations[0]):  # what was stored is what observers see
        assert row.request_model == ("gpt" + "x" * 5000)[:200]
        assert row.prompt_version == 2**31 - 1
        assert (row.attributes, row.scores) == ({"k": "v"}, {"s": None})
    assert second.request_model == "gpt-4o-mini"


async def test_a_row_that_cannot_be_stored_costs_the_others_nothing(
    session: AsyncSession, book: PriceBook
) -> None:
    rows = [factories.generation_row(source="ingest") for _ in range(3)]
    rows[1]["started_at"] = datetime(2026, 1, 1)  # naive: no column takes it
    batch = ingest.Batch(received=4, non_genai=1)
    batch.rows = {(r["trace_id"], r["span_id"]): r for r in rows}
    result = await ingest.store_batch(session, batch, prices=book)
    assert [g.span_id for g in result.generations] == [rows[0]["span_id"], rows[2]["span_id"]]
    assert (result.stored, result.duplicates, result.non_genai) == (2, 0, 1)
    assert result.dropped == [inserts.Dropped("ingest", "ValueError")]
    assert len(await stored(session)) == 2
    partial = ingest.export_response(result).partial_success  # what the exporter is told
    assert (partial.rejected_spans, partial.error_message) == (
        1,
        "1 span(s) could not be stored: ValueError",
    )
    metrics = Metrics()
    ingest.observe(metrics, result)
    text = metrics.exposition().decode()
    assert sample(text, "promptlane_generations_dropped_total", source="ingest") == 1
