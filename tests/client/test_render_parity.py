"""Client-side render, to_openai and to_langchain equal the server's render endpoint."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import openai
import pytest
from langchain_core.messages import convert_to_openai_messages

from promptlane_client import APIError, AsyncClient, Prompt
from promptlane_client.errors import InvalidVariablesError, MissingVariablesError
from tests.conftest import ADMIN_KEY

MUSTACHE: dict[str, Any] = {
    "messages": [
        {"role": "system", "content": "You help {{company}}.{{#urgent}} Be quick!{{/urgent}}"},
        {"role": "user", "name": "customer", "content": "{{ticket}} ({{meta.channel}})"},
        {"role": "assistant", "content": "{{^urgent}}Noted.{{/urgent}}{{count}} {{tags}}"},
    ],
    "config": {
        "model": "openai/gpt-4o-mini",
        "temperature": 0.2,
        "max_tokens": 64,
        "stop": ["END"],
        "user": "tests",
        "connection": "openai",  # the server's business: never sent by to_openai
    },
}
JINJA: dict[str, Any] = {
    "template_format": "jinja2",
    "messages": [
        {"role": "developer", "content": "You help {{ company }}{% if urgent %} fast{% endif %}."},
        {"role": "user", "content": "{% for t in tags %}[{{ t }}]{% endfor %} {{ ticket }}"},
    ],
    "config": {"model": "gpt-4o", "seed": 7, "response_format": {"type": "json_object"}},
}
TEXT: dict[str, Any] = {
    "template": "Summarise {{ticket}} for {{company}} in {{count}} words.",
    "variables_schema": {
        "type": "object",
        "properties": {"count": {"type": "integer", "minimum": 1}},
    },
}
OPTIONAL: dict[str, Any] = {  # optional variables: guarded uses and the schema's default
    "template_format": "jinja2",
    "messages": [
        {
            "role": "system",
            "content": "You help {{ company }} for {{ audience | default('engineers') }}"
            "{% if tone is defined %}, {{ tone }}{% endif %} in {{ lang }}.",
        },
        {"role": "user", "content": "{{ ticket }}"},
    ],
    "variables_schema": {
        "type": "object",
        "properties": {"lang": {"type": "string", "default": "English"}},
    },
}
PROMPTS = {
    "parity/mustache": MUSTACHE,
    "parity/jinja": JINJA,
    "parity/text": TEXT,
    "parity/optional": OPTIONAL,
}
VARIABLES: dict[str, Any] = {
    "company": "Tom & Jerry <Ltd> \"quoted\" 'single'",
    "ticket": "<script>alert('&amp;')</script>",
    "urgent": True,
    "count": 3,
    "tags": ["a<b", "c&d"],
    "meta": {"channel": "<email>"},
}


@pytest.fixture
async def sdk(client: httpx.AsyncClient, app: object) -> AsyncIterator[AsyncClient]:
    """Publish the prompts (production) and return the SDK client on the same app."""
    for name, body in PROMPTS.items():
        published = await client.post(f"/v1/prompts/{name}/versions", json=body)
        assert published.status_code == 201, published.text
        moved = await client.put(f"/v1/prompts/{name}/labels/production", json={"version": 1})
        assert moved.status_code == 200, moved.text
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with AsyncClient("http://promptlane.test", ADMIN_KEY, transport=transport) as c:
        yield c


def lc_messages(prompt: Prompt, variables: dict[str, Any]) -> list[dict[str, Any]]:
    value = prompt.to_langchain().invoke(variables)
    messages: list[dict[str, Any]] = convert_to_openai_messages(value.to_messages())
    return messages


@pytest.mark.parametrize("name", sorted(PROMPTS))
async def test_render_to_openai_and_to_langchain_equal_the_server(
    sdk: AsyncClient, name: str
) -> None:
    prompt = await sdk.get_prompt(name)
    server = await sdk.render_prompt(name, VARIABLES)
    assert (prompt.version, prompt.content_hash) == (server["version"], server["content_hash"])
    rendered = prompt.render(VARIABLES)
    assert rendered.messages == server["messages"]
    assert rendered.text == server["text"]
    assert "<script>alert('&amp;')</script>" in json.dumps(rendered.messages)  # not escaped
    kwargs = prompt.to_openai(VARIABLES)
    assert kwargs["messages"] == server["messages"]
    assert lc_messages(prompt, VARIABLES) == server["messages"]
    template = prompt.to_langchain()
    assert convert_to_openai_messages(template.format_messages(**VARIABLES)) == server["messages"]
    assert template.metadata == {
        "promptlane.prompt.name": name,
        "promptlane.prompt.version": 1,
        "promptlane.prompt.label": "production",
        "promptlane.prompt.content_hash": server["content_hash"],
    }


@pytest.mark.parametrize("name", sorted(PROMPTS))
async def test_a_missing_variable_fails_like_the_server(sdk: AsyncClient, name: str) -> None:
    prompt = await sdk.get_prompt(name)
    partial = {k: v for k, v in VARIABLES.items() if k != "ticket"}
    with pytest.raises(APIError) as server:
        await sdk.render_prompt(name, partial)
    assert server.value.status == 422
    with pytest.raises(MissingVariablesError) as local:
        prompt.render(partial)
    assert str(local.value) == server.value.detail == "missing variables: ticket"
    with pytest.raises(MissingVariablesError, match=r"^missing variables: ticket$"):
        prompt.to_openai(partial)
    with pytest.raises(MissingVariablesError, match=r"^missing variables: ticket$"):
        prompt.to_langchain().invoke(partial)
    with pytest.raises(MissingVariablesError, match=r"^missing variables: ticket$"):
        prompt.to_langchain().format_messages(**partial)


async def test_optional_variables_left_out_render_like_the_server(sdk: AsyncClient) -> None:
    given = {"company": "Acme", "ticket": "refund"}
    server = await sdk.render_prompt("parity/optional", given)
    assert server["messages"][0]["content"] == "You help Acme for engineers in English."
    prompt = await sdk.get_prompt("parity/optional")
    assert prompt.render(given).messages == server["messages"]
    assert prompt.to_openai(given)["messages"] == server["messages"]
    template = prompt.to_langchain()
    assert sorted(template.input_variables) == ["company", "ticket"]
    assert sorted(template.optional_variables) == ["audience", "lang", "tone"]
    assert lc_messages(prompt, given) == server["messages"]


async def test_schema_errors_match_the_server(sdk: AsyncClient) -> None:
    prompt = await sdk.get_prompt("parity/text")
    bad = {**VARIABLES, "count": 0}
    with pytest.raises(APIError) as server:
        await sdk.render_prompt("parity/text", bad)
    with pytest.raises(InvalidVariablesError) as local:
        prompt.render(bad)
    assert server.value.detail == str(local.value)
    assert [e["pointer"] for e in server.value.errors] == [p.pointer for p in local.value.errors]


async def test_to_openai_is_accepted_by_the_openai_sdk(sdk: AsyncClient) -> None:
    sent: list[dict[str, Any]] = []

    def llm(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json=completion())

    http = httpx.Client(transport=httpx.MockTransport(llm))  # never touches the network
    llm_client = openai.OpenAI(api_key="sk-test", base_url="http://llm.test/v1", http_client=http)
    server = await sdk.render_prompt("parity/mustache", VARIABLES)
    prompt = await sdk.get_prompt("parity/mustache")
    reply = llm_client.chat.completions.create(**prompt.to_openai(VARIABLES))
    assert reply.choices[0].message.content == "ok"
    assert sent == [
        {
            "model": "gpt-4o-mini",
            "messages": server["messages"],
            "temperature": 0.2,
            "max_tokens": 64,
            "stop": ["END"],
            "user": "tests",
        }
    ]
    jinja = await sdk.get_prompt("parity/jinja")
    llm_client.chat.completions.create(**jinja.to_openai(VARIABLES, model="gpt-4.1", seed=None))
    assert sent[1]["model"] == "gpt-4.1"
    assert sent[1]["response_format"] == {"type": "json_object"}
    assert "seed" not in sent[1]  # an override of None drops the config's value
    llm_client.close()


def completion() -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "ok"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    }
