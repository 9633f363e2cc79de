"""Users' regular expressions meet text they did not choose: matched within a time limit."""

from __future__ import annotations

from typing import Any

import pytest

from evals.errors import ScorerError
from evals.schemas import ScorerSpec
from evals.scorers.context import ScorerContext
from evals.scorers.registry import build_scorers
from promptlane_client.errors import InvalidVariablesError, PatternTimeoutError
from promptlane_client.render import PromptContent, patterns, render_prompt
from prompts.schemas import VersionCreate

# Nested alternation the `regex` engine cannot simplify: exponential backtracking on a miss.
EVIL = r"(a|aa)+$"
VICTIM = "a" * 80 + "b"


def test_a_backtracking_pattern_is_stopped() -> None:
    with pytest.raises(PatternTimeoutError, match="took longer than"):
        patterns.search(patterns.compile_pattern(EVIL), VICTIM)
    assert patterns.search(patterns.compile_pattern(EVIL), "aaaa") is not None


def schema(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def test_a_variables_schema_pattern_cannot_stall_a_render() -> None:
    content = PromptContent(
        kind="text",
        template="Hi {{name}}",
        variables_schema=schema(name={"type": "string", "pattern": EVIL}),
    )
    assert render_prompt(content, {"name": "aa"}).text == "Hi aa"
    with pytest.raises(PatternTimeoutError):
        render_prompt(content, {"name": VICTIM})


def test_pattern_properties_are_refused_at_publish_and_at_render() -> None:
    body = {"template": "{{x}}", "variables_schema": {"patternProperties": {EVIL: {}}}}
    with pytest.raises(ValueError, match="patternProperties is not supported"):
        VersionCreate.model_validate(body)
    with pytest.raises(ValueError, match="is not a regular expression"):
        VersionCreate.model_validate(
            {"template": "{{x}}", "variables_schema": schema(x={"pattern": "a("})}
        )
    stored = PromptContent(
        kind="text", template="{{x}}", variables_schema={"patternProperties": {}}
    )
    with pytest.raises(InvalidVariablesError, match="patternProperties"):
        render_prompt(stored, {"x": "1"})


def scorer(spec: dict[str, Any]) -> Any:
    return build_scorers([ScorerSpec.model_validate(spec)], ScorerContext())[0]


@pytest.mark.parametrize(
    ("spec", "kwargs"),
    [
        ({"type": "regex", "params": {"pattern": EVIL}}, {}),
        ({"type": "regex", "params": {"pattern": EVIL, "full_match": True}}, {}),
        ({"type": "regex"}, {"expected": EVIL}),
        (
            {"type": "json_schema", "params": {"schema": {"type": "string", "pattern": EVIL}}},
            {},
        ),
        ({"type": "prompt_injection", "params": {"extra_markers": [EVIL]}}, {}),
    ],
)
async def test_a_scorer_with_a_backtracking_pattern_fails_its_item_and_moves_on(
    spec: dict[str, Any], kwargs: dict[str, Any]
) -> None:
    output = f'"{VICTIM}"' if spec["type"] == "json_schema" else VICTIM
    with pytest.raises(ScorerError, match="took longer than"):
        await scorer(spec).score(
            output=output, expected=kwargs.get("expected"), input={}, contexts=[], metadata={}
        )


async def test_over_http_a_slow_pattern_is_a_clear_refusal(client: Any) -> None:
    body = {
        "template": "Hi {{name}}",
        "variables_schema": schema(name={"type": "string", "pattern": EVIL}),
        "config": {"model": "offline/echo"},
    }
    assert (await client.post("/v1/prompts/re/dos/versions", json=body)).status_code == 201
    rendered = await client.post(
        "/v1/prompts/re/dos/render", json={"version": 1, "variables": {"name": VICTIM}}
    )
    assert rendered.status_code == 422, rendered.text
    assert rendered.json()["type"] == "urn:promptlane:problem:pattern-timeout"
    answer = await client.post(
        "/v1/chat/completions",
        json={"model": "promptlane/re/dos:1", "promptlane": {"variables": {"name": VICTIM}}},
    )
    assert answer.status_code == 400, answer.text
    assert "took longer than" in answer.json()["error"]["message"]
    refused = await client.post(
        "/v1/prompts/re/dos/versions",
        json={**body, "variables_schema": {"patternProperties": {"x": {}}}},
    )
    assert refused.status_code == 422
