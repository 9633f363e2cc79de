"""POST /v1/chat/completions: OpenAI shapes, config merges, errors, generations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.db import Database
from api.server.app import create_app
from evals.errors import InvalidGatewayRequestError
from evals.gateway.calls import merge_config
from evals.gateway.schemas import PromptReference, parse_model
from prompts.policy import Role
from tests.api.gateway.conftest import (
    ECHO,
    PROMPT,
    URL,
    VARIABLES,
    assert_openai_error,
    gateway_of,
    generations,
    request,
)
from tests.conftest import auth, make_settings
from tests.factories import chat_body
from tests.tracing.conftest import Traced
from tracing import semconv
from tracing.dedupe import is_gateway_response
from tracing.models import Generation

# --- the model reference and the config merge (no HTTP) -----------------------------------


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-4o-mini", None),
        ("openai/gpt-4o-mini", None),
        ("promptlane/a/b", PromptReference("a/b")),
        ("promptlane/a/b@staging", PromptReference("a/b", label="staging")),
        ("promptlane/a/b:12", PromptReference("a/b", version=12)),
    ],
)
def test_model_references_parse(model: str, expected: PromptReference | None) -> None:
    assert parse_model(model) == expected


@pytest.mark.parametrize(
    "model",
    ["promptlane/", "promptlane/Bad Name", "promptlane/a:0", "promptlane/a:x", "promptlane/a@"],
)
def test_bad_model_references_are_refused(model: str) -> None:
    with pytest.raises(InvalidGatewayRequestError) as caught:
        parse_model(model)
    assert caught.value.param == "model"


def test_the_request_wins_over_the_version_config() -> None:
    base = {"model": "m", "connection": "c", "temperature": 0.7, "max_tokens": 5, "top_p": 0.5}
    merged = merge_config(base, {"temperature": 0.0, "presence_penalty": 0.5, "user": "u"})
    assert merged == {
        "model": "m",
        "connection": "c",
        "temperature": 0.0,
        "max_tokens": 5,
        "top_p": 0.5,
        "presence_penalty": 0.5,
        "user": "u",
    }


def test_a_legacy_config_merges_its_known_parameters_only() -> None:
    base = {
        "model": "openai/m",
        "api_base": "http://evil/v1",
        "extra": {"presence_penalty": 1, "api_key": "sk-stolen", "base_url": "http://evil"},
    }
    merged = merge_config(base, {"temperature": 0.0})
    assert merged == {"model": "openai/m", "presence_penalty": 1, "temperature": 0.0}


# --- non-streamed calls ---------------------------------------------------------------------


async def test_a_prompt_reference_answers_in_openai_shape(
    seeded: httpx.AsyncClient, app: FastAPI, db: Database, traced: Traced
) -> None:
    response = await seeded.post(URL, json=request(), headers=auth(Role.READER))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["id"]
    choice = body["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": VARIABLES["ticket"]}
    assert choice["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    [row] = await generations(app, db)
    assert (row.prompt_name, row.prompt_version, row.prompt_label) == (PROMPT, 1, "production")
    assert row.request_model == "offline/echo"
    assert row.output_tokens == usage["completion_tokens"]
    assert row.cost_usd is not None
    assert row.cost_usd > 0
    assert row.is_error is False
    assert row.input_messages is None  # record_content is off
    assert row.output_text is None
    assert row.response_id == body["id"]  # the gateway's own id: a client span's twin key
    assert is_gateway_response(body["id"])
    assert response.headers[semconv.GATEWAY_RESPONSE_ID_HEADER] == body["id"]
    assert float(response.headers[semconv.GATEWAY_COST_HEADER]) == row.cost_usd  # not in the body
    [span] = [s for s in traced.spans() if s.name == "chat offline/echo"]  # type: ignore[attr-defined]
    assert (span.context.trace_id, span.context.span_id) == (  # type: ignore[attr-defined]
        int(row.trace_id, 16),
        int(row.span_id, 16),
    )
    assert span.attributes[semconv.PROMPT_NAME] == PROMPT  # type: ignore[attr-defined]


async def test_a_callers_traceparent_parents_the_chat_span(
    seeded: httpx.AsyncClient, app: FastAPI, db: Database, traced: Traced
) -> None:
    trace_id, parent_id = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    headers = {"traceparent": f"00-{trace_id}-{parent_id}-01"}
    response = await seeded.post(URL, json=request(), headers=headers)  # a verified key
    assert response.status_code == 200, response.text
    [span] = [s for s in traced.spans() if s.name == "chat offline/echo"]  # type: ignore[attr-defined]
    assert span.context.trace_id == int(trace_id, 16)  # type: ignore[attr-defined]
    assert span.parent.span_id == int(parent_id, 16)  # type: ignore[attr-defined]
    [row] = await generations(app, db)
    assert (row.trace_id, row.parent_span_id) == (trace_id, parent_id)


async def test_the_gateway_and_get_share_one_resolve(
    seeded: httpx.AsyncClient, traced: Traced
) -> None:
    assert (await seeded.post(URL, json=request(), headers=auth(Role.READER))).status_code == 200
    fetched = await seeded.get(f"/v1/prompts/{PROMPT}", headers=auth(Role.READER))
    assert fetched.json()["version"] == 1
    [resolve] = [s for s in traced.spans() if s.name == "prompt resolve"]  # type: ignore[attr-defined]
    assert resolve.attributes[semconv.PROMPT_LABEL] == "production"
    assert resolve.attributes[semconv.PROMPT_CONTENT_HASH] == fetched.json()["content_hash"]


async def test_version_and_label_references_select_their_version(
    seeded: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    for model in (f"promptlane/{PROMPT}:2", f"promptlane/{PROMPT}@staging"):
        response = await seeded.post(URL, json=request(model))
        assert response.status_code == 200, response.text
        await gateway_of(app).join()
    rows = await generations(app, db)
    assert [(r.prompt_version, r.prompt_label) for r in rows] == [(2, None), (2, "staging")]
    assert [r.output_tokens for r in rows] == [9, 9]  # version 2's config.offline


async def test_request_messages_follow_the_rendered_ones_and_overrides_win(
    seeded: httpx.AsyncClient, app: FastAPI, db: Database, traced: Traced
) -> None:
    extra = [{"role": "assistant", "content": "noted"}, {"role": "user", "content": "any news"}]
    body = request(messages=extra, temperature=1.5, max_tokens=7, api_base="http://evil")
    response = await seeded.post(URL, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "any news"
    [span] = [s for s in traced.spans() if s.name == "chat offline/echo"]  # type: ignore[attr-defined]
    attributes = span.attributes  # type: ignore[attr-defined]
    assert attributes[semconv.GEN_AI_REQUEST_TEMPERATURE] == 1.5
    assert attributes[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 7
    [row] = await generations(app, db)
    assert row.input_chars == sum(
        len(t) for t in ("You triage tickets for Acme.", VARIABLES["ticket"], "noted", "any news")
    )


async def test_top_level_variables_are_accepted(seeded: httpx.AsyncClient) -> None:
    body = {"model": f"promptlane/{PROMPT}", "variables": VARIABLES}
    response = await seeded.post(URL, json=body)
    assert response.status_code == 200, response.text


async def test_a_plain_model_is_proxied(
    seeded: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    body = {"model": "offline/echo", "messages": [{"role": "user", "content": "hi there"}]}
    response = await seeded.post(URL, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "hi there"
    [row] = await generations(app, db)
    assert (row.prompt_name, row.request_model) == (None, "offline/echo")


async def scored_online(
    database_url: str,
    tmp_path: Path,
    db: Database,
    *,
    record_content: bool,
    calls: tuple[str, ...] = (PROMPT,),
    stream: bool = False,
) -> list[Generation]:
    """Call `calls` prompts (all echo) on an app scoring PROMPT's calls; return the rows after."""
    traced = Traced(record_content=record_content)
    # The app shares the test's one connection: the gateway writes every row in one flush (at
    # join), so its writer and the online evaluator never use the connection at once.
    settings = make_settings(
        database_url, tmp_path, online_eval_concurrency=1, gateway_flush_interval=60
    )
    application = create_app(settings, database=db, tracing=traced.handle)
    spec = {"prompt": PROMPT, "label": None, "sample_rate": 1.0, "scorers": [{"type": "pii"}]}
    try:
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://t", headers=auth(Role.ADMIN)
            ) as client:
                for name in dict.fromkeys((PROMPT, *calls)):
                    published = await client.post(
                        f"/v1/prompts/{name}/versions", json=chat_body(config=ECHO)
                    )
                    assert published.status_code == 201
                online = await client.put("/v1/online-evaluations", json=spec)
                assert online.status_code == 200, online.text
                for name in calls:
                    body = {**request(f"promptlane/{name}:1"), "stream": stream}
                    response = await client.post(URL, json=body)
                    assert response.status_code == 200, response.text
                await gateway_of(application).join()
                await application.state.services.online_evaluator.join()
    finally:
        traced.handle.shutdown()
    return await generations(application, db)


async def test_content_is_stored_and_scored_online_when_recording_is_on(
    database_url: str, tmp_path: Path, db: Database
) -> None:
    [row] = await scored_online(database_url, tmp_path, db, record_content=True)
    assert row.online_eval == "scored"
    assert row.output_text == VARIABLES["ticket"]
    assert row.input_messages == [
        {"role": "system", "content": "You triage tickets for Acme."},
        {"role": "user", "content": VARIABLES["ticket"]},
    ]


@pytest.mark.parametrize("stream", [False, True])
async def test_sampled_calls_keep_content_until_scored_when_recording_is_off(
    database_url: str, tmp_path: Path, db: Database, stream: bool
) -> None:
    calls = (PROMPT, PROMPT, "unsampled")
    rows = await scored_online(
        database_url, tmp_path, db, record_content=False, calls=calls, stream=stream
    )
    assert len(rows) == 3
    for row in rows:
        assert (row.input_messages, row.output_text) == (None, None)
        sampled = row.prompt_name == PROMPT
        assert row.online_eval == ("scored" if sampled else None)
        if sampled:  # the scorer read the answer: no "no output text" failure
            assert row.scores["pii"]["value"] == 1.0
            assert semconv.ONLINE_EVAL_REASON not in row.attributes


# --- errors: OpenAI's shape and status codes, nothing stored -----------------------------------


@pytest.mark.parametrize(
    "model",
    [f"promptlane/{PROMPT}@nowhere", f"promptlane/{PROMPT}:99", "promptlane/no/such-prompt"],
)
async def test_unknown_prompts_versions_and_labels_are_404(
    seeded: httpx.AsyncClient, app: FastAPI, db: Database, model: str
) -> None:
    error = assert_openai_error(await seeded.post(URL, json=request(model)), 404)
    assert error["code"] == "model_not_found"
    assert await generations(app, db) == []


async def test_missing_variables_are_400_and_named(
    seeded: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    body = {"model": f"promptlane/{PROMPT}", "promptlane": {"variables": {"company": "Acme"}}}
    error = assert_openai_error(await seeded.post(URL, json=body), 400)
    assert "ticket" in error["message"]
    assert error["param"] == "promptlane.variables"
    assert await generations(app, db) == []


async def test_optional_variables_may_be_left_out_and_render_like_the_server(
    seeded: httpx.AsyncClient,
) -> None:
    body = {
        "template_format": "jinja2",
        "messages": [
            {"role": "system", "content": "For {{ audience | default('engineers') }}."},
            {"role": "user", "content": "{{ ticket | default('no ticket') }}{{ suffix }}"},
        ],
        "variables_schema": {"properties": {"suffix": {"type": "string", "default": "!"}}},
        "config": ECHO,
    }
    assert (await seeded.post("/v1/prompts/optional/versions", json=body)).status_code == 201
    render = {"version": 1, "variables": {}}
    rendered = await seeded.post("/v1/prompts/optional/render", json=render)
    assert rendered.status_code == 200, rendered.text
    assert rendered.json()["messages"][1]["content"] == "no ticket!"
    call = {"model": "promptlane/optional:1", "promptlane": {"variables": {}}}
    response = await seeded.post(URL, json=call, headers=auth(Role.READER))
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "no ticket!"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": []}, "model"),
        ({"model": "offline/echo", "messages": "hi"}, "messages"),
        ({"model": "offline/echo", "messages": []}, "messages"),
        ({"model": "offline/echo", "messages": [{"role": "robot", "content": "x"}]}, None),
        ({"model": "offline/echo", "messages": [{"role": "user", "content": "x"}], "n": 2}, "n"),
        ({"model": "promptlane/Not Valid"}, "model"),
        ({"model": f"promptlane/{PROMPT}", "promptlane": {"vars": {}}}, None),
    ],
)
async def test_bad_bodies_are_400(
    seeded: httpx.AsyncClient, app: FastAPI, db: Database, body: dict[str, Any], param: str | None
) -> None:
    error = assert_openai_error(await seeded.post(URL, json=body), 400)
    assert error["type"] == "invalid_request_error"
    if param is not None:
        assert error["param"] == param
    assert await generations(app, db) == []


async def test_a_body_that_is_not_json_is_400(seeded: httpx.AsyncClient) -> None:
    response = await seeded.post(
        URL, content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert_openai_error(response, 400)


@pytest.mark.parametrize("header", ["", "Bearer pl_" + "z" * 40, "Basic dXNlcjpwYXNz"])
async def test_bad_keys_are_401(
    seeded: httpx.AsyncClient, app: FastAPI, db: Database, header: str
) -> None:
    response = await seeded.post(URL, json=request(), headers={"Authorization": header})
    error = assert_openai_error(response, 401)
    assert error["type"] == "authentication_error"
    assert response.headers["www-authenticate"] == "Bearer"
    assert await generations(app, db) == []


async def test_other_routes_keep_problem_json(seeded: httpx.AsyncClient) -> None:
    response = await seeded.get("/v1/prompts/no/such-prompt")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("fail_with", "status"), [("rate_limit", 429), ("server_error", 502), ("timeout", 504)]
)
async def test_provider_failures_map_to_openai_statuses(
    seeded: httpx.AsyncClient, app: FastAPI, db: Database, fail_with: str, status: int
) -> None:
    config = {**ECHO, "offline": {"fail_rate": 1.0, "fail_with": fail_with}}
    await seeded.post("/v1/prompts/failing/versions", json=chat_body(config=config))
    assert_openai_error(await seeded.post(URL, json=request("promptlane/failing:1")), status)
    [row] = await generations(app, db)
    assert row.is_error is True
    assert row.error_type
    assert row.prompt_name == "failing"


async def test_hostile_models_cost_other_callers_nothing(
    seeded: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    gateway_of(app).writer.flush_interval = 60  # every call below lands in one flush window
    hi = [{"role": "user", "content": "hi"}]
    hostile = ["offline/echo\x00", "offline/" + "e" * 250, "offline/" + "e" * 5000]
    normal = [await seeded.post(URL, json=request())]
    for model in hostile:
        # Refused at the edge, or answered (a failed call, here: no such offline model).
        response = await seeded.post(URL, json={"model": model, "messages": hi})
        assert response.status_code < 500, response.text
    normal.append(await seeded.post(URL, json=request()))
    assert [r.status_code for r in normal] == [200, 200]
    rows = await generations(app, db)
    assert [r.prompt_name for r in (rows[0], rows[-1])] == [PROMPT, PROMPT]
    # The hostile calls that got past the edge are stored, normalised; none was dropped.
    recorded = {r.request_model for r in rows[1:-1]}
    assert recorded <= {m.replace("\x00", "")[:200] for m in hostile}
    assert (
        "promptlane_generations_dropped_total{"
        not in app.state.services.metrics.exposition().decode()
    )
